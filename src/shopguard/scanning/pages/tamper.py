"""Change and tamper detection between runs (PCI DSS 11.6.1), and its push alert.

Each run records what the browser received on each payment page (script inventory with
content hashes, iframes, security headers) as an info finding, ``scanning.pages.observed``;
the runner stores it like any finding, so checks never write. The next run compares
the page with that record: a difference is a ``scanning.pages.tamper`` finding whose key
names the previous run, so each change is a new finding exactly once. After the run,
:func:`alert_page_changes` pushes a summary of every new tamper finding through the
configured alert channels (the same apprise channels as monitoring).

The first run only records (a baseline); a page that stays changed is compared with its
changed self next time, so it raises nothing more. The approved inventory
(``shopguard pages approve``) is a separate, lasting comparison.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.models import FindingRecord
from shopguard.findings import Finding, FindingStatus, Refs, Severity
from shopguard.scanning.pages.browser import PageInventory, strip_query

if TYPE_CHECKING:
    from shopguard.config import Config
    from shopguard.db.repository import StoredRun
    from shopguard.monitoring.channels import Delivery

log = logging.getLogger(__name__)

OBSERVED = "scanning.pages.observed"
TAMPER = "scanning.pages.tamper"
REFS_1161 = Refs(pci=("11.6.1",), cwe=("CWE-494",))
LIST_MAX = 10


def page_state(inv: PageInventory) -> dict[str, Any]:
    """What 11.6.1 watches, as the browser received it: scripts (identifier -> content hash,
    empty for inline scripts whose identifier is their hash), iframes and security headers."""
    return {
        "scripts": {s.identifier: s.sha256 for s in inv.scripts},
        "iframes": sorted(inv.iframes),
        "headers": dict(sorted(inv.headers.items())),
    }


def digest(state: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Previous:
    state: dict[str, Any]
    run_id: int | None


def previous_states(db: sessionmaker[Session] | None, store: str) -> dict[str, Previous]:
    """The last recorded state per page label (none on a first run or without a database)."""
    if db is None:
        return {}
    out: dict[str, Previous] = {}
    with db() as s:
        for rec in s.scalars(
            select(FindingRecord)
            .where(FindingRecord.store == store, FindingRecord.check_id == OBSERVED)
            .order_by(FindingRecord.last_seen.desc(), FindingRecord.id.desc())
        ):  # newest first: a page whose URL was reconfigured has an older record too
            state = (rec.evidence or {}).get("state")
            if isinstance(state, dict) and rec.key not in out:
                out[rec.key] = Previous(state, rec.last_run_id)
    return out


def diff_states(before: dict[str, Any], now: dict[str, Any]) -> dict[str, list[str]]:
    """What changed, by names only (script identifiers, iframe URLs, header names): no header
    values or query strings, which may hold tokens."""
    old_s: dict[str, str] = before.get("scripts", {})
    new_s: dict[str, str] = now.get("scripts", {})
    old_h: dict[str, str] = before.get("headers", {})
    new_h: dict[str, str] = now.get("headers", {})
    old_f, new_f = set(before.get("iframes", [])), set(now.get("iframes", []))
    out = {
        "scripts_added": sorted(set(new_s) - set(old_s)),
        "scripts_removed": sorted(set(old_s) - set(new_s)),
        "scripts_changed": sorted(k for k in set(old_s) & set(new_s) if old_s[k] != new_s[k]),
        "headers_removed": sorted(set(old_h) - set(new_h)),
        "headers_added": sorted(set(new_h) - set(old_h)),
        "headers_changed": sorted(k for k in set(old_h) & set(new_h) if old_h[k] != new_h[k]),
        "iframes_added": sorted(new_f - old_f),
        "iframes_removed": sorted(old_f - new_f),
    }
    return {k: v for k, v in out.items() if v}


_LABELS = {
    "scripts_added": "New scripts",
    "scripts_removed": "Scripts gone",
    "scripts_changed": "Scripts whose content changed",
    "headers_removed": "Security headers removed",
    "headers_added": "Security headers added",
    "headers_changed": "Security headers changed",
    "iframes_added": "New iframes",
    "iframes_removed": "Iframes gone",
}


def summarize(changes: dict[str, list[str]]) -> str:
    """Plain lines, one per kind of change, at most LIST_MAX names each."""
    lines = []
    for key, label in _LABELS.items():
        names = changes.get(key, [])
        if names:
            more = f" (+{len(names) - LIST_MAX} more)" if len(names) > LIST_MAX else ""
            lines.append(f"{label}: {', '.join(n[:200] for n in names[:LIST_MAX])}{more}")
    return "\n".join(lines)


def tamper_findings(
    check_id: str, inventories: list[PageInventory], previous: dict[str, Previous], severity_of: Any
) -> list[Finding]:
    """The observed-state record of every loaded page, and a tamper finding where it changed."""
    out: list[Finding] = []
    for inv in inventories:
        state = page_state(inv)
        now_digest = digest(state)
        out.append(
            Finding(
                OBSERVED,
                Severity.INFO,
                f"Recorded what the browser received on the {inv.label} page: {len(inv.scripts)} scripts, "
                f"{len(inv.iframes)} iframes, {len(inv.headers)} security headers",
                strip_query(inv.url),
                detail="The next run compares the page with this record and reports any change "
                "(PCI DSS 11.6.1 change and tamper detection).",
                remediation="Nothing to do: this is the monitor's record of the page.",
                evidence={"digest": now_digest, "state": state},
                refs=REFS_1161,
                key=inv.label,
            )
        )
        prev = previous.get(inv.label)
        if prev is None or digest(prev.state) == now_digest:
            continue
        changes = diff_states(prev.state, state)
        headers_weaker = bool(changes.get("headers_removed") or changes.get("headers_changed"))
        scripts_moved = bool(changes.get("scripts_added") or changes.get("scripts_changed"))
        sev = severity_of(inv.label) if (headers_weaker or scripts_moved) else Severity.LOW
        out.append(
            Finding(
                TAMPER,
                sev,
                f"The {inv.label} page changed since the last check",
                strip_query(inv.url),
                detail=summarize(changes)
                + "\nA payment page that changes without a deploy is how Magecart skimmers show up.",
                remediation="Confirm the change with whoever maintains the shop. If it was intended, "
                "approve the new scripts (`shopguard pages approve`); if not, follow the incident "
                "response plan for a compromised payment page.",
                evidence={"changes": changes, "previous_run": prev.run_id, "digest": now_digest},
                refs=Refs(pci=("11.6.1", "6.4.3"), cwe=("CWE-494",)),
                key=f"{inv.label}:{prev.run_id}:{now_digest[:16]}",
            )
        )
    return out


def alert_page_changes(db: sessionmaker[Session], run: StoredRun, config: Config | None) -> list[Delivery]:
    """Push one alert per new payment-page change in ``run`` to the configured channels.

    Only findings that are *new* in this run alert, so a page that stays changed (or a run
    looked at twice) does not alert again. Channel URLs are resolved only inside ``send``."""
    from shopguard.monitoring import AlertEvent, emit
    from shopguard.monitoring.channels import notify_type, render, route, send
    from shopguard.response import incidents_for_findings

    if config is None or not config.alerts or run.status != "finished":
        return []
    out: list[Delivery] = []
    for sf in run.findings:
        f = sf.finding
        if f.check_id != TAMPER or sf.status is not FindingStatus.NEW:
            continue
        channels = route(config.alerts, f.severity.value)
        if not channels:
            continue
        with db() as s:
            rec_id = s.scalar(
                select(FindingRecord.id).where(
                    FindingRecord.store == sf.store, FindingRecord.fingerprint == f.fingerprint
                )
            )
            incident = incidents_for_findings(s, [rec_id]).get(rec_id) if rec_id is not None else None
        page = f.key.split(":", 1)[0]
        event = AlertEvent(
            store=sf.store,
            monitor=f"{page} page scripts and headers",
            kind="scanning.pages",
            event="changed",
            severity=f.severity.value,
            cause=f"The {page} page changed since the last check (PCI DSS 11.6.1).\n"
            + summarize(f.evidence.get("changes", {})),
            at=sf.last_seen,
            incident_id=str(incident) if incident is not None else None,
            target=f.location,
        )
        title, body = render(event)
        delivery = send(channels, title, body, notify_type("changed"))
        emit(event)
        if delivery.failed:
            log.warning("payment-page change alert for %s: %s", sf.store, "; ".join(delivery.failed))
        out.append(delivery)
    return out
