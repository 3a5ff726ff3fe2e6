"""A light check for bench/cluster.py: one real HTTP GET of the store's storefront.

It uses the store's shared scoped client (``http_client``), as ShopGuard's own web
checks do, so the benchmark pays what a real light check pays per store."""

from __future__ import annotations

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.scanning.web.client import http_client


@register_check
class BenchFetch(BaseCheck):
    id = "scanning.bench.fetch"
    title = "Bench: fetch the storefront, report a missing HSTS header"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        url = str(ctx.store.storefront_url)
        client = await http_client(ctx)
        resp = await client.get(url)
        if "strict-transport-security" in resp.headers:
            return []
        return [Finding(self.id + ".hsts", Severity.MEDIUM, "No HSTS header", url, key="hsts")]
