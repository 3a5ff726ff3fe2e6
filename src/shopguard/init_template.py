"""The commented starter config written by ``shopguard init``."""

from __future__ import annotations

import json

from shopguard.config import PaymentIntegration, Platform


def _q(value: str) -> str:
    return json.dumps(value)  # a TOML basic string is JSON-compatible for these values


def starter_config(
    *,
    name: str,
    url: str,
    checkout_url: str,
    web_roots: list[str],
    platform: Platform,
    payment: PaymentIntegration,
    company: str,
) -> str:
    roots = ", ".join(_q(r) for r in web_roots)
    return f"""# ShopGuard configuration. Every key is checked: a misspelt key is an error.
# Validate with: shopguard config check
# More sections (scan limits, payment-page steps, file scanning, hosting, monitors,
# policies, insurance, response): see docs/configuration.md.

[company]
name = {_q(company)}
country = ""            # ISO code, e.g. "DE", "GB", "US"
timezone = "UTC"        # e.g. "Europe/Berlin"; used for deadlines

# Who to call when something goes wrong (used by the response plan).
[contacts.security_lead]
name = ""
email = ""

[contacts.hosting_provider]
organisation = ""
email = ""

[contacts.payment_processor]
organisation = ""

[contacts.insurer]
organisation = ""
phone = ""

# Alert channels use apprise URLs (mailto://, slack://, json:// ...). They hold
# tokens, so they are read from the environment or a 0600 file, never inline:
# [[alerts]]
# name = "ops-mail"
# url = {{ env = "SHOPGUARD_ALERT_MAIL" }}
# min_severity = "high"

[[stores]]
name = {_q(name)}
storefront_url = {_q(url)}
checkout_url = {_q(checkout_url)}
web_roots = [{roots}]   # folders holding the shop's code, for file scans
host = "local"           # or "ssh://user@host:22"
platform = {_q(platform.value)}  # {", ".join(p.value for p in Platform)}
payment_integration = {_q(payment.value)}  # {", ".join(p.value for p in PaymentIntegration)}
jurisdictions = []       # where customers live: "EU", "GB", "US-CA", "CA", "AU" ...

# Steps the payment-page monitor takes to put a product in the basket:
# [stores.pages]
# steps = [{{goto = "/product/example"}}, {{click = "button.add-to-cart"}}]

# A database the shop uses (optional). The password comes from the environment:
# [[stores.databases]]
# dsn = "mysql://shop@127.0.0.1:3306/shop"
# password = {{ env = "SHOP_DB_PASSWORD" }}
"""
