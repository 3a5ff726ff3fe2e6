<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$GLOBALS['sg1'] = array('base64_decode', 'strrev');
$x = $GLOBALS['sg1'][0]('ZGVmYW5nZWQ=');
$y = $GLOBALS['sg1'][1]($x);
