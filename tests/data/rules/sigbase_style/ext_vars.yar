/*
    Rules that need the scanner's external variables, like signature-base's
    yara_mixed_ext_vars.yar (which LOKI and THOR fill in). Ours, for tests.
*/

rule SgExtNameAndType
{
    meta:
        description = "marker in a PHP file named like a shell"
        score = 70
    strings:
        $s = "sg_ext_marker"
    condition:
        $s and filename matches /^shell_[a-z]+\.php$/ and extension == ".php" and filetype == "PHP"
}

rule SgExtFolder
{
    strings:
        $s = "sg_ext_marker"
    condition:
        $s and filepath contains "uploads" and not filename contains "shell_"
}

rule SgExtMd5
{
    condition:
        md5 == "18b7f5013acb65bab8fe0b28c00a9455"
}

rule SgExtOwnerKnown
{
    strings:
        $s = "sg_owner_marker"
    condition:
        $s and owner != "" and not (owner matches /^[0-9]+$/)
}
