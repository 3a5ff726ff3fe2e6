"""``scanning.web.js-libraries``: front-end JavaScript libraries with known advisories
(retire.js repository), and scripts from sources known to serve malware."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web import retire
from shopguard.scanning.web.client import FetchError, ScopedClient, http_client
from shopguard.scanning.web.targets import fetch_page, pages

MAX_SCRIPTS = 25
SEV = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}


@register_check
class JavaScriptLibraries(BaseCheck):
    id = "scanning.web.js-libraries"
    title = "Front-end JavaScript libraries have no known vulnerabilities"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        repo = await asyncio.to_thread(retire.load)
        client = await http_client(ctx)
        scripts: dict[str, list[str]] = {}
        for page in pages(ctx.store):
            try:
                _, model = await fetch_page(client, page.url)
            except FetchError:
                continue
            for s in model.scripts if model else []:
                if s.src:
                    scripts.setdefault(s.src, [])
                    if page.label not in scripts[s.src]:
                        scripts[s.src].append(page.label)
        srcs = list(scripts)[:MAX_SCRIPTS]
        detections = await asyncio.gather(*(self._detect(client, repo, src) for src in srcs))
        seen: set[str] = set()
        for src, found in zip(srcs, detections, strict=True):
            payment = any(label != "storefront" for label in scripts[src])
            bad = repo.backdoored(src)
            if bad:
                name, summary, sev = bad
                yield Finding(
                    self.id + ".malicious-source",
                    Severity.CRITICAL,
                    f"A page loads a script from a source known to serve malware ({name})",
                    src,
                    detail=summary or "This script source has been taken over and served malicious code.",
                    remediation="Remove the script tag now, look for other changes in the shop, and follow "
                    "your incident response plan (`shopguard response`).",
                    evidence={"script": src, "pages": scripts[src], "source": "retire.js backdoored list"},
                    refs=Refs(pci=("6.4.3", "11.6.1"), cwe=("CWE-506",)),
                    key=src,
                )
            for d in found:
                key = f"{d.library}@{d.version}"
                if not d.advisories or key in seen:
                    continue
                seen.add(key)
                sev = SEV.get(d.severity, Severity.MEDIUM)
                ids = sorted({i for a in d.advisories for i in a.ids})
                yield Finding(
                    self.id,
                    sev,
                    f"{d.library} {d.version} has {len(d.advisories)} known vulnerabilit"
                    f"{'y' if len(d.advisories) == 1 else 'ies'}",
                    src,
                    detail="This library version has published security advisories: "
                    + "; ".join(a.summary or ", ".join(a.ids) for a in d.advisories[:5])
                    + (" It is loaded on a payment page." if payment else ""),
                    remediation=f"Upgrade {d.library} to a version without advisories (at least "
                    f"{max((a.below for a in d.advisories), key=_sort_key)}), or remove it if unused; "
                    "on WordPress or Magento update the theme or plugin that bundles it.",
                    evidence={
                        "library": d.library,
                        "version": d.version,
                        "detected_by": d.how,
                        "pages": scripts[src],
                        "advisories": [
                            {
                                "ids": list(a.ids),
                                "summary": a.summary,
                                "below": a.below,
                                "severity": a.severity,
                            }
                            for a in d.advisories
                        ],
                    },
                    refs=Refs(
                        pci=("6.3.3",),
                        cwe=tuple(sorted({c for a in d.advisories for c in a.cwe})),
                        cve=tuple(ids),
                    ),
                    key=key,
                )

    async def _detect(
        self, client: ScopedClient, repo: retire.Repository, src: str
    ) -> list[retire.Detection]:
        found = repo.by_url(src)
        if found or not client.scope.allows_url(src):
            return found
        try:
            resp = await client.get(src, max_bytes=3_000_000)
        except FetchError:
            return []
        return repo.by_content(resp.body) if resp.status == 200 else []


def _sort_key(version: str) -> tuple[int, ...]:
    out = []
    for part in version.replace("-", ".").split("."):
        out.append(int(part) if part.isdigit() else 0)
    return tuple(out)
