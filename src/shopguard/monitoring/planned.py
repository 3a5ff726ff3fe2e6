"""Maintenance windows planned at run time (from the dashboard), stored in the database.

Windows in shopguard.toml stay the place for recurring maintenance; these are one-off
windows someone plans for tonight's update and may end early. The daemon re-reads them
every few seconds (``Daemon.load_planned``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.db.base import utcnow
from shopguard.fielderror import FieldError
from shopguard.monitoring.models import MaintenanceRecord

MAX_LENGTH = timedelta(days=31)


class WindowError(FieldError):
    """A bad field in a planned window: ``field`` names the form field."""


def plan(
    s: Session,
    store: str,
    start: datetime,
    end: datetime,
    reason: str,
    by: str,
    monitors: Sequence[str] = (),
    known_monitors: Sequence[str] | None = None,
    now: datetime | None = None,
) -> MaintenanceRecord:
    """Add a window (in the caller's transaction). ``known_monitors``: the store's monitor
    names, to refuse a typo that would silently cover nothing."""
    now = now or utcnow()
    if start.tzinfo is None or end.tzinfo is None:
        raise WindowError("start", "times need a timezone (UTC)")
    if end <= now:
        raise WindowError("end", "is already in the past")
    if end <= start:
        raise WindowError("end", "must be after the start")
    if end - start > MAX_LENGTH:
        raise WindowError("end", "a window is at most 31 days; use a recurring window in shopguard.toml")
    if not reason.strip():
        raise WindowError("reason", "say what the maintenance is (people read it later)")
    names = [m.strip() for m in monitors if m.strip()]
    if known_monitors is not None:
        unknown = sorted(set(names) - set(known_monitors))
        if unknown:
            raise WindowError("monitors", f"{store} has no monitor named {', '.join(unknown)}")
    rec = MaintenanceRecord(
        store=store,
        monitors=names,
        start_at=start,
        end_at=end,
        reason=reason.strip()[:2000],
        created_by=by,
        created_at=now,
        ended_by="",
    )
    s.add(rec)
    s.flush()
    return rec


def end(s: Session, window_id: int, by: str, now: datetime | None = None) -> MaintenanceRecord:
    """End a window now (a planned one that has not begun is cancelled: it ends at its start)."""
    now = now or utcnow()
    rec = s.get(MaintenanceRecord, window_id)
    if rec is None:
        raise WindowError("window_id", f"no maintenance window {window_id}")
    if rec.end_at <= now or rec.ended_at is not None:
        raise WindowError("window_id", f"window {window_id} has already ended")
    rec.end_at = max(rec.start_at, now)
    rec.ended_at = now
    rec.ended_by = by
    s.flush()
    return rec


def listed(
    s: Session,
    stores: Sequence[str] | None,
    now: datetime | None = None,
    ended_days: int = 7,
    limit: int = 200,
) -> list[MaintenanceRecord]:
    """Current and coming windows, then those that ended in the last ``ended_days``."""
    now = now or utcnow()
    q = select(MaintenanceRecord).where(MaintenanceRecord.end_at > now - timedelta(days=ended_days))
    if stores is not None:
        q = q.where(MaintenanceRecord.store.in_(list(stores)))
    rows = list(s.scalars(q.order_by(MaintenanceRecord.start_at.desc()).limit(limit)))
    return sorted(rows, key=lambda r: (r.end_at <= now, r.start_at))
