"""Which components are a shop platform, and which endoflife.date product tracks them."""

from __future__ import annotations

from shopguard.maintenance.model import Owner

# (ecosystem, name) -> (owner, kind, endoflife.date product)
PLATFORM_PACKAGES: dict[tuple[str, str], tuple[Owner, str, str]] = {
    ("Packagist", "magento/product-community-edition"): (Owner.CORE, "platform", "magento"),
    ("Packagist", "magento/product-enterprise-edition"): (Owner.CORE, "platform", "magento"),
    ("Packagist", "magento/magento2-base"): (Owner.CORE, "platform", ""),
    ("Packagist", "shopware/core"): (Owner.CORE, "platform", "shopware"),
    ("Packagist", "shopware/platform"): (Owner.CORE, "platform", "shopware"),
    ("Packagist", "shopware/shopware"): (Owner.CORE, "platform", "shopware"),
    ("Packagist", "drupal/core"): (Owner.CORE, "platform", "drupal"),
    ("Packagist", "drupal/drupal"): (Owner.CORE, "platform", "drupal"),
    ("Packagist", "drupal/commerce"): (Owner.EXTENSION, "platform", ""),
    ("Packagist", "prestashop/prestashop"): (Owner.CORE, "platform", ""),
    ("Packagist", "opencart/opencart"): (Owner.CORE, "platform", ""),
    ("Packagist", "symfony/symfony"): (Owner.LIBRARY, "library", "symfony"),
    ("Packagist", "symfony/http-kernel"): (Owner.LIBRARY, "library", "symfony"),
    ("Packagist", "laravel/framework"): (Owner.LIBRARY, "library", "laravel"),
    ("Packagist", "typo3/cms-core"): (Owner.CORE, "platform", "typo3"),
    ("PyPI", "django-oscar"): (Owner.CORE, "platform", ""),
    ("PyPI", "django"): (Owner.LIBRARY, "library", "django"),
    ("PyPI", "wagtail"): (Owner.LIBRARY, "library", "wagtail"),
    ("npm", "jquery"): (Owner.LIBRARY, "library", "jquery"),
    ("npm", "jquery-ui"): (Owner.LIBRARY, "library", "jquery-ui"),
    ("npm", "bootstrap"): (Owner.LIBRARY, "library", "bootstrap"),
}

CORE_VENDORS = ("magento/module-", "magento/framework", "shopware/", "drupal/core-")


def classify(ecosystem: str, name: str) -> tuple[Owner, str, str]:
    key = (ecosystem, name.lower())
    if key in PLATFORM_PACKAGES:
        return PLATFORM_PACKAGES[key]
    if ecosystem == "Packagist" and name.lower().startswith(CORE_VENDORS):
        return Owner.CORE, "library", ""
    return Owner.LIBRARY, "library", ""
