"""Monitoring: monitors, the scheduler daemon, alerting channels and metrics.

Public surface for other protocols (kept import-light: only the standard library):

* :func:`on_alert` registers a callback that receives every :class:`AlertEvent`
  the daemon emits (down, recovery, reminder, flapping). The response protocol can
  use it to open an incident when a site stays down or the checkout page changes.
* :func:`remove_alert_hook` unregisters it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertEvent:
    """One alert the daemon decided to send (already deduplicated)."""

    store: str
    monitor: str
    kind: str
    """Monitor kind: http, journey, tls, heartbeat ..."""
    event: str
    """``down``, ``up`` (recovery), ``reminder``, ``flapping`` or ``changed`` (content hash)."""
    severity: str
    cause: str
    """Plain words: what failed ("HTTP 502", "connection refused", "certificate expires in 3 days")."""
    at: datetime
    incident_id: str | None = None
    down_since: datetime | None = None
    target: str = ""
    """What was checked (URL, host:port); never a secret."""
    details: dict[str, Any] = field(default_factory=dict)


AlertHook = Callable[[AlertEvent], None]
_HOOKS: list[AlertHook] = []


def on_alert(hook: AlertHook) -> AlertHook:
    """Register ``hook`` to be called (in the daemon's loop thread) for every alert.

    Usable as a decorator. A hook must be quick and must not raise; exceptions are
    logged and ignored so one hook never blocks alert delivery.
    """
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def remove_alert_hook(hook: AlertHook) -> None:
    if hook in _HOOKS:
        _HOOKS.remove(hook)


def emit(event: AlertEvent) -> None:
    """Call every registered hook (used by the daemon)."""
    for hook in list(_HOOKS):
        try:
            hook(event)
        except Exception:
            log.warning("alert hook %r failed", hook, exc_info=True)


__all__ = ["AlertEvent", "AlertHook", "emit", "on_alert", "remove_alert_hook"]
