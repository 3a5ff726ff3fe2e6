"""ShopGuard demo shop: a small deliberately weak storefront and a fake payment provider."""
