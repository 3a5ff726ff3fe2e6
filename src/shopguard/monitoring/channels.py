"""Alert delivery through apprise; routing by severity; messages in plain words.

Channel URLs are secrets (they hold tokens and passwords): they are resolved only
when sending, never logged, and apprise's own logger is silenced because its
failure messages can quote the URL. Failures are reported by channel *name*.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shopguard.config import AlertChannel, ConfigError
from shopguard.findings import Severity
from shopguard.monitoring import AlertEvent

log = logging.getLogger(__name__)
logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)

_TITLES = {
    "down": "DOWN",
    "up": "RECOVERED",
    "reminder": "STILL DOWN",
    "flapping": "FLAPPING",
    "changed": "CHANGED",
    "test": "TEST",
}


@dataclass(frozen=True)
class Delivery:
    delivered: tuple[str, ...]
    failed: tuple[str, ...]
    """``name: reason`` (never the URL)."""


def route(channels: Sequence[AlertChannel], severity: str, only: Sequence[str] = ()) -> list[AlertChannel]:
    """Channels that should get an alert of ``severity`` (and are allowed for the monitor)."""
    sev = Severity.parse(severity)
    return [c for c in channels if sev >= c.min_severity and (not only or c.name in only)]


def _when(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if dt else "-"


def render(event: AlertEvent) -> tuple[str, str]:
    """(title, body) for an alert; the same words for e-mail, chat and webhooks."""
    head = _TITLES.get(event.event, event.event.upper())
    title = f"[ShopGuard] {head}: {event.store} / {event.monitor}"
    lines = [f"{head}: {event.monitor} ({event.kind}) of store {event.store}"]
    if event.target:
        lines.append(f"Target: {event.target}")
    if event.event == "down":
        lines.append(f"Cause: {event.cause}")
        lines.append(f"Down since: {_when(event.down_since)}")
    elif event.event == "up":
        lines.append(f"Back up at: {_when(event.at)} (down since {_when(event.down_since)})")
        if event.down_since:
            mins = (event.at - event.down_since).total_seconds() / 60.0
            lines.append(f"Downtime: {mins:.1f} minutes")
    elif event.event == "reminder":
        lines.append(f"Still failing: {event.cause}")
        lines.append(f"Down since: {_when(event.down_since)}")
    elif event.event == "flapping":
        lines.append("It keeps going up and down; further alerts are held until it is stable.")
        lines.append(f"Last result: {event.cause}")
    else:
        lines.append(event.cause)
    lines.append(f"Severity: {event.severity}")
    if event.incident_id:
        lines.append(f"Incident: {event.incident_id}")
    lines.append(f"Time: {_when(event.at)}")
    return title, "\n".join(lines)


def send(channels: Sequence[AlertChannel], title: str, body: str, notify_type: str = "info") -> Delivery:
    """Deliver to each channel (blocking: call from a thread)."""
    import apprise

    ok: list[str] = []
    bad: list[str] = []
    for ch in channels:
        try:
            url = ch.url.resolve()
        except ConfigError as exc:
            bad.append(f"{ch.name}: {exc}")
            continue
        ap = apprise.Apprise()
        if not ap.add(url):
            bad.append(f"{ch.name}: the channel URL is not one apprise understands")
            continue
        try:
            sent = ap.notify(
                body=body, title=title, notify_type=notify_type, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as exc:  # a broken plugin must not stop the other channels
            bad.append(f"{ch.name}: {type(exc).__name__}")
            continue
        if bool(sent):
            ok.append(ch.name)
        else:
            bad.append(f"{ch.name}: delivery failed")
    for item in bad:
        log.warning("alert channel %s", item)
    return Delivery(tuple(ok), tuple(bad))


def notify_type(event: str) -> str:
    return {
        "down": "failure",
        "reminder": "failure",
        "flapping": "warning",
        "changed": "warning",
        "up": "success",
    }.get(event, "info")
