<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
@error_reporting(0);
$µ³0· = '0';
$µ³1· = '1';
$µ³2· = '2';
$µ³3· = '3';
$µ³4· = '4';
$µ³5· = '5';
$µ³6· = '6';
$µ³7· = '7';
$µ³8· = '8';
$µ³9· = '9';
$µ³10· = '10';
$µ³11· = '11';
$GLOBALS['µ³t']['·a'] = 'base64_decode';
$µx = $GLOBALS['µ³t']['·a']('ZGVmYW5nZWQ=');
return(eval($µx));
