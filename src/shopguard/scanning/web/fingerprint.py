"""What the shop runs, as seen from outside: platform, version, plugins, server, PHP.

Computed once per store (shared through ``ctx.resources``) from the storefront page,
its headers and, when the platform is recognised, one or two version endpoints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shopguard.scanning.web.client import FetchError, Response, ScopedClient, http_client
from shopguard.scanning.web.html import PageModel
from shopguard.scanning.web.targets import fetch_page, origin

if TYPE_CHECKING:
    from shopguard.checks import CheckContext

RESOURCE_KEY = "web.fingerprint"


@dataclass(frozen=True)
class Software:
    product: str
    """Lower-case name as endoflife.date and OSV know it where possible: wordpress, magento, php, nginx."""
    version: str | None
    source: str
    """Where we saw it: ``meta generator``, ``Server header`` ..."""
    kind: str = "platform"
    """platform, plugin, server, language."""


@dataclass
class Fingerprint:
    platform: str | None = None
    software: list[Software] = field(default_factory=list)

    def add(self, sw: Software) -> None:
        if not any(s.product == sw.product and s.kind == sw.kind for s in self.software):
            self.software.append(sw)
        elif sw.version:
            for i, s in enumerate(self.software):
                if s.product == sw.product and s.kind == sw.kind and not s.version:
                    self.software[i] = sw


_GEN = re.compile(
    r"^(WordPress|WooCommerce|PrestaShop|Shopware|Magento|OpenCart|Joomla!?|Drupal)\s*([\d.]+)?", re.I
)
_SERVER = re.compile(r"^(nginx|Apache|Microsoft-IIS|LiteSpeed|openresty|Caddy)(?:/([\d.]+))?", re.I)
_PHP = re.compile(r"PHP/([\d.]+)", re.I)
_WP_PLUGIN = re.compile(r"/wp-content/plugins/([a-z0-9_-]+)/[^\"'\s?]*(?:\?ver=([\d.]+))?", re.I)
_MAGENTO_MODULE = re.compile(
    r"/static/(?:version\d+/)?frontend/[^/]+/[^/]+/[^/]+/([A-Z][A-Za-z0-9]+_[A-Z][A-Za-z0-9]+)/"
)
_PS_MODULE = re.compile(r"/modules/([a-z0-9_]+)/", re.I)

PLATFORM_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("woocommerce", re.compile(r"woocommerce|wc-cart-fragments|wc_add_to_cart_params", re.I)),
    ("wordpress", re.compile(r"/wp-content/|/wp-includes/|wp-emoji-release", re.I)),
    (
        "magento",
        re.compile(r"Mage\.Cookies|text/x-magento-init|/static/version\d+/frontend/|/skin/frontend/", re.I),
    ),
    (
        "prestashop",
        re.compile(r"var prestashop\s*=|prestashop\.(min\.)?js|/themes/[a-z0-9_-]+/assets/cache/", re.I),
    ),
    ("opencart", re.compile(r"catalog/view/theme/|index\.php\?route=(common|product)/", re.I)),
    ("shopware", re.compile(r"/bundles/storefront/|data-shopware|Shopware\.|/web/cache/\d+_", re.I)),
    ("django-oscar", re.compile(r"/static/oscar/|oscar/js/oscar", re.I)),
)


def from_page(resp: Response, model: PageModel | None) -> Fingerprint:
    fp = Fingerprint()
    html = resp.text[:500_000] if model is not None else ""
    for name, marker in PLATFORM_MARKERS:
        if html and marker.search(html):
            fp.platform = name
            break
    gen = model.meta.get("generator", "") if model else ""
    for part in gen.split(";"):
        m = _GEN.match(part.strip())
        if m:
            product = m.group(1).lower().rstrip("!")
            fp.add(Software(product, m.group(2), "meta generator"))
            if fp.platform is None or (product == "woocommerce" and fp.platform == "wordpress"):
                fp.platform = product
    if fp.platform and not any(s.product == fp.platform for s in fp.software):
        fp.add(Software(fp.platform, None, "page markup"))
    if fp.platform == "woocommerce" and not any(s.product == "wordpress" for s in fp.software):
        fp.add(Software("wordpress", None, "page markup"))
    for value in resp.header_values("server"):
        m = _SERVER.match(value.strip())
        if m:
            fp.add(Software(m.group(1).lower(), m.group(2), "Server header", "server"))
    for value in resp.header_values("x-powered-by") + resp.header_values("server"):
        m = _PHP.search(value)
        if m:
            fp.add(Software("php", m.group(1), "X-Powered-By header", "language"))
    for slug, ver in {(m.group(1).lower(), m.group(2)) for m in _WP_PLUGIN.finditer(html)}:
        fp.add(Software(f"wordpress-plugin:{slug}", ver, "asset path", "plugin"))
    for mod in sorted({m.group(1) for m in _MAGENTO_MODULE.finditer(html)})[:40]:
        if not mod.startswith("Magento_"):
            fp.add(Software(f"magento-module:{mod}", None, "asset path", "plugin"))
    if fp.platform == "prestashop":
        for mod in sorted({m.group(1).lower() for m in _PS_MODULE.finditer(html)})[:40]:
            fp.add(Software(f"prestashop-module:{mod}", None, "asset path", "plugin"))
    return fp


async def _platform_version(client: ScopedClient, root: str, fp: Fingerprint) -> None:
    """One cheap request that gives the exact platform version where the platform has one."""
    probes = {
        "wordpress": ("/feed/", re.compile(r"<generator>https?://wordpress\.org/\?v=([\d.]+)</generator>")),
        "woocommerce": ("/feed/", re.compile(r"<generator>https?://wordpress\.org/\?v=([\d.]+)</generator>")),
        "magento": ("/magento_version", re.compile(r"^Magento/([\d.]+)")),
    }
    if fp.platform not in probes:
        return
    path, pattern = probes[fp.platform]
    try:
        resp = await client.get(root + path, follow_redirects=True, max_bytes=65536)
    except FetchError:
        return
    m = pattern.search(resp.text) if resp.status == 200 else None
    if m:
        product = "wordpress" if fp.platform in ("wordpress", "woocommerce") else fp.platform
        fp.add(Software(product, m.group(1), path))


async def detect(client: ScopedClient, url: str) -> Fingerprint:
    try:
        resp, model = await fetch_page(client, url)
    except FetchError:
        return Fingerprint()
    fp = from_page(resp, model)
    await _platform_version(client, origin(resp.url), fp)
    return fp


async def fingerprint(ctx: CheckContext) -> Fingerprint:
    """The store's fingerprint, computed once per run and shared by the checks."""
    client = await http_client(ctx)

    async def make() -> Fingerprint:
        return await detect(client, str(ctx.store.storefront_url))

    result: Fingerprint = await ctx.resources.get(RESOURCE_KEY, make)
    return result
