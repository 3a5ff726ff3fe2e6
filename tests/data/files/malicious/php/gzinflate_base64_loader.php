<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
eval(gzinflate(base64_decode('S03OyFdQL87IL0gvTSxKUUhJTUvMS09NUShOzC3ISVW3BgA=')));
