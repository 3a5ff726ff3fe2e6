"""``scanning.web.fingerprint``: what the shop runs, as seen from outside.

Each detected product is an info finding whose evidence (product, version, kind) the
maintenance protocol reads from the stored findings for its vulnerability and
end-of-life matching.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.fingerprint import fingerprint
from shopguard.scanning.web.targets import origin


@register_check
class Fingerprinting(BaseCheck):
    id = "scanning.web.fingerprint"
    title = "Platform, plugins and server software seen from outside"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        fp = await fingerprint(ctx)
        where = origin(str(ctx.store.storefront_url))
        configured = ctx.store.platform.value
        for sw in fp.software:
            if sw.kind in ("server", "language") and not sw.version:
                continue  # a bare "nginx" says nothing worth recording
            version = f" {sw.version}" if sw.version else ""
            yield Finding(
                self.id,
                Severity.INFO,
                f"Detected {sw.product}{version} ({sw.kind})",
                where,
                detail=f"Seen in the {sw.source}. ShopGuard's maintenance checks compare detected versions "
                "with known vulnerabilities and end-of-life dates.",
                remediation="Nothing to do for the detection itself; keep this software up to date.",
                evidence={"product": sw.product, "version": sw.version, "kind": sw.kind, "source": sw.source},
                refs=Refs(pci=("6.3.2",)),
                key=f"{sw.kind}:{sw.product}",
            )
        if (
            fp.platform
            and configured not in ("custom", fp.platform)
            and not (configured == "woocommerce" and fp.platform == "wordpress")
        ):
            yield Finding(
                self.id,
                Severity.LOW,
                f"The shop looks like {fp.platform}, but shopguard.toml says {configured}",
                where,
                detail="Platform-specific checks follow the configured platform, so some may be skipped.",
                remediation=f'Set platform = "{fp.platform}" for this store in shopguard.toml '
                "if that is right.",
                evidence={"detected": fp.platform, "configured": configured},
                key="platform-mismatch",
            )
