"""``scanning.web.directory-listing``: folders that list their files (uploads, media, var)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import DeadlineReached, FetchError, ScopedClient, http_client
from shopguard.scanning.web.html import same_origin
from shopguard.scanning.web.softnotfound import Baseline, baseline
from shopguard.scanning.web.targets import fetch_page, origin, origins, pages

LISTING = re.compile(
    rb"<title>\s*Index of /|<h1>\s*Index of /|<title>\s*Directory listing for /|\[To Parent Directory\]"
    rb"|<title>\s*Directory Listing|<h2>\s*Index of /",
    re.IGNORECASE,
)
SENSITIVE = re.compile(r"upload|media|var|backup|bak|export|import|log|tmp|private|download|files", re.I)
FOLDERS = (
    "/uploads/",
    "/upload/",
    "/media/",
    "/pub/media/",
    "/var/",
    "/var/backups/",
    "/var/export/",
    "/var/import/",
    "/var/log/",
    "/wp-content/uploads/",
    "/wp-content/plugins/",
    "/wp-includes/",
    "/img/",
    "/images/",
    "/files/",
    "/backup/",
    "/backups/",
    "/download/",
    "/downloads/",
    "/tmp/",  # noqa: S108 - a URL path on the shop, not a local file
    "/logs/",
    "/assets/",
    "/static/",
    "/js/",
    "/css/",
    "/image/catalog/",
    "/storage/",
    "/.git/",
)
FIX = (
    "Turn directory listings off: nginx `autoindex off;` (the default; remove any `autoindex on;`), "
    "Apache `Options -Indexes` in the site's <Directory> block or .htaccess."
)


def resource_folders(urls: list[str], page_url: str) -> set[str]:
    """Folders the shop's own pages load files from (``/js/``, ``/media/catalog/``)."""
    found: set[str] = set()
    for u in urls:
        if not same_origin(u, page_url):
            continue
        path = urlsplit(u).path
        if "/" in path.strip("/"):
            found.add(path.rsplit("/", 1)[0] + "/")
    return found


@register_check
class DirectoryListing(BaseCheck):
    id = "scanning.web.directory-listing"
    title = "Folders do not list their files"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        seen_from_pages: dict[str, set[str]] = {}
        for page in pages(ctx.store):
            try:
                _, model = await fetch_page(client, page.url)
            except FetchError:
                continue
            if model is not None:
                urls = [u for _, u in model.resources]
                seen_from_pages.setdefault(origin(page.url), set()).update(resource_folders(urls, page.url))
        for root in origins(ctx.store):
            try:
                base = await baseline(client, root)
            except FetchError:
                continue
            folders = sorted(set(FOLDERS) | seen_from_pages.get(root, set()))[:60]
            hits = await asyncio.gather(*(self._probe(client, root, f, base) for f in folders))
            for f in hits:
                if f is not None:
                    yield f
            if client.seconds_left <= 0 or client.budget_left <= 0:
                raise DeadlineReached(
                    "the web scan's deadline or request budget ran out before the sweep finished"
                )

    async def _probe(self, client: ScopedClient, root: str, folder: str, base: Baseline) -> Finding | None:
        url = root + folder
        try:
            resp = await client.get(url, follow_redirects=False, max_bytes=65536, cache=False)
        except FetchError:
            return None
        if resp.status != 200 or not LISTING.search(resp.body) or base.matches(LISTING):
            return None
        entries = len(re.findall(rb"<a\s+href=", resp.body, re.IGNORECASE))
        sev = Severity.MEDIUM if SENSITIVE.search(folder) else Severity.LOW
        return Finding(
            self.id,
            sev,
            f"The folder {folder} lists its files",
            url,
            detail="Anyone can browse the folder's contents and find files that were never linked "
            "(invoices, exports, backups, customer uploads).",
            remediation=FIX,
            evidence={"status": resp.status, "links_listed": entries},
            refs=Refs(pci=("2.2.6",), cwe=("CWE-548",)),
            key=folder,
        )
