"""Check plugins for the cluster tests, loaded through $SHOPGUARD_PLUGINS.

``fetch`` really requests the store's storefront over HTTP and reports what the
response lacks; a file ``slow-seconds`` in the store's first web root makes it
write ``started-<pid>`` there and sleep first (so a test can kill the worker
mid-task). ``crash`` kills its own process every time: a poison task.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.findings import Finding, Severity

WANTED = {
    "strict-transport-security": (Severity.MEDIUM, "No HSTS header"),
    "content-security-policy": (Severity.MEDIUM, "No Content-Security-Policy header"),
    "x-frame-options": (Severity.LOW, "No X-Frame-Options header"),
}


@register_check
class FetchCheck(BaseCheck):
    id = "scanning.test-cluster.fetch"
    title = "Test plugin: fetch the storefront and report missing headers"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        root = Path(ctx.store.web_roots[0]) if ctx.store.web_roots else None
        if root is not None and (root / "slow-seconds").exists():
            (root / f"started-{os.getpid()}").write_text("started")
            await asyncio.sleep(float((root / "slow-seconds").read_text()))
        url = str(ctx.store.storefront_url)
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await client.get(url)
        out = [Finding(self.id + ".status", Severity.INFO, f"Storefront answered {resp.status_code}", url,
                       key=str(resp.status_code))]  # fmt: skip
        for header, (sev, title) in WANTED.items():
            if header not in resp.headers:
                out.append(Finding(f"{self.id}.{header}", sev, title, url, key=header))
        powered = resp.headers.get("x-powered-by")
        if powered:
            out.append(Finding(self.id + ".powered-by", Severity.LOW, "Server names its software", url,
                               evidence={"x-powered-by": powered}, key="powered-by"))  # fmt: skip
        return out


@register_check
class CrashCheck(BaseCheck):
    id = "scanning.test-cluster.crash"
    title = "Test plugin: kills its own process (a poison task)"

    def applies(self, store: Store) -> bool:
        return bool(store.web_roots) and (Path(store.web_roots[0]) / "crash").exists()

    def run(self, ctx: CheckContext) -> list[Finding]:
        os.kill(os.getpid(), signal.SIGKILL)
        return []
