"""Triage rules in one place: what "still counts as open" means, and the changes people make.

An accepted risk carries an expiry. It is never rewritten when the date passes: every
reader (the overview, the findings list, the CLI, reports, the other protocols' checks)
asks :func:`counts_as_open` / :func:`triage_holds` with the current time, so a lapsed
acceptance counts as open everywhere at the same moment, and the old decision stays on
record for the auditor.

The change functions work inside the caller's transaction so a dashboard change and its
audit-log entry commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from shopguard.config import FindingsSettings
from shopguard.db.base import utcnow
from shopguard.db.models import FindingComment, FindingRecord
from shopguard.fielderror import FieldError
from shopguard.findings import FindingStatus, Triage

MAX_COMMENT = 4000


class TriageError(FieldError):
    """A triage request that cannot be applied; ``field`` names the input at fault."""


def lapsed(now: datetime | None = None) -> Any:
    """SQL: an accepted risk whose expiry has passed."""
    now = now or utcnow()
    return and_(
        FindingRecord.triage == Triage.ACCEPTED_RISK.value,
        FindingRecord.triage_expires_at.is_not(None),
        FindingRecord.triage_expires_at <= now,
    )


def untriaged(now: datetime | None = None) -> Any:
    """SQL: no triage decision holds (never triaged, reopened, or an acceptance that lapsed)."""
    return or_(FindingRecord.triage == Triage.NONE.value, lapsed(now))


def triage_holds(now: datetime | None = None) -> Any:
    """SQL: a false positive, or an accepted risk not yet expired."""
    return and_(FindingRecord.triage != Triage.NONE.value, ~lapsed(now))


def counts_as_open(now: datetime | None = None) -> Any:
    """SQL: the finding is not resolved and no triage decision holds."""
    return and_(FindingRecord.status != FindingStatus.RESOLVED.value, untriaged(now))


def effective(triage: str, expires_at: datetime | None, now: datetime | None = None) -> Triage:
    """The same rule in Python, for rows already loaded."""
    now = now or utcnow()
    if triage == Triage.ACCEPTED_RISK.value and expires_at is not None and expires_at <= now:
        return Triage.NONE
    return Triage(triage)


def expiry_for(settings: FindingsSettings, expires: date | None, today: date | None = None) -> datetime:
    """The expiry of an acceptance made today: the given date (end of that day, UTC), or the
    default; refused when in the past or beyond the configured maximum."""
    today = today or utcnow().date()
    if expires is None:
        expires = today + timedelta(days=settings.accept_risk_default_days)
    if expires <= today:
        raise TriageError("expires", "choose a date after today")
    latest = today + timedelta(days=settings.accept_risk_max_days)
    if expires > latest:
        raise TriageError(
            "expires",
            f"at most {settings.accept_risk_max_days} days ahead ({latest.isoformat()}); "
            "review the risk again then",
        )
    return datetime.combine(expires, time(23, 59, 59), tzinfo=UTC)


def apply_triage(
    rec: FindingRecord,
    triage: Triage,
    reason: str,
    by: str,
    settings: FindingsSettings,
    expires: date | None = None,
) -> None:
    """Record a decision on ``rec`` (in the caller's session). Accepting a risk needs a
    reason and gets an expiry; a false positive needs a reason; reopen clears both."""
    reason = reason.strip()
    if triage is not Triage.NONE and not reason:
        raise TriageError("reason", "say why (an auditor will read this)")
    rec.triage_expires_at = expiry_for(settings, expires) if triage is Triage.ACCEPTED_RISK else None
    rec.triage = triage.value
    rec.triage_reason = reason
    rec.triage_by = by
    rec.triage_at = utcnow()


def add_comment(s: Session, rec: FindingRecord, author: str, body: str) -> FindingComment:
    body = body.strip()
    if not body:
        raise TriageError("body", "write something")
    if len(body) > MAX_COMMENT:
        raise TriageError("body", f"at most {MAX_COMMENT} characters")
    c = FindingComment(finding_id=rec.id, author=author, at=utcnow(), body=body)
    s.add(c)
    s.flush()
    return c


def comments(s: Session, finding_id: int) -> list[FindingComment]:
    return list(
        s.scalars(
            select(FindingComment)
            .where(FindingComment.finding_id == finding_id)
            .order_by(FindingComment.at, FindingComment.id)
        )
    )


ACTIONS = ("accept_risk", "false_positive", "reopen", "assign")
TRIAGE_OF = {
    "accept_risk": Triage.ACCEPTED_RISK,
    "false_positive": Triage.FALSE_POSITIVE,
    "reopen": Triage.NONE,
}


def bulk(
    s: Session,
    records: Sequence[FindingRecord],
    action: str,
    by: str,
    settings: FindingsSettings,
    reason: str = "",
    expires: date | None = None,
    assignee: str = "",
) -> list[FindingRecord]:
    """Apply one action to many findings (the caller has checked they may see each one);
    all or nothing: a bad input raises before anything changes."""
    if action not in ACTIONS:
        raise TriageError("action", "choose accept risk, false positive, assign or reopen")
    if not records:
        raise TriageError("ids", "select at least one finding")
    if action == "assign":
        for rec in records:
            rec.assignee = assignee
        return list(records)
    triage = TRIAGE_OF[action]
    if triage is not Triage.NONE and not reason.strip():
        raise TriageError("reason", "say why (an auditor will read this)")
    if triage is Triage.ACCEPTED_RISK:
        expiry_for(settings, expires)  # validate once before changing anything
    for rec in records:
        apply_triage(rec, triage, reason, by, settings, expires)
    return list(records)
