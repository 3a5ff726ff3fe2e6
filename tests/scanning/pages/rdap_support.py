"""A loopback RDAP service replaying the hand-written RFC 9083 answers in data/rdap/."""

from __future__ import annotations

from pathlib import Path

from webscan_servers import Answer, Site

DATA = Path(__file__).parent / "data" / "rdap"
RDAP_JSON = {"Content-Type": "application/rdap+json"}


def rdap_site() -> Site:
    """Bootstrap at /dns.json, a .shop and a .com registry; unknown names get the 404 error object.
    Call :func:`publish_bootstrap` once the site has a port."""
    error = Answer(404, RDAP_JSON, (DATA / "error-404.json").read_text())
    site = Site(
        {
            "/shop-registry/domain/fresh-cdn.shop": Answer(
                200, RDAP_JSON, (DATA / "domain-fresh-cdn.shop.json").read_text()
            ),
            "/com-registry/domain/old-widgets.com": Answer(
                200, RDAP_JSON, (DATA / "domain-old-widgets.com.json").read_text()
            ),
        },
        default=error,
    )
    return site


def publish_bootstrap(site: Site) -> str:
    """Serve dns.json with the registries' URLs pointing at this site; returns its URL."""
    text = (DATA / "dns.json").read_text().replace("RDAP_BASE", site.url.rstrip("/"))
    site.routes["/dns.json"] = Answer(200, {"Content-Type": "application/json"}, text)
    return site.url + "dns.json"


def domain_requests(site: Site) -> list[str]:
    return [line for line in site.log if "/domain/" in line]
