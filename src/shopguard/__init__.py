"""ShopGuard: the security program for online stores."""

__version__ = "0.1.0"
