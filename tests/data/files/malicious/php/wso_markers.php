<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$default_action = 'FilesMan';
$default_use_ajax = true;
function WSOsetcookie($k, $v) { $_COOKIE[$k] = $v; }
