"""The per-monitor state machine: confirmation, flapping, reminders, announcements.

Pure logic (no I/O): :meth:`MonitorState.observe` takes a probe result and the
time and returns what happened; :meth:`MonitorState.reconcile` decides which alert
(if any) is due given the suppression reason. Announced state is kept apart from
the confirmed state so that suppressed alerts are sent late (when a maintenance
window ends or a parent recovers) and an alert is never sent twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from shopguard.monitoring.interface import ProbeResult, Status
from shopguard.monitoring.settings import Alerting


def new_id() -> str:
    return uuid.uuid4().hex[:24]


@dataclass
class Transition:
    """A confirmed change of state (``down`` opens an incident, ``up`` closes it)."""

    to: str
    at: float
    cause: str
    incident_id: str | None
    started_at: float | None = None


@dataclass
class Announcement:
    event: str
    """down, up, reminder, flapping"""
    at: float
    cause: str
    incident_id: str | None


@dataclass
class MonitorState:
    key: str
    status: str = "unknown"
    announced: str = ""
    since: float | None = None
    fails: int = 0
    oks: int = 0
    first_fail_at: float | None = None
    last_check_at: float | None = None
    last_message: str = ""
    last_alert_at: float | None = None
    reminders: int = 0
    incident_id: str | None = None
    incident_started: float | None = None
    changes: list[float] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    last_beat_at: float | None = None

    def is_flapping(self, now: float, policy: Alerting) -> bool:
        recent = [t for t in self.changes if now - t <= policy.flap_window_s]
        return len(recent) >= policy.flap_changes

    def observe(self, result: ProbeResult, now: float, policy: Alerting, confirm: int) -> Transition | None:
        self.last_check_at = now
        self.last_message = result.message
        st = result.status
        if st is Status.SKIPPED:
            if self.status == "unknown":
                self.status = "skipped"
                self.since = now
            return None
        if st is Status.CONFIG_ERROR:
            self.fails = self.oks = 0
            if self.status != "config_error":
                prev = self.status
                self.status = "config_error"
                self.since = now
                return self._close(now, "monitor config error") if prev == "down" else None
            return None
        if st is Status.UP:
            self.oks += 1
            self.fails = 0
            self.first_fail_at = None
            if self.status == "down":
                if self.oks >= policy.recovery_confirm:
                    return self._close(now, result.message)
                return None
            if self.status != "up":
                self.status = "up"
                self.since = now
            return None
        # DOWN
        self.fails += 1
        self.oks = 0
        if self.first_fail_at is None:
            self.first_fail_at = now
        if self.status != "down" and self.fails >= confirm:
            self.status = "down"
            self.since = self.first_fail_at
            self.incident_id = new_id()
            self.incident_started = self.first_fail_at
            self.reminders = 0
            self.changes = [*self._recent(now, policy), now]
            return Transition("down", now, result.message, self.incident_id, self.first_fail_at)
        return None

    def _recent(self, now: float, policy: Alerting) -> list[float]:
        return [t for t in self.changes if now - t <= policy.flap_window_s][-50:]

    def _close(self, now: float, cause: str) -> Transition:
        self.status = "up"
        self.since = now
        inc = self.incident_id
        started = self.incident_started
        self.incident_id = None
        self.incident_started = None
        self.changes = [*self.changes[-50:], now]
        return Transition("up", now, cause, inc, started)

    def reconcile(self, now: float, policy: Alerting, suppressed: str) -> Announcement | None:
        """The alert due now, if any; updates ``announced`` as if it was sent."""
        if suppressed:
            return None
        if self.is_flapping(now, policy):
            if self.announced != "flapping" and self.announced != "":
                self.announced = "flapping"
                self.last_alert_at = now
                return Announcement("flapping", now, self.last_message, self.incident_id)
            return None
        if self.status == "down" and self.announced != "down":
            self.announced = "down"
            self.last_alert_at = now
            self.reminders = 0
            return Announcement("down", now, self.last_message, self.incident_id)
        if self.status == "up" and self.announced in {"down", "flapping"}:
            self.announced = "up"
            self.last_alert_at = now
            return Announcement("up", now, self.last_message, None) if policy.send_recovery else None
        if self.status in {"up", "skipped"} and self.announced == "":
            self.announced = "up"  # first sight: nothing to tell anyone
            return None
        if (
            self.status == "down"
            and self.announced == "down"
            and policy.reminder_s > 0
            and self.last_alert_at is not None
            and now - self.last_alert_at >= policy.reminder_s
        ):
            self.last_alert_at = now
            self.reminders += 1
            return Announcement("reminder", now, self.last_message, self.incident_id)
        return None
