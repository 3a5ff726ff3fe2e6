"""``scanning.web.exposures``: sensitive files (VCS folders, .env, config backups, dumps,
installers, admin tools, logs, manifests) readable from the internet."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import (
    BudgetExhausted,
    DeadlineReached,
    FetchError,
    Response,
    ScopedClient,
    http_client,
)
from shopguard.scanning.web.exposures import ENV, GIT_CONFIG, Probe, probes_for
from shopguard.scanning.web.softnotfound import Baseline, baseline
from shopguard.scanning.web.targets import origins

PROBE_BYTES = 65536
_HTML = re.compile(rb"<(!doctype html|html|head|body)[\s>]", re.IGNORECASE)
_ENV_NAME = re.compile(rb"^\s*(?:export\s+)?([A-Z][A-Z0-9_]{2,})\s*=", re.MULTILINE)
_URL_CRED = re.compile(r"(://[^/:@\s]+):[^@\s]+@")
_REMOTE = re.compile(rb"^\s*url\s*=\s*(\S+)", re.MULTILINE)


def confirm(probe: Probe, resp: Response, base: Baseline) -> bool:
    """The answer really is the sensitive file (not a soft 404, not an HTML error page)."""
    if not 200 <= resp.status < 300 or not resp.body:
        return False
    if not probe.html_ok and _HTML.search(resp.body[:1024]):
        return False
    if not probe.signature.search(resp.body):
        return False
    return not (base.matches(probe.signature) or base.looks_like(resp))


def describe(probe: Probe, resp: Response) -> tuple[dict[str, object], Severity]:
    """Evidence without secrets, and the severity (raised when credentials are visible)."""
    ev: dict[str, object] = {
        "status": resp.status,
        "bytes_read": len(resp.body),
        "content_type": resp.content_type,
        "what": probe.what,
    }
    sev = probe.severity
    if probe.signature is ENV:
        names = sorted({m.decode() for m in _ENV_NAME.findall(resp.body)})
        ev["variables"] = names[:40]  # names only, never values
    elif probe.signature is GIT_CONFIG:
        remotes = [
            _URL_CRED.sub(r"\1:***@", u.decode("utf-8", "replace")) for u in _REMOTE.findall(resp.body)
        ]
        ev["remotes"] = remotes[:5]
        if any("***@" in r for r in remotes):
            ev["credential_in_remote_url"] = True
            sev = Severity.CRITICAL
    elif not probe.secret:
        m = probe.signature.search(resp.body)
        if m:
            ev["matched"] = m.group(0)[:120].decode("utf-8", "replace")
    else:
        ev["matched"] = "content signature of: " + probe.what
    return ev, sev


VCS_DIRS = ("/.git/", "/.svn/", "/.hg/", "/.bzr/", "/CVS/")


def group_vcs(found: list[Finding]) -> list[Finding]:
    """One finding per exposed VCS folder (the worst file), naming the other files seen."""
    out: list[Finding] = []
    groups: dict[str, list[Finding]] = {}
    for f in found:
        folder = next((d for d in VCS_DIRS if f.key.startswith(d)), None)
        if folder is None:
            out.append(f)
        else:
            groups.setdefault(folder, []).append(f)
    for items in groups.values():
        items.sort(key=lambda f: (-f.severity.rank, f.key))
        first = items[0]
        if len(items) > 1:
            ev = {**first.evidence, "also_exposed": [f.key for f in items[1:]]}
            first = replace(first, evidence=ev)
        out.append(first)
    return out


@register_check
class Exposures(BaseCheck):
    id = "scanning.web.exposures"
    title = "No sensitive files (VCS, .env, backups, dumps, installers, tools, logs) are public"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        probes = probes_for(ctx.store.platform.value)
        for root in origins(ctx.store):
            try:
                base = await baseline(client, root)
            except FetchError:
                continue
            results = await asyncio.gather(*(self._probe(client, root, p, base) for p in probes))
            errors = [r for r in results if isinstance(r, BudgetExhausted)]
            for item in group_vcs([r for r in results if isinstance(r, Finding)]):
                yield item
            if errors:
                raise errors[0]  # an incomplete sweep must not look clean
            if client.seconds_left <= 0:
                raise DeadlineReached("the web scan's deadline passed before the exposure sweep finished")

    async def _probe(
        self, client: ScopedClient, root: str, probe: Probe, base: Baseline
    ) -> Finding | BudgetExhausted | None:
        url = root + probe.path
        try:
            resp = await client.get(url, follow_redirects=False, max_bytes=PROBE_BYTES, cache=False)
        except BudgetExhausted as exc:
            return exc
        except FetchError:
            return None
        if not confirm(probe, resp, base):
            return None
        ev, sev = describe(probe, resp)
        host = urlsplit(root).netloc
        return Finding(
            self.id,
            sev,
            f"{probe.what} is publicly readable at {probe.path}",
            url,
            detail=f"Anyone can download {probe.path} from {host}. "
            + (
                "It holds secrets (passwords, keys or tokens): treat them as stolen and change them."
                if probe.secret or sev is Severity.CRITICAL
                else "It tells attackers how the shop is built or gives them a tool to attack it."
            ),
            remediation=probe.fix,
            evidence=ev,
            refs=Refs(pci=("2.2.6", "6.4.1") if sev >= Severity.HIGH else ("2.2.6",), cwe=(probe.cwe,)),
            key=probe.path,
        )
