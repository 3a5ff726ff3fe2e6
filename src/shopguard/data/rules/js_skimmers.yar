// ShopGuard rules: JavaScript card skimmers (Magecart-style) and loaders. Our own work, Apache-2.0.

private rule SG_JS_Card_Number_Field
{
    strings:
        $ = /(cc_number|cc-number|ccnumber|cc_num\b|ccnum|card_number|card-number|cardnumber|credit_card_number|creditcard|pan_number|billing\[cc)/ nocase
        $ = "[cc_number]" nocase
        $ = "payment[cc_" nocase
    condition:
        any of them
}

private rule SG_JS_Card_Code_Field
{
    strings:
        $ = /(cc_cid|cc-cid|\bcvv2?\b|\bcvc\b|card_code|card-code|cardcode|security_code|securitycode|card_cvv|cc_cvv|cc-csc)/ nocase
    condition:
        any of them
}

private rule SG_JS_Exfil_Channel
{
    strings:
        $ = "new Image" nocase
        $ = ".sendBeacon("
        $ = "fetch("
        $ = "XMLHttpRequest"
        $ = "WebSocket("
        $ = "$.ajax("
        $ = "jQuery.ajax("
        $ = "$.post("
        $ = /\.src\s*=\s*['"]?https?:/
        $ = /\.src\s*=\s*[\w$.]+\s*\+/
    condition:
        any of them
}

private rule SG_JS_Encoder
{
    strings:
        $ = "btoa("
        $ = "JSON.stringify"
        $ = "encodeURIComponent"
        $ = ".serialize("
        $ = "new FormData"
        $ = "escape("
        $ = "String.fromCharCode"
    condition:
        any of them
}

rule SG_JS_Card_Skimmer : js skimmer
{
    meta:
        family = "js-skimmer"
        severity = "critical"
        confidence = "medium"
        description = "JavaScript that reads the card number and security code from the checkout and sends them out of the page"
    strings:
        $trigger1 = /addEventListener\s*\(\s*['"](submit|click|change|blur|mouseup|beforeunload|keyup)/ nocase
        $trigger2 = /\.on(submit|click|change|blur)\s*=/ nocase
        $trigger3 = /\.(on|bind|live)\s*\(\s*['"](submit|click|change|blur)/ nocase
        $trigger4 = "setInterval("
        $read1 = ".value"
        $read2 = /\.val\s*\(\s*\)/
        $read3 = "querySelectorAll"
        $read4 = "elements"
    condition:
        filekind != "binary" and filekind != "image" and filesize < 2MB
        and SG_JS_Card_Number_Field and SG_JS_Card_Code_Field and SG_JS_Exfil_Channel and SG_JS_Encoder
        and any of ($trigger*) and any of ($read*)
}

rule SG_JS_Fake_Payment_Form : js skimmer
{
    meta:
        family = "js-skimmer"
        severity = "high"
        confidence = "medium"
        description = "Script that injects its own card form into the checkout page"
    strings:
        $inj1 = "innerHTML"
        $inj2 = "insertAdjacentHTML"
        $inj3 = "document.write"
        $inj4 = /\.(html|append|prepend|after|before)\s*\(\s*['"]\s*<(div|form|input|fieldset)/ nocase
        $input = /<input[^>]{0,200}(cvv|cvc|cc_cid|security)/ nocase
    condition:
        (filekind == "js" or filekind == "html" or filekind == "text") and filesize < 2MB
        and any of ($inj*) and $input and SG_JS_Card_Number_Field and SG_JS_Exfil_Channel
}

rule SG_JS_Eval_Of_Decoded : js obfuscation
{
    meta:
        family = "js-obfuscated-loader"
        severity = "high"
        confidence = "high"
        description = "JavaScript that decodes hidden code and runs it"
    strings:
        $a = /\beval\s*\(\s*(window\.)?(atob|unescape|decodeURIComponent\s*\(\s*escape|String\.fromCharCode)\s*\(/
        $b = /\b(new\s+)?Function\s*\(\s*(window\.)?(atob|unescape)\s*\(/
        $c = /\bset(Timeout|Interval)\s*\(\s*(window\.)?atob\s*\(/
        $d = /\[\s*['"]constructor['"]\s*\]\s*\(\s*(window\.)?atob\s*\(/
    condition:
        filekind != "binary" and filekind != "image" and any of them
}
