import "hash"  // imported again by the including file: allowed

private rule SgVendorAllowed
{
    condition:
        hash.md5(0, filesize) == "dae5feed1cbaa88704ae363288a0356d"
}
