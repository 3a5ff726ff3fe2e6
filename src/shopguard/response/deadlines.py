"""Deadline arithmetic in the store's time zone.

* hours: elapsed time. 72 hours is 72 real hours, so across a daylight-saving change the
  local clock shows one hour more or less than the start time.
* days: calendar days, ending at the same local clock time N days later (earlier than "end of
  day N", which is the cautious reading).
* business days: Monday to Friday in the local time zone, same local clock time. Public holidays
  are *not* skipped, so the date can only be earlier than the law's, never later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class TimeZoneError(ValueError):
    pass


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(
            f"{field}: unknown time zone {name!r}; expected an IANA name such as Europe/Berlin"
        ) from None


def _wall(local: datetime) -> datetime:
    """Normalise a wall-clock time that may fall in a DST gap (round trip through UTC)."""
    return local.astimezone(UTC).astimezone(local.tzinfo)


def add_hours(start: datetime, hours: float) -> datetime:
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(UTC)


def add_calendar_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    local = start.astimezone(tz)
    naive = local.replace(tzinfo=None) + timedelta(days=days)
    return _wall(naive.replace(tzinfo=tz)).astimezone(UTC)


def add_business_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    local = start.astimezone(tz).replace(tzinfo=None)
    count = 0
    while count < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            count += 1
    return _wall(local.replace(tzinfo=tz)).astimezone(UTC)


def compute(start: datetime, spec: dict[str, object], tz: ZoneInfo) -> datetime | None:
    """Due time in UTC for a deadline spec (``{hours: N}``, ``{days: N}``, ``{business_days: N}``);
    None for ``{asap: ...}``."""
    if "hours" in spec:
        return add_hours(start, float(spec["hours"]))  # type: ignore[arg-type]
    if "days" in spec:
        return add_calendar_days(start, int(spec["days"]), tz)  # type: ignore[call-overload]
    if "business_days" in spec:
        return add_business_days(start, int(spec["business_days"]), tz)  # type: ignore[call-overload]
    return None
