import "hash"
include "allow.yar"

/*
    Layout and features like php-malware-finder's php.yar; the rules are ours.
    The next line is inside a comment, so it is not an include:
    include "lists/not-there.yar"
*/

global private rule SgIsPhp
{
    strings:
        $php = /<\?[^x]/

    condition:
        $php and filesize < 5MB
}

rule SgObfuscatedCall
{
    strings:
        $variable_variable = /\${\$[0-9a-zA-z]+}/  // relaxed syntax: a bare "{"
        $ = "sg_eval_marker" nocase

    condition:
        (any of them) and not SgIsAllowed
}

private rule SgEncoded
{
    strings:
        $b64 = "c2dfZW5jb2RlZF9tYXJrZXI"  // base64 of sg_encoded_marker

    condition:
        any of them
}

rule SgSuspiciousEncoding
{
    condition:
        SgEncoded and not SgIsAllowed
}
