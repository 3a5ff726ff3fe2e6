include "vendor.yar"  // found next to this file, as YARA resolves includes

private rule SgCmsAllowed : ECommerce
{
    condition:
        /* a known-good file that contains the marker */
        hash.sha1(0, filesize) == "ef70caff74bc97845206b6f35391354a11e46260" or
        SgVendorAllowed
}
