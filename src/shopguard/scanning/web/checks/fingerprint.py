"""``scanning.web.fingerprint``: what the shop runs, as seen from outside.

Each detected product is an info finding whose evidence (product, version, kind) the
maintenance protocol reads from the stored findings for its vulnerability and
end-of-life matching.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import date

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.fingerprint import Software, fingerprint
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
        for f in await asyncio.to_thread(eol_findings, self.id, where, fp.software):
            yield f
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


# endoflife.date product ids of what the fingerprint can name.
EOL_PRODUCTS = {
    "apache": "apache-http-server",
    "nginx": "nginx",
    "php": "php",
    "wordpress": "wordpress",
    "magento": "magento",
    "shopware": "shopware",
    "drupal": "drupal",
    "joomla": "joomla",
}


def eol_findings(
    check_id: str, where: str, software: Iterable[Software], today: date | None = None
) -> list[Finding]:
    """End-of-life and missed patch releases, judged by the maintenance protocol's data
    (:func:`shopguard.maintenance.eol_status`) for versions seen from outside."""
    try:
        from shopguard.maintenance import eol_status
    except ImportError:  # the maintenance protocol is not installed in this build
        return []
    today = today or date.today()
    out: list[Finding] = []
    for sw in software:
        product = EOL_PRODUCTS.get(sw.product)
        if product is None or not sw.version:
            continue
        try:
            st = eol_status(product, sw.version, today)
        except Exception:  # noqa: S112 - missing or broken EOL data must not fail the fingerprint
            continue
        if st is None:
            continue
        ev = {
            "product": product,
            "version": sw.version,
            "cycle": st.cycle,
            "eol_date": str(st.eol_date or ""),
            "latest_in_cycle": st.latest,
            "upgrade_to": st.upgrade_to,
            "seen_in": sw.source,
        }
        if st.is_eol:
            when = f" on {st.eol_date:%Y-%m-%d}" if st.eol_date else ""
            out.append(
                Finding(
                    check_id + ".eol",
                    Severity.HIGH,
                    f"{sw.product} {sw.version} is end-of-life (security fixes stopped{when})",
                    where,
                    detail=f"The {sw.source} shows {sw.product} {sw.version}. Its release line {st.cycle} "
                    "gets no more security fixes, so newly found holes stay open for good.",
                    remediation="Upgrade to a supported release line "
                    f"({st.upgrade_to or st.latest_cycle}); then hide the version "
                    "(see scanning.web.server-banner).",
                    evidence=ev,
                    refs=Refs(pci=("6.3.3", "12.3.4")),
                    key=f"eol:{product}",
                )
            )
        elif not st.is_latest and st.latest:
            out.append(
                Finding(
                    check_id + ".outdated",
                    Severity.LOW,
                    f"{sw.product} {sw.version} is behind on patches (latest {st.latest})",
                    where,
                    detail=f"Release {st.latest} of the {st.cycle} line is out; the releases in between "
                    "usually fix security problems.",
                    remediation=f"Update {sw.product} to {st.latest} (your OS packages may carry the fixes "
                    "under an older number: check your distribution's security tracker).",
                    evidence=ev,
                    refs=Refs(pci=("6.3.3",)),
                    key=f"outdated:{product}",
                )
            )
    return out
