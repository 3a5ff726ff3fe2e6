"""``scanning.pages``: the payment-page script monitor (PCI DSS 6.4.3 and 11.6.1).

Loads the basket and checkout in Chromium, then compares every script, iframe, request
destination and security header with the approved inventory. Run on a schedule
(``pages.interval_hours``, daily by default) it is the change- and tamper-detection
mechanism 11.6.1 asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.db.base import utcnow
from shopguard.db.models import CheckExecution
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.pages.browser import PageInventory, inventory_pages, origin_of, strip_query
from shopguard.scanning.pages.inventory import HEADERS_ID, Approved, items_of, load_approved, lookalike
from shopguard.scanning.pages.rdap import RdapClient, RdapError, Registration, registrable_domain
from shopguard.scanning.pages.tamper import previous_states, tamper_findings
from shopguard.scanning.web.client import Scope

REFS_643 = Refs(pci=("6.4.3",), cwe=("CWE-829",))
REFS_1161 = Refs(pci=("11.6.1",), cwe=("CWE-494",))
APPROVE = 'shopguard pages approve --store {store} --why "<why this script is needed>"'


def _sev(label: str) -> Severity:
    return Severity.HIGH if label == "checkout" else Severity.MEDIUM


@register_check
class PaymentPageMonitor(BaseCheck):
    id = "scanning.pages"
    title = "Payment-page scripts are authorised and unchanged"
    timeout = 90.0

    def applies(self, store: Store) -> bool:
        return store.pages.enabled and (store.checkout_url is not None or store.basket_url is not None)

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        store = ctx.store
        inventories = await inventory_pages(store, timeout_s=max(10.0, min(75.0, ctx.seconds_left - 5)))
        approved = await asyncio.to_thread(load_approved, ctx.db, store.name)
        bad_sources = await asyncio.to_thread(_backdoored)
        gap = await asyncio.to_thread(last_clean_run, ctx.db, store.name, self.id)
        if gap is not None:
            days = (utcnow() - gap).total_seconds() / 86400
            if days > 7 or days * 24 > 2 * store.pages.interval_hours:
                yield Finding(
                    self.id + ".schedule",
                    Severity.MEDIUM if days > 7 else Severity.LOW,
                    f"The payment-page monitor had not run for {days:.0f} days before this run",
                    str(store.checkout_url or store.basket_url),
                    detail="PCI DSS 11.6.1 asks for change and tamper detection on payment pages at least "
                    f"weekly; this store is configured for every {store.pages.interval_hours} hours.",
                    remediation="Make sure the scheduler runs (ShopGuard's monitor, or cron / a systemd "
                    "timer calling `shopguard audit --only scanning.pages`).",
                    evidence={"previous_run": gap.isoformat(), "days": round(days, 1)},
                    refs=REFS_1161,
                    key="schedule",
                )
        for inv in inventories:
            if inv.error:
                yield Finding(
                    self.id + ".load",
                    Severity.MEDIUM,
                    f"The monitor could not load the {inv.label} page",
                    inv.url,
                    detail=f"Chromium could not open it ({inv.error}), so its scripts were not checked.",
                    remediation="Check the page URL and the add-to-cart steps in shopguard.toml "
                    "([stores.pages]).",
                    evidence={"error": inv.error},
                    refs=REFS_1161,
                    key=inv.label,
                )
                continue
            for f in self._judge(store, inv, approved.get(inv.label, Approved()), bad_sources):
                yield f
        loaded = [i for i in inventories if not i.error]
        previous = await asyncio.to_thread(previous_states, ctx.db, store.name)
        for f in tamper_findings(self.id, loaded, previous, _sev):
            yield f
        if store.pages.domain_age.enabled:
            for f in await domain_age_findings(self.id, store, loaded, max(5.0, ctx.seconds_left - 2)):
                yield f

    def _judge(self, store: Store, inv: PageInventory, ok: Approved, bad: object) -> list[Finding]:
        out: list[Finding] = []
        label, sev = inv.label, _sev(inv.label)
        page_origin = origin_of(inv.final_url or inv.url)
        cmd = APPROVE.format(store=store.name)
        third_party = [s for s in inv.scripts if s.url and origin_of(s.url) != page_origin]
        for s in inv.scripts:
            for url in [s.url] if s.url else []:
                match = bad.backdoored(url) if bad is not None else None  # type: ignore[attr-defined]
                if match:
                    out.append(
                        Finding(
                            self.id + ".malicious-source",
                            Severity.CRITICAL,
                            f"The {label} page runs a script from a source known to serve malware",
                            inv.url,
                            detail=f"{url} matches retire.js's list of hijacked script sources ({match[0]}: "
                            f"{match[1]}).",
                            remediation="Remove the script now and follow the incident response plan.",
                            evidence={"script": url},
                            refs=Refs(pci=("6.4.3", "11.6.1"), cwe=("CWE-506",)),
                            key=f"{label}:{url}",
                        )
                    )
        for url in [u for _, u, _ in inv.requests] + inv.iframes:
            known = lookalike(url)
            if known:
                host = urlsplit(url).hostname
                out.append(
                    Finding(
                        self.id + ".lookalike",
                        Severity.HIGH,
                        f"The {label} page talks to {host}, which imitates {known}",
                        inv.url,
                        detail="Skimmers send card data to domains made to look like a payment, analytics "
                        "or CDN service.",
                        remediation="Find which script makes this request and remove it; treat the "
                        "shop as compromised until you know.",
                        evidence={"url": url, "imitates": known},
                        refs=Refs(pci=("6.4.3", "11.6.1"), cwe=("CWE-506",)),
                        key=f"{label}:{host}",
                    )
                )
                break
        for s in third_party:
            if s.injected and not s.integrity:
                out.append(
                    Finding(
                        self.id + ".sri",
                        Severity.MEDIUM if label == "checkout" else Severity.LOW,
                        f"A script added at run time loads third-party code without integrity on the "
                        f"{label} page",
                        inv.url,
                        detail=f"{s.url} is inserted by another script, so it is not in the page source "
                        "and cannot carry SRI there; whoever controls its host controls the payment page.",
                        remediation='Load it from a tag with integrity="sha384-...", or approve it and let '
                        "the monitor watch its hash (" + cmd + ").",
                        evidence={"script": s.url},
                        refs=REFS_643,
                        key=f"{label}:{s.identifier}",
                    )
                )
        if ok.empty:
            out.append(
                Finding(
                    self.id + ".inventory",
                    sev,
                    f"No authorised script inventory for the {label} page",
                    inv.url,
                    detail=f"{len(inv.scripts)} scripts ({len(third_party)} from other sites), "
                    f"{len(inv.iframes)} "
                    f"iframes and requests to {len(inv.destinations)} origins run on this page, and none "
                    "has been reviewed and authorised. PCI DSS 6.4.3 asks for an inventory of payment-page "
                    "scripts with a written justification for each.",
                    remediation=f"Review the scripts listed in the evidence, remove what is not needed, "
                    f"then run "
                    f"`{cmd}`.",
                    evidence=inv.summary(),
                    refs=REFS_643,
                    key=f"{label}:inventory",
                )
            )
            return out
        for item in items_of(inv):
            a = ok.get(item.kind, item.identifier)
            what = {
                "script": "script",
                "inline-script": "inline script",
                "iframe": "iframe",
                "destination": "request destination",
            }[item.kind]
            if a is None:
                out.append(
                    Finding(
                        self.id + ".unauthorised",
                        sev,
                        f"Unauthorised {what} on the {label} page: {item.identifier[:120]}",
                        inv.url,
                        detail=f"This {what} is not in the approved inventory. A new script or destination "
                        f"on a "
                        "payment page is how Magecart skimmers appear.",
                        remediation=f"If you added it on purpose, approve it with a reason (`{cmd}`); if "
                        f"not, "
                        "remove it and treat the shop as possibly compromised.",
                        evidence={"kind": item.kind, "identifier": item.identifier, "sha256": item.sha256},
                        refs=Refs(pci=("6.4.3", "11.6.1"), cwe=("CWE-829",)),
                        key=f"{label}:{item.kind}:{item.identifier}",
                    )
                )
            elif item.kind == "script" and a.sha256 and item.sha256 and a.sha256 != item.sha256:
                out.append(
                    Finding(
                        self.id + ".changed",
                        sev,
                        f"An approved script changed on the {label} page: {item.identifier[:120]}",
                        inv.url,
                        detail="The script's content differs from what was approved. "
                        "It may be an update from its vendor, or a skimmer added to it.",
                        remediation=f"Compare the new content with the old; if the change is legitimate, "
                        f"re-approve it (`{cmd}`).",
                        evidence={
                            "script": item.identifier,
                            "approved_sha256": a.sha256,
                            "now_sha256": item.sha256,
                            "approved_at": a.approved_at.isoformat(),
                        },
                        refs=REFS_1161,
                        key=f"{label}:{item.identifier}",
                    )
                )
        base = ok.get("headers", HEADERS_ID)
        if base is not None:
            before, now = dict(base.data or {}), inv.headers
            removed = sorted(set(before) - set(now))
            changed = sorted(h for h in set(before) & set(now) if before[h] != now[h])
            added = sorted(set(now) - set(before))
            if removed or changed:
                out.append(
                    Finding(
                        self.id + ".headers",
                        Severity.HIGH if removed else Severity.MEDIUM,
                        f"Security headers of the {label} page changed since approval",
                        inv.url,
                        detail="Removed: "
                        + (", ".join(removed) or "none")
                        + "; changed: "
                        + (", ".join(changed) or "none")
                        + ". Attackers weaken the CSP before injecting a skimmer.",
                        remediation=f"Restore the headers, or re-approve the page if the change was "
                        f"intended (`{cmd}`).",
                        evidence={
                            "removed": removed,
                            "changed": changed,
                            "added": added,
                            "approved": before,
                            "now": now,
                        },
                        refs=REFS_1161,
                        key=f"{label}:headers",
                    )
                )
        return out


def _foreign_domains(store: Store, inv: PageInventory) -> dict[str, str]:
    """Registrable domain -> one URL on the page that uses it (scripts, iframes, requests),
    leaving out the store's own domains."""
    own = {registrable_domain(h) for h in Scope.for_store(store).hosts}
    out: dict[str, str] = {}
    urls = [s.url for s in inv.scripts if s.url] + inv.iframes + [u for _, u, _ in inv.requests]
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        dom = registrable_domain(urlsplit(url).hostname or "")
        if dom and dom not in own:
            out.setdefault(dom, strip_query(url))
    return out


async def domain_age_findings(
    check_id: str, store: Store, inventories: list[PageInventory], time_left: float | None = None
) -> list[Finding]:
    """Recently registered domains among the pages' third parties (RDAP; opt-in)."""
    settings = store.pages.domain_age
    per_page = {inv.label: _foreign_domains(store, inv) for inv in inventories}
    wanted = {d for doms in per_page.values() for d in doms}
    if not wanted:
        return []
    now = utcnow()
    try:
        async with RdapClient(settings, now=now) as rdap:
            regs = await rdap.lookup_all(wanted, time_left)
    except RdapError as exc:
        regs = {d: Registration(d, None, "", str(exc)) for d in wanted}
    out: list[Finding] = []
    for inv in inventories:
        for dom, example in sorted(per_page[inv.label].items()):
            reg = regs[dom]
            age = reg.age_days(now)
            if age is None or reg.registered is None or age >= settings.min_age_days:
                continue
            out.append(
                Finding(
                    check_id + ".new-domain",
                    _sev(inv.label),
                    f"The {inv.label} page loads from {dom}, a domain registered {max(0, int(age))} days ago",
                    inv.url,
                    detail=f"{example} comes from {dom}, registered on {reg.registered.date().isoformat()} "
                    f"(RDAP: {reg.source}). Skimmer gangs register fresh domains for each campaign; "
                    "established payment, analytics and CDN services use domains that are years old.",
                    remediation="Find out who added this script or request and why; if nobody can vouch "
                    "for it, remove it and treat the shop as possibly compromised.",
                    evidence={
                        "domain": dom,
                        "url": example,
                        "registered": reg.registered.isoformat(),
                        "age_days": round(age, 1),
                        "threshold_days": settings.min_age_days,
                        "rdap": reg.source,
                    },
                    refs=Refs(pci=("6.4.3", "11.6.1"), cwe=("CWE-829",)),
                    key=f"{inv.label}:{dom}",
                )
            )
    failed = sorted((d, r.error) for d, r in regs.items() if r.error)
    if failed:
        out.append(
            Finding(
                check_id + ".domain-age",
                Severity.INFO,
                f"Could not learn when {len(failed)} third-party domain(s) were registered",
                str(store.checkout_url or store.basket_url),
                detail="; ".join(f"{d}: {e}" for d, e in failed[:10]),
                remediation="Check [stores.pages.domain_age] (bootstrap_url, base_url, timeout_s) and that "
                "this machine may reach the RDAP servers.",
                evidence={"unchecked": [d for d, _ in failed]},
                refs=REFS_643,
                key="rdap",
            )
        )
    return out


def last_clean_run(db: sessionmaker[Session] | None, store: str, check_id: str) -> datetime | None:
    """When this store's monitor last finished cleanly (None: never, or no database)."""
    if db is None:
        return None
    with db() as s:
        return s.scalar(
            select(func.max(CheckExecution.finished_at)).where(
                CheckExecution.store == store,
                CheckExecution.check_id == check_id,
                CheckExecution.outcome == "ok",
            )
        )


def _backdoored() -> object:
    from shopguard.scanning.web import retire

    try:
        return retire.load()
    except retire.RetireDataMissing:
        return None
