"""``scanning.web.mixed-content``: HTTPS pages that load or post anything over plain HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import FetchError, http_client
from shopguard.scanning.web.targets import fetch_page, pages

ACTIVE = frozenset({"script", "iframe", "link", "object", "embed"})


@register_check
class MixedContent(BaseCheck):
    id = "scanning.web.mixed-content"
    title = "HTTPS pages load nothing over plain HTTP"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        for page in pages(ctx.store):
            try:
                resp, model = await fetch_page(client, page.url)
            except FetchError:
                continue
            if model is None or urlsplit(resp.url).scheme != "https":
                continue
            payment = page.label in ("checkout", "basket")
            insecure = [(tag, u) for tag, u in model.resources if urlsplit(u).scheme == "http"]
            forms = [a for _, a in model.forms if urlsplit(a).scheme == "http"]
            active = sorted({u for tag, u in insecure if tag in ACTIVE})
            passive = sorted({u for tag, u in insecure if tag not in ACTIVE})
            if active or forms:
                yield Finding(
                    self.id,
                    Severity.HIGH if payment else Severity.MEDIUM,
                    f"The {page.label} page loads scripts, frames or styles over plain HTTP",
                    page.url,
                    detail="Anything fetched over http:// can be read and replaced on the way "
                    "(browsers block most of it, which also breaks the page). A form posting to http:// "
                    "sends what customers type unencrypted.",
                    remediation="Change every http:// reference to https:// (or a relative URL); add the CSP "
                    "directive `upgrade-insecure-requests` as a safety net.",
                    evidence={"active": active[:20], "forms": forms[:10]},
                    refs=Refs(pci=("4.2.1",), cwe=("CWE-319",)),
                    key="active",
                )
            if passive:
                yield Finding(
                    self.id,
                    Severity.LOW,
                    f"The {page.label} page loads images or media over plain HTTP",
                    page.url,
                    detail="Passive mixed content can be swapped or used to track customers.",
                    remediation="Use https:// for every image and media URL.",
                    evidence={"passive": passive[:20]},
                    refs=Refs(pci=("4.2.1",), cwe=("CWE-319",)),
                    key="passive",
                )
