"""The demo storefront (deliberately weak; see demo/README.md)."""
