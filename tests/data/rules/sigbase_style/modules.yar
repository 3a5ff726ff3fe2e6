import "pe"
import "math"
import "hash"

rule SgTinyExeInWebRoot
{
    meta:
        description = "a Windows executable header in a web root"
    condition:
        uint16(0) == 0x5A4D and filetype == "EXE" and not pe.is_pe
}

rule SgRandomBlob
{
    condition:
        filesize > 4KB and math.entropy(0, filesize) > 7.5
}

rule SgKnownBadHash
{
    condition:
        hash.sha256(0, filesize) == "9ccc550ee0899347e59e206951d64518ceab76b475600cc674919609d85c2c5a" or
        hash.crc32(0, filesize) == 0xbcd8a31
}
