// ShopGuard hint rules: never reported. Each one tells the scored heuristics that a
// feature is present (and where), so the heuristics only look where it matters.
// Our own work, Apache-2.0.

rule SGH_Decoder : hint
{
    strings:
        $ = /\b(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|hex2bin|convert_uudecode)\s*\(/ nocase
    condition:
        filekind == "php" and any of them
}

rule SGH_DynExec : hint
{
    strings:
        $ = /\b(eval|assert|create_function)\s*(\/\*[^*]{0,40}\*\/\s*)?\(/ nocase
    condition:
        filekind == "php" and any of them
}

rule SGH_ChrChain : hint
{
    strings:
        $ = /(chr\s*\(\s*\d{1,3}\s*\)\s*\.\s*){3}chr\s*\(/ nocase
    condition:
        filekind == "php" and any of them
}

rule SGH_Suppress : hint
{
    strings:
        $ = /error_reporting\s*\(\s*0\s*\)/
        $ = /set_time_limit\s*\(\s*0\s*\)/
        $ = "ignore_user_abort("
    condition:
        filekind == "php" and any of them
}

rule SGH_GlobalsTable : hint
{
    strings:
        $ = /\$GLOBALS\s*\[\s*['"][^'"]{0,40}['"]\s*\]\s*\[\s*(\d+|['"][^'"]{0,40}['"])\s*\]\s*\(/
    condition:
        filekind == "php" and any of them
}

rule SGH_CardField : hint
{
    strings:
        $ = /(cc_number|cc-number|ccnumber|card_number|card-number|cardnumber|cc_cid|\bcvv2?\b|\bcvc\b|security_code)/ nocase
    condition:
        filekind != "binary" and filekind != "image" and any of them
}

rule SGH_Network : hint
{
    strings:
        $ = "new Image"
        $ = "sendBeacon("
        $ = "fetch("
        $ = "XMLHttpRequest"
        $ = "WebSocket("
        $ = "$.ajax("
        $ = "$.post("
    condition:
        filekind != "binary" and filekind != "image" and any of them
}

rule SGH_ScriptInject : hint
{
    strings:
        $ = /createElement\s*\(\s*['"]script['"]/ nocase
        $ = /document\.write\s*\(\s*['"]<script/ nocase
    condition:
        filekind != "binary" and filekind != "image" and any of them
}

rule SGH_ObfuscatorNames : hint
{
    strings:
        $x = /\b_0x[a-f0-9]{4,6}\b/
    condition:
        filekind != "binary" and filekind != "image" and #x >= 30
}

rule SGH_HexRun : hint
{
    strings:
        $ = /(\\x[0-9a-fA-F]{2}){40}/
    condition:
        filekind != "binary" and filekind != "image" and any of them
}

rule SGH_BrandURL : hint
{
    strings:
        $ = /\/\/[a-z0-9.-]{0,40}(jq|g[o0][o0]g|gstat|analyt|gtag|tagman|cl[o0]udfl|cdnjs|jsdel|unpkg|b[o0][o0]tstr|faceb|fbcdn|str[i1l]pe|paypa|braintr|magent|ad[o0]be|w[o0][o0]c|sh[o0]pif|auth[o0]riz|adyen|klarn|m[o0]ll[i1l]e|squar|amaz|h[o0]tjar)/ nocase
    condition:
        filekind != "binary" and filekind != "image" and any of them
}

rule SGH_Prepend : hint
{
    strings:
        $ = /auto_(prepend|append)_file/ nocase
    condition:
        any of them
}

rule SGH_ArrayCall : hint
{
    strings:
        $ = /\$\w{1,30}\s*\[\s*[^\]\n]{1,12}\]\s*\(\s*\$\w{1,30}\s*\[/
    condition:
        filekind == "php" and any of them
}

rule SGH_NonAsciiNames : hint
{
    strings:
        $x = /\$[\x80-\xff]/
    condition:
        filekind == "php" and #x >= 10
}

rule SGH_CheckoutTarget : hint
{
    strings:
        $ = /(location|document\.URL|location\.href|location\.pathname)[^;\n]{0,80}(checkout|onestep|firecheckout|onepage|payment)/ nocase
        $ = /(checkout|onestep|firecheckout|onepage)[^;\n]{0,40}\.test\s*\(\s*(window\.)?location/ nocase
    condition:
        filekind != "binary" and filekind != "image" and any of them
}

rule SGH_FormHarvest : hint
{
    strings:
        $ = /querySelectorAll\s*\(\s*['"](input|select|form)/ nocase
        $ = /getElementsByTagName\s*\(\s*['"](input|select)/ nocase
        $ = /\.serialize(Array)?\s*\(\s*\)/
        $ = "new FormData("
    condition:
        filekind != "binary" and filekind != "image" and any of them
}
