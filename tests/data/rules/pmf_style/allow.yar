/*
    Known-good files by hash, like php-malware-finder's whitelist.yar: this file
    uses the hash module without importing it, so it only compiles through php.yar.
*/
include "lists/cms.yar"

private rule SgIsAllowed
{
    condition:
        SgCmsAllowed or
        hash.sha1(0, filesize) == "0000000000000000000000000000000000000000"
}
