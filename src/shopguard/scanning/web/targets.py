"""Which pages of a store the outside-in scan looks at."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from shopguard.config import Store
from shopguard.scanning.web.client import Response, ScopedClient
from shopguard.scanning.web.html import PageModel, parse_page


@dataclass(frozen=True)
class Page:
    label: str
    """``storefront``, ``checkout`` or ``basket``."""
    url: str


def pages(store: Store, *, basket: bool = True) -> list[Page]:
    """The configured pages, storefront first, without duplicates."""
    found: list[Page] = []
    seen: set[str] = set()
    candidates = [("storefront", store.storefront_url), ("checkout", store.checkout_url)]
    if basket:
        candidates.append(("basket", store.basket_url))
    for label, url in candidates:
        if url is None:
            continue
        text = str(url)
        if text not in seen:
            seen.add(text)
            found.append(Page(label, text))
    return found


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL (where host-wide findings are located)."""
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "", "", ""))


def origins(store: Store) -> list[str]:
    out: list[str] = []
    for page in pages(store):
        o = origin(page.url)
        if o not in out:
            out.append(o)
    return out


def root_url(url: str) -> str:
    return origin(url) + "/"


async def fetch_page(client: ScopedClient, url: str) -> tuple[Response, PageModel | None]:
    """The page (cached per client) and its parsed HTML when it is HTML."""
    resp = await client.get(url)
    model = (
        parse_page(resp.url, resp.text)
        if resp.content_type in ("text/html", "application/xhtml+xml")
        else None
    )
    return resp, model
