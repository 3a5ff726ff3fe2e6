"""Maintenance windows: one-off (start..end) and recurring (weekdays at HH:MM for N minutes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shopguard.monitoring.interface import ConfigProblem
from shopguard.monitoring.settings import MaintenanceWindow


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigProblem(f"maintenance window timezone {name!r} is not a known IANA zone") from None


def active(window: MaintenanceWindow, now: datetime) -> bool:
    if window.start is not None and window.end is not None:
        return window.start <= now < window.end
    assert window.at is not None and window.minutes is not None
    local = now.astimezone(_zone(window.timezone))
    length = timedelta(minutes=window.minutes)
    # A window that began on an earlier day may still be running (e.g. 23:00 for 3 h).
    for back in range(0, (window.minutes // 1440) + 2):
        day = (local - timedelta(days=back)).date()
        if window.weekdays and day.weekday() not in window.weekdays:
            continue
        begin = datetime.combine(day, window.at, tzinfo=local.tzinfo)
        if begin <= local < begin + length:
            return True
    return False


def in_maintenance(windows: Sequence[MaintenanceWindow], monitor: str, now_ts: float) -> str:
    """The reason of the first active window covering ``monitor`` ("" when none)."""
    now = datetime.fromtimestamp(now_ts, UTC)
    for w in windows:
        if w.monitors and monitor not in w.monitors:
            continue
        if active(w, now):
            return w.reason or "maintenance window"
    return ""
