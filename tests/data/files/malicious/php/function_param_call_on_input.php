<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
function sg_helper($cb) {
    $cb($_POST['sg_defanged']);
}
sg_helper('sg_' . 'noop');
