// ShopGuard rules: PHP backdoors and webshells. Our own work, Apache-2.0.

rule SG_PHP_Exec_Request_Input : php backdoor
{
    meta:
        family = "php-backdoor"
        severity = "critical"
        confidence = "high"
        description = "Runs code or commands taken straight from the web request (query, form, cookie or header)"
    strings:
        $call = /\b(eval|assert|create_function|system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec)\s*(\/\*[^*]{0,40}\*\/\s*)?\(\s*@?\s*((stripslashes|base64_decode|urldecode|rawurldecode|trim|str_rot13|gzinflate|gzuncompress|hex2bin|strrev)\s*\(\s*@?\s*)*(\$_(GET|POST|REQUEST|COOKIE|SERVER\s*\[\s*['"]HTTP_)|getallheaders\s*\(\s*\)\s*\[)/ nocase
        $tick = /(=|echo|print|return|\()\s*`\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/
        $cf = /\bcreate_function\s*\([^;]{0,80}\$_(GET|POST|REQUEST|COOKIE)/ nocase
        $incl = /\b(include|require)(_once)?\s*\(?\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
    condition:
        filekind != "binary" and any of them
}

rule SG_PHP_Request_Variable_Function : php backdoor
{
    meta:
        family = "php-backdoor"
        severity = "critical"
        confidence = "high"
        description = "Calls a function whose name comes from the web request"
    strings:
        $direct = /\$_(GET|POST|REQUEST|COOKIE)\s*\[\s*['"]?[\w-]{1,40}['"]?\s*\]\s*\(/
        $braced = /\$\{\s*['"]_(GET|POST|REQUEST|COOKIE)['"]\s*\}\s*\[[^\]]{1,40}\]\s*\(/
    condition:
        filekind != "binary" and any of them
}

rule SG_PHP_Request_Callback : php backdoor
{
    meta:
        family = "php-backdoor"
        severity = "critical"
        confidence = "high"
        description = "Hands a function name taken from the web request to a PHP callback (a hidden way to run code)"
    strings:
        $first = /\b(call_user_func(_array)?|array_map|array_filter|array_walk(_recursive)?|u[ak]?sort|register_shutdown_function|register_tick_function|iterator_apply|forward_static_call(_array)?|ob_start)\s*\(\s*@?\s*(\(string\)\s*)?(stripslashes\s*\(\s*)?\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
        $varcb = /\b(array_(diff|intersect)_u(key|assoc)|array_u(diff|intersect)(_u?assoc)?)\s*\([^;]{0,300}\$_(GET|POST|REQUEST|COOKIE|SERVER)[^;]{0,200},\s*\$\w{1,30}\s*\)/ nocase
        $last = /\b(array_(diff|intersect)_u(key|assoc)|array_u(diff|intersect)(_u?assoc)?|array_filter|array_reduce|array_walk)\s*\([^;]{0,300},\s*@?\s*(\(string\)\s*)?\$_(GET|POST|REQUEST|COOKIE)\s*\[[^\]]{1,40}\]\s*\)/ nocase
    condition:
        filekind != "binary" and any of them
}

rule SG_PHP_Variable_Call_On_Input : php backdoor
{
    meta:
        family = "php-backdoor"
        severity = "high"
        confidence = "medium"
        description = "Calls a function held in a variable directly on web-request input (the classic hidden assert/eval call)"
    strings:
        $a = /[^\w>:$]\$[A-Za-z_]\w{0,29}\s*\(\s*@?\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/
    condition:
        filekind == "php" and $a
}

rule SG_PHP_Eval_Of_Decoder : php obfuscation
{
    meta:
        family = "php-obfuscated-loader"
        severity = "critical"
        confidence = "high"
        description = "Decodes hidden code and runs it (eval of base64/gzinflate/str_rot13 output)"
    strings:
        $a = /\b(eval|assert|create_function)\s*(\/\*[^*]{0,40}\*\/\s*)?\(\s*@?\s*['"]?\s*\.?\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|rawurldecode|hex2bin|convert_uudecode)\s*\(/ nocase
        $b = /\beval\s*\(\s*\?>\s*['"]?\s*\.\s*(gzinflate|base64_decode|file_get_contents)/ nocase
    condition:
        filekind != "binary" and any of them
}

rule SG_PHP_Preg_Replace_Eval : php backdoor
{
    meta:
        family = "php-backdoor"
        severity = "high"
        confidence = "high"
        description = "Uses preg_replace with the /e modifier, which runs the replacement as code"
    strings:
        $e = /preg_replace\s*\(\s*['"][\/#|~!@%][^'"\n]{0,200}[\/#|~!@%][imsxADSUXJu]{0,6}e[imsxADSUXJu]{0,6}['"]\s*,/
    condition:
        filekind != "binary" and $e
}

rule SG_PHP_Encoded_Function_Names : php obfuscation
{
    meta:
        family = "php-obfuscated-loader"
        severity = "high"
        confidence = "high"
        description = "Spells dangerous function names in hex, octal, reversed or rot13 form to hide them"
    strings:
        $hex_eval = "\\x65\\x76\\x61\\x6c" nocase
        $hex_assert = "\\x61\\x73\\x73\\x65\\x72\\x74" nocase
        $hex_b64 = "\\x62\\x61\\x73\\x65\\x36\\x34" nocase
        $hex_system = "\\x73\\x79\\x73\\x74\\x65\\x6d" nocase
        $hex_gzinf = "\\x67\\x7a\\x69\\x6e\\x66" nocase
        $hex_create = "\\x63\\x72\\x65\\x61\\x74\\x65\\x5f" nocase
        $oct_eval = "\\145\\166\\141\\154"
        $oct_b64 = "\\142\\141\\163\\145\\66\\64"
        $rot_b64 = "onfr64_qrpbqr" nocase
        $rot_gzinf = "tmvasyngr" nocase
        $rot_eval = /['"]riny['"]/ nocase
        $rev_b64 = "edoced_46esab" nocase
        $rev_gzinf = "etalfnizg" nocase
        $rev_create = "noitcnuf_etaerc" nocase
        $rev_eval = /strrev\s*\(\s*['"](lave|tressa)['"]/ nocase
    condition:
        (filekind == "php" or filekind == "text" or filekind == "config") and any of them
}

rule SG_PHP_Webshell_Markers : php webshell
{
    meta:
        family = "php-webshell"
        severity = "critical"
        confidence = "high"
        description = "Contains the markers of a well-known webshell (a remote control panel for attackers)"
    strings:
        $ = "FilesMan"
        $ = "b374k" nocase
        $ = "c99shell" nocase
        $ = "c99_buff_prepare"
        $ = "r57shell" nocase
        $ = "IndoXploit" nocase
        $ = "WSOsetcookie"
        $ = "wso_ex("
        $ = "AnonymousFox" nocase
        $ = "ALFA_DATA"
        $ = "Tiny File Manager" nocase
        $ = "P.A.S. Fork"
        $ = "madspotshell" nocase
        $ = "Sh3ll Uploader" nocase
        $ = "BlackHat Shell" nocase
    condition:
        (filekind == "php" or filekind == "html") and any of them
}

rule SG_PHP_Command_Shell : php webshell
{
    meta:
        family = "php-webshell"
        severity = "high"
        confidence = "medium"
        description = "A page that takes commands from a form and runs them on the server"
    strings:
        $x1 = /\b(system|passthru|shell_exec|popen|proc_open)\s*\(/
        $x2 = /\bexec\s*\(\s*\$/
        $in = /\$_(GET|POST|REQUEST|COOKIE)\s*\[/
        $ui1 = "uname -a"
        $ui2 = /<input[^>]{0,80}name\s*=\s*['"]?(cmd|command|c|exec|execute)\b/ nocase
        $ui3 = "whoami"
        $ui4 = "/etc/passwd"
    condition:
        filekind == "php" and filesize < 300KB and any of ($x*) and $in and 2 of ($ui*)
}

rule SG_PHP_Tiny_Uploader : php backdoor
{
    meta:
        family = "php-uploader"
        severity = "high"
        confidence = "medium"
        description = "A very small script that saves uploaded files anywhere, with no login check"
    strings:
        $move = "move_uploaded_file"
        $files = "$_FILES"
        $copy = /\bcopy\s*\(\s*\$_FILES/
        $form = /<form[^>]{0,200}multipart\/form-data/ nocase
        $auth1 = "current_user_can"
        $auth2 = "check_admin_referer"
        $auth3 = "wp_verify_nonce"
        $auth4 = "isLoggedIn"
    condition:
        filekind == "php" and filesize < 3KB and $files and ($move or $copy) and $form and not any of ($auth*)
}

rule SG_PHP_Auto_Prepend_In_Code : php backdoor
{
    meta:
        family = "php-backdoor"
        severity = "high"
        confidence = "medium"
        description = "PHP code that rewrites .htaccess or php.ini to load a file into every page"
    strings:
        $a = /(auto_prepend_file|auto_append_file)/
        $w = /(file_put_contents|fwrite|fputs)\s*\(/
        $h = /(\.htaccess|\.user\.ini|php\.ini)/
    condition:
        filekind == "php" and $a and $w and $h
}

rule SG_PHP_Card_Data_Theft : php skimmer
{
    meta:
        family = "php-skimmer"
        severity = "critical"
        confidence = "medium"
        description = "Server-side skimmer: reads card fields from the order form and mails them or hides them in a file"
    strings:
        $num1 = /\$_(POST|REQUEST)\s*\[[^\n]{0,60}(cc_number|cc_num|card_number|cardnumber|ccnum)/ nocase
        $cvv1 = /(cc_cid|cvv2?|cvc|card_code|security_code)/ nocase
        $mail = /\bmail\s*\(/
        $drop = /(file_put_contents|fopen)\s*\([^;\n]{0,160}\.(jpe?g|png|gif|ico|css|txt|log)['"]/ nocase
        $enc = /\b(base64_encode|serialize|json_encode|bin2hex|openssl_encrypt)\s*\(/
    condition:
        filekind == "php" and $num1 and $cvv1 and $enc and ($mail or $drop)
}
