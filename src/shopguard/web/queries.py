"""Read models for the pages: aggregate in SQL so pages stay fast at agency scale.

The overview scores each store the way ``shopguard.readiness.litmus`` scores a run
(not assessed / gaps / ready), from the current state: the newest execution of each
check per store and the findings that are still open and untriaged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, defer

from shopguard.checks import Outcome
from shopguard.db.models import CheckExecution, FindingRecord, RunRecord
from shopguard.db.triage import counts_as_open, triage_holds
from shopguard.findings import PROTOCOL_TITLES, PROTOCOLS, FindingStatus, Severity, protocol_of
from shopguard.readiness import ReadinessStatus
from shopguard.web.ttlcache import TTLCache

SEVERITIES = tuple(s.value for s in reversed(Severity))
_WEIGHT = {"critical": 1000, "high": 100, "medium": 10, "low": 1, "info": 0}
PAGE_SIZE = 50


@dataclass
class StoreRow:
    store: str
    protocols: dict[str, ReadinessStatus] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    failed_checks: int = 0

    @property
    def risk(self) -> int:
        score = sum(_WEIGHT[s] * n for s, n in self.counts.items())
        score += 50 * sum(1 for v in self.protocols.values() if v is ReadinessStatus.NOT_ASSESSED)
        return score + 20 * self.failed_checks

    @property
    def ready(self) -> int:
        return sum(1 for v in self.protocols.values() if v is ReadinessStatus.READY)


def _open_untriaged() -> Any:
    """Not resolved and no triage decision holds (a lapsed risk acceptance counts as open)."""
    return counts_as_open()


def all_stores(s: Session, known: tuple[str, ...] = ()) -> list[str]:
    names = set(known)
    names.update(s.scalars(select(FindingRecord.store).distinct()))
    names.update(s.scalars(select(CheckExecution.store).distinct()))
    return sorted(names)


def overview(s: Session, stores: list[str], scoped: bool = True) -> list[StoreRow]:
    """One row per store, most at risk first. ``scoped`` False: ``stores`` is every store."""
    rows = {name: StoreRow(name) for name in stores}
    if not rows:
        return []
    cq = select(FindingRecord.store, FindingRecord.protocol, FindingRecord.severity, func.count()).where(
        _open_untriaged()
    )
    if scoped:
        cq = cq.where(FindingRecord.store.in_(list(rows)))
    counts = s.execute(cq.group_by(FindingRecord.store, FindingRecord.protocol, FindingRecord.severity)).all()
    gaps: dict[tuple[str, str], bool] = defaultdict(bool)
    for store, proto, sev, n in counts:
        if store not in rows:
            continue
        rows[store].counts[sev] = rows[store].counts.get(sev, 0) + n
        if Severity(sev) >= Severity.MEDIUM:
            gaps[(store, proto)] = True
    newest = select(func.max(CheckExecution.id)).group_by(CheckExecution.store, CheckExecution.check_id)
    if scoped:
        newest = newest.where(CheckExecution.store.in_(list(rows)))
    ok: dict[tuple[str, str], int] = defaultdict(int)
    failed: dict[tuple[str, str], int] = defaultdict(int)
    for store, check_id, outcome in s.execute(
        select(CheckExecution.store, CheckExecution.check_id, CheckExecution.outcome).where(
            CheckExecution.id.in_(newest)
        )
    ):
        if store not in rows:
            continue
        try:
            proto = protocol_of(check_id)
        except ValueError:
            continue
        if outcome == Outcome.OK.value:
            ok[(store, proto)] += 1
        else:
            failed[(store, proto)] += 1
            rows[store].failed_checks += 1
    for name, row in rows.items():
        for proto in PROTOCOLS:
            key = (name, proto)
            if ok[key] == 0:
                row.protocols[proto] = ReadinessStatus.NOT_ASSESSED
            elif gaps[key] or failed[key]:
                row.protocols[proto] = ReadinessStatus.GAPS
            else:
                row.protocols[proto] = ReadinessStatus.READY
    return sorted(rows.values(), key=lambda r: (-r.risk, r.store))


@dataclass(frozen=True)
class FindingFilter:
    store: str = ""
    protocol: str = ""
    severity: str = ""
    status: str = "open"
    """open (new or open, untriaged), triaged, resolved, all"""
    page: int = 1
    assigned: str = ""
    """"" anyone, "me" (``assignee`` must then be the user's email), "none" unassigned."""
    assignee: str = ""

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.protocol and self.protocol not in PROTOCOLS:
            errors["protocol"] = f"one of {', '.join(PROTOCOLS)}"
        if self.severity and self.severity not in SEVERITIES:
            errors["severity"] = f"one of {', '.join(SEVERITIES)}"
        if self.status not in ("open", "triaged", "resolved", "all"):
            errors["status"] = "one of open, triaged, resolved, all"
        if self.page < 1 or self.page > 100000:
            errors["page"] = "a page number from 1"
        if self.assigned not in ("", "me", "none"):
            errors["assigned"] = "anyone, me or none"
        return errors


def _filtered(stores: list[str] | None, flt: FindingFilter) -> Any:
    q = select(FindingRecord)
    if stores is not None:
        q = q.where(FindingRecord.store.in_(stores))
    if flt.store:
        q = q.where(FindingRecord.store == flt.store)
    if flt.protocol:
        q = q.where(FindingRecord.protocol == flt.protocol)
    if flt.severity:
        q = q.where(FindingRecord.severity == flt.severity)
    if flt.status == "open":
        q = q.where(_open_untriaged())
    elif flt.status == "triaged":
        q = q.where(triage_holds(), FindingRecord.status != FindingStatus.RESOLVED.value)
    elif flt.status == "resolved":
        q = q.where(FindingRecord.status == FindingStatus.RESOLVED.value)
    if flt.assigned == "me":
        q = q.where(FindingRecord.assignee == flt.assignee)
    elif flt.assigned == "none":
        q = q.where(FindingRecord.assignee == "")
    return q


_LIST_ONLY = tuple(
    defer(column, raiseload=True)
    for column in (FindingRecord.detail, FindingRecord.evidence, FindingRecord.refs)
)
"""A list shows neither the detail nor the evidence (JSON to decode for every row): not loaded."""


def severity_counts(s: Session, stores: list[str] | None, flt: FindingFilter) -> dict[str, int]:
    """How many findings match ``flt`` (its page aside), per severity."""
    sub = _filtered(stores, flt).with_only_columns(FindingRecord.severity).subquery()
    counted = s.execute(select(sub.c.severity, func.count()).group_by(sub.c.severity))
    return {sev: int(n) for sev, n in counted}


def findings(
    s: Session,
    stores: list[str] | None,
    flt: FindingFilter,
    counts: TTLCache[dict[str, int]] | None = None,
) -> tuple[list[FindingRecord], int]:
    """A page of findings (most severe, then most recently seen first) and the total count.

    ``stores`` None means every store. The page is read severity by severity so that each
    part is an index range scan on (severity, last_seen) instead of a sort of every match.
    Counting every match is the expensive part (tens of milliseconds over 100,000 findings),
    so with ``counts`` the per-severity totals are shared for a few seconds between the
    pages of one filter and between users with the same stores.
    """
    q = _filtered(stores, flt)
    if counts is None:
        per_sev = severity_counts(s, stores, flt)
    else:
        key = (tuple(stores) if stores is not None else None, replace(flt, page=1))

        def count() -> dict[str, int]:
            # Its own session: the cache may run this on a refresh thread after the request ends.
            with Session(s.get_bind()) as own:
                return severity_counts(own, stores, flt)

        per_sev = counts.get(key, count)
    total = sum(per_sev.values())
    skip = (flt.page - 1) * PAGE_SIZE
    want = PAGE_SIZE
    page: list[FindingRecord] = []
    for sev in SEVERITIES:
        n = per_sev.get(sev, 0)
        if skip >= n:
            skip -= n
            continue
        part = s.scalars(
            q.options(*_LIST_ONLY)
            .where(FindingRecord.severity == sev)
            .order_by(FindingRecord.last_seen.desc(), FindingRecord.id.desc())
            .limit(want)
            .offset(skip)
        )
        page.extend(part)
        skip = 0
        want = PAGE_SIZE - len(page)
        if want <= 0:
            break
    return page, total


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str
    stores: str
    status: str
    started_at: Any
    finished_at: Any
    checks: int
    errors: int


def runs(s: Session, stores: list[str], limit: int = 100) -> list[RunRow]:
    """Newest runs touching any visible store, with check and error counts."""
    errors = func.sum(case((CheckExecution.outcome != Outcome.OK.value, 1), else_=0))
    q = (
        select(RunRecord, func.count(CheckExecution.id), errors)
        .join(CheckExecution, CheckExecution.run_id == RunRecord.id)
        .where(CheckExecution.store.in_(stores))
        .group_by(RunRecord.id)
        .order_by(RunRecord.id.desc())
        .limit(limit)
    )
    return [
        RunRow(r.id, r.kind, r.stores, r.status, r.started_at, r.finished_at, int(n), int(e or 0))
        for r, n, e in s.execute(q)
    ]


def protocol_titles() -> dict[str, str]:
    return dict(PROTOCOL_TITLES)
