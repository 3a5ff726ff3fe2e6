"""``scanning.web.reachable``: do the storefront and checkout answer, and how fast."""

from __future__ import annotations

from collections.abc import AsyncIterator

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.scanning.web.client import FetchError, http_client
from shopguard.scanning.web.targets import pages

SLOW_S = 3.0


@register_check
class Reachable(BaseCheck):
    id = "scanning.web.reachable"
    title = "Storefront and checkout answer over the web"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        for page in pages(ctx.store):
            try:
                resp = await client.get(page.url)
            except FetchError as exc:
                yield Finding(
                    self.id,
                    Severity.HIGH,
                    f"The {page.label} page cannot be reached",
                    page.url,
                    detail=f"ShopGuard could not load the {page.label} page: {exc}. Customers "
                    "probably cannot either, and the other web checks could not look at it.",
                    remediation="Check that the web server is running and the URL in shopguard.toml is "
                    "right; look at the web server's error log.",
                    evidence={"error": str(exc)},
                    key="unreachable",
                )
                continue
            ev = {"status": resp.status, "seconds": round(resp.elapsed_s, 3), "final_url": resp.url}
            if resp.blocked_redirect:
                yield Finding(
                    self.id,
                    Severity.MEDIUM,
                    f"The {page.label} page redirects to a host outside the store's scope",
                    page.url,
                    detail=f"It redirects to {resp.blocked_redirect}, which is not named in the store's "
                    "config, so ShopGuard did not follow it and did not scan that page.",
                    remediation="If that host belongs to the store, add it to web.extra_hosts in "
                    "shopguard.toml (or set the page's URL to where it really lives).",
                    evidence={**ev, "redirect_to": resp.blocked_redirect},
                    key="offscope-redirect",
                )
            elif resp.status >= 400:
                yield Finding(
                    self.id,
                    Severity.HIGH,
                    f"The {page.label} page answers with HTTP {resp.status}",
                    page.url,
                    detail=f"The page answered HTTP {resp.status} instead of showing the page.",
                    remediation="Check the URL in shopguard.toml and the web server's error log.",
                    evidence=ev,
                    key="status",
                )
            elif resp.elapsed_s > SLOW_S:
                yield Finding(
                    self.id,
                    Severity.LOW,
                    f"The {page.label} page is slow ({resp.elapsed_s:.1f} s)",
                    page.url,
                    detail=f"It took {resp.elapsed_s:.1f} s to answer (over {SLOW_S:g} s).",
                    remediation="Check server load and caching; a slow shop is also easier to knock over.",
                    evidence=ev,
                    key="slow",
                )
