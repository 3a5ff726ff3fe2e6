"""Auto-evidence: what ShopGuard's own check runs and findings say about a requirement.

Rules (in this order):

1. Any open finding of medium or higher from a mapped check (or any finding that names
   the requirement in its PCI refs) -> suggest **Not in Place**, with the findings linked.
   "Open" means not resolved and not marked false positive; an accepted risk stays open
   here because PCI DSS has no risk acceptance (use a compensating control instead).
2. A mapped check prefix with no registered check -> **no module**: ShopGuard says it
   cannot speak for it instead of guessing.
3. A mapped check that has not run cleanly within the requirement's frequency ->
   **no recent run**: run it first.
4. Otherwise -> suggest **In Place**, citing the clean runs.

A suggestion is never an answer: ``shopguard pci confirm`` turns it into one, with the
name of the person who confirmed it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import Outcome, all_checks
from shopguard.db.base import utcnow
from shopguard.db.models import CheckExecution, FindingRecord
from shopguard.findings import FindingStatus, Severity, Triage
from shopguard.pci.assessment import (
    Answer,
    AnswerInput,
    PciError,
    require_assessment,
    save_answers,
)
from shopguard.pci.catalogue import Requirement, Saq, load_catalogue
from shopguard.pci.models import PciSuggestion

GAP_SEVERITIES = tuple(s.value for s in Severity if s >= Severity.MEDIUM)


class Suggested(StrEnum):
    IN_PLACE = "in-place"
    NOT_IN_PLACE = "not-in-place"
    NO_RECENT_RUN = "no-recent-run"
    NO_MODULE = "no-module"
    MANUAL = "manual"
    """ShopGuard has no check for this requirement: a person answers it."""

    @property
    def confirmable(self) -> bool:
        return self in (Suggested.IN_PLACE, Suggested.NOT_IN_PLACE)


@dataclass(frozen=True)
class FindingRef:
    fingerprint: str
    check_id: str
    severity: str
    title: str
    location: str
    status: str


@dataclass(frozen=True)
class Suggestion:
    requirement_id: str
    suggested: Suggested
    reason: str
    findings: tuple[FindingRef, ...] = ()
    checks: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    """Supplying checks with their last clean run: {"check_id", "last_ok"}."""


def registered_check_ids() -> list[str]:
    return [c.id for c in all_checks()]


def _supplies(check_id: str, prefix: str) -> bool:
    """A registered check speaks for a prefix if one contains the other."""
    return check_id == prefix or check_id.startswith(prefix + ".") or prefix.startswith(check_id + ".")


def _under(column: Any, prefix: str) -> Any:
    return (column == prefix) | column.startswith(prefix + ".")


def open_gaps(s: Session, store: str) -> list[FindingRecord]:
    """The store's open findings of medium or higher (false positives excluded)."""
    q = select(FindingRecord).where(
        FindingRecord.store == store,
        FindingRecord.status != FindingStatus.RESOLVED.value,
        FindingRecord.triage != Triage.FALSE_POSITIVE.value,
        FindingRecord.severity.in_(GAP_SEVERITIES),
    )
    return list(s.scalars(q))


def open_gap_findings(
    s: Session, store: str, prefixes: Sequence[str], req_id: str, gaps: Sequence[FindingRecord] | None = None
) -> list[FindingRecord]:
    """Open medium+ findings under the prefixes, or naming the requirement in refs.pci."""
    out = []
    for rec in gaps if gaps is not None else open_gaps(s, store):
        by_prefix = any(rec.check_id == p or rec.check_id.startswith(p + ".") for p in prefixes)
        by_ref = req_id in ((rec.refs or {}).get("pci") or ())
        if by_prefix or by_ref:
            out.append(rec)
    return sorted(out, key=lambda r: (-Severity(r.severity).rank, r.check_id, r.location))


def last_clean_run(s: Session, store: str, check_id: str) -> datetime | None:
    return s.scalar(
        select(func.max(CheckExecution.finished_at)).where(
            CheckExecution.store == store,
            CheckExecution.check_id == check_id,
            CheckExecution.outcome == Outcome.OK.value,
        )
    )


def suggest(
    s: Session,
    req: Requirement,
    store: str,
    *,
    registered: Collection[str],
    now: datetime | None = None,
    open_findings: Sequence[FindingRecord] | None = None,
) -> Suggestion:
    now = now or utcnow()
    gaps = open_gap_findings(s, store, req.checks, req.id, open_findings)
    if gaps:
        refs = tuple(
            FindingRef(g.fingerprint, g.check_id, g.severity, g.title, g.location, g.status) for g in gaps
        )
        worst = refs[0]
        return Suggestion(
            req.id,
            Suggested.NOT_IN_PLACE,
            f"{len(refs)} open finding(s) of medium or higher, e.g. [{worst.severity}] {worst.title} "
            f"({worst.location}). Fix them, re-run the scan, then confirm again.",
            refs,
        )
    if not req.checks:
        return Suggestion(
            req.id,
            Suggested.MANUAL,
            f"ShopGuard has no check for this; answer it yourself and attach {req.evidence} evidence.",
        )
    missing = [p for p in req.checks if not any(_supplies(c, p) for c in registered)]
    if missing:
        return Suggestion(
            req.id,
            Suggested.NO_MODULE,
            f"The ShopGuard module that would supply this evidence ({', '.join(missing)}) is not built "
            "or not installed, so ShopGuard cannot tell; answer it yourself with your own evidence.",
        )
    assert req.frequency_days is not None
    since = now - timedelta(days=req.frequency_days)
    supplying = sorted({c for c in registered for p in req.checks if _supplies(c, p)})
    runs: list[dict[str, Any]] = []
    stale: list[str] = []
    for cid in supplying:
        last = last_clean_run(s, store, cid)
        runs.append({"check_id": cid, "last_ok": last.isoformat() if last else None})
        if last is None or last < since:
            when = f"last clean run {last:%Y-%m-%d}" if last else "never ran cleanly"
            stale.append(f"{cid} ({when})")
    if stale:
        return Suggestion(
            req.id,
            Suggested.NO_RECENT_RUN,
            f"Evidence must be at most {req.frequency_days} days old, but: {'; '.join(stale)}. "
            "Run `shopguard audit` (or the scan) and suggest again.",
            checks=tuple(runs),
        )
    return Suggestion(
        req.id,
        Suggested.IN_PLACE,
        f"{', '.join(supplying)} ran cleanly within the last {req.frequency_days} days and left no open "
        "finding of medium or higher.",
        checks=tuple(runs),
    )


def compute_suggestions(
    db: sessionmaker[Session],
    store: str,
    year: int,
    *,
    registered: Collection[str] | None = None,
    now: datetime | None = None,
) -> list[Suggestion]:
    """Suggest for every applicable requirement and store the suggestions (one transaction)."""
    reg = list(registered) if registered is not None else registered_check_ids()
    cat = load_catalogue()
    with db.begin() as s:
        a = require_assessment(s, store, year)
        found = open_gaps(s, store)
        out = [
            suggest(s, r, store, registered=reg, now=now, open_findings=found)
            for r in cat.for_saq(Saq(a.saq))
        ]
        existing = {
            p.requirement_id: p
            for p in s.scalars(select(PciSuggestion).where(PciSuggestion.assessment_id == a.id))
        }
        stamp = now or utcnow()
        for sug in out:
            rec = existing.get(sug.requirement_id)
            if rec is None:
                rec = PciSuggestion(assessment_id=a.id, requirement_id=sug.requirement_id)
                s.add(rec)
            rec.suggestion = sug.suggested.value
            rec.reason = sug.reason
            rec.findings = [f.fingerprint for f in sug.findings]
            rec.checks = list(sug.checks)
            rec.computed_at = stamp
    return out


def confirm(
    db: sessionmaker[Session],
    store: str,
    year: int,
    requirement_ids: Sequence[str],
    person: str,
    *,
    registered: Collection[str] | None = None,
    now: datetime | None = None,
) -> list[Suggestion]:
    """Turn fresh suggestions into answers in a person's name.

    Only In Place and Not in Place suggestions can be confirmed; anything else is an
    error naming the requirement, and then nothing is written.
    """
    if not person.strip():
        raise PciError("field 'by': the name of the person confirming is required")
    reg = list(registered) if registered is not None else registered_check_ids()
    cat = load_catalogue()
    with db() as s:
        a = require_assessment(s, store, year)
        saq = Saq(a.saq)
        fresh: list[Suggestion] = []
        for rid in requirement_ids:
            if not cat.has(rid) or saq not in cat.get(rid).saqs:
                raise PciError(f"requirement {rid}: not part of {saq.long_name}")
            sug = suggest(s, cat.get(rid), store, registered=reg, now=now)
            if not sug.suggested.confirmable:
                raise PciError(f"requirement {rid}: nothing to confirm ({sug.suggested.value}): {sug.reason}")
            fresh.append(sug)
    items = [
        AnswerInput(
            requirement_id=sug.requirement_id,
            answer=Answer.IN_PLACE if sug.suggested is Suggested.IN_PLACE else Answer.NOT_IN_PLACE,
            person=person,
            justification=f"Confirmed from ShopGuard evidence: {sug.reason}",
            source="suggestion",
            findings=tuple(f.fingerprint for f in sug.findings),
        )
        for sug in fresh
    ]
    save_answers(db, store, year, items)
    return fresh
