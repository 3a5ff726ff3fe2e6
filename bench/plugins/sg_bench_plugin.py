"""A light check for bench/cluster.py: one real HTTP GET of the store's storefront."""

from __future__ import annotations

import httpx

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Severity


@register_check
class BenchFetch(BaseCheck):
    id = "scanning.bench.fetch"
    title = "Bench: fetch the storefront, report a missing HSTS header"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        url = str(ctx.store.storefront_url)
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.get(url)
        if "strict-transport-security" in resp.headers:
            return []
        return [Finding(self.id + ".hsts", Severity.MEDIUM, "No HSTS header", url, key="hsts")]
