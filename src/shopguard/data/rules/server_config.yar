// ShopGuard rules: web server and PHP configuration abuse, code hidden in media. Apache-2.0.

rule SG_Config_Auto_Prepend : config backdoor
{
    meta:
        family = "config-backdoor"
        severity = "medium"
        confidence = "low"
        description = "PHP is told to load an extra file before or after every page (a common way to hide a skimmer or backdoor)"
    strings:
        $a = /(php_value|php_admin_value)?\s*auto_(prepend|append)_file\s*=?\s*['"]?[^\s'"]{2,}/ nocase
    condition:
        filekind == "config" and $a
}

rule SG_Config_PHP_Handler_For_Media : config backdoor
{
    meta:
        family = "config-backdoor"
        severity = "high"
        confidence = "high"
        description = "The web server is told to run images or text files as PHP, so a hidden script in an 'image' runs"
    strings:
        $a = /(AddType|AddHandler)\s+application\/x-httpd-php[^\n]{0,60}\.(jpe?g|png|gif|ico|txt|bmp|svg|webp|css)\b/ nocase
        $b = /<Files(Match)?\s[^>\n]{0,80}\.(jpe?g|png|gif|ico|txt|bmp)[^>\n]{0,40}>\s*(\n[^\n]*){0,3}SetHandler\s+application\/x-httpd-php/ nocase
        $c = /(AddType|AddHandler)\s+application\/x-httpd-php[^\n]{0,30}\s\.?htaccess\b/ nocase
    condition:
        filekind == "config" and any of them
}

rule SG_Config_Contains_PHP : config backdoor
{
    meta:
        family = "config-backdoor"
        severity = "high"
        confidence = "high"
        description = "A server configuration file (.htaccess, .user.ini) contains PHP code"
    strings:
        $php = /<\?php\b/ nocase
    condition:
        filekind == "config" and $php
}

rule SG_Media_Contains_PHP : media backdoor
{
    meta:
        family = "php-in-media"
        severity = "high"
        confidence = "high"
        description = "An image file carries PHP code (a backdoor disguised as a picture)"
    strings:
        $php = /<\?php\b/ nocase
        $short = /<\?=\s*[\$@a-z_]/ nocase
    condition:
        filekind == "image" and any of them
}
