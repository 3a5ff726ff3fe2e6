"""The state machine: confirmation, recovery, reminders, flap damping, held alerts."""

from __future__ import annotations

from datetime import UTC, datetime, time

from shopguard.monitoring.interface import ProbeResult, Status
from shopguard.monitoring.maintenance import in_maintenance
from shopguard.monitoring.settings import Alerting, MaintenanceWindow
from shopguard.monitoring.state import MonitorState

UP = ProbeResult(Status.UP, "HTTP 200")
DOWN = ProbeResult(Status.DOWN, "HTTP 502")


def step(st: MonitorState, res: ProbeResult, t: float, policy: Alerting, suppressed: str = "") -> list[str]:
    out = []
    tr = st.observe(res, t, policy, policy.confirm)
    if tr:
        out.append("T" + tr.to)
    ann = st.reconcile(t, policy, suppressed)
    if ann:
        out.append(ann.event)
    return out


def test_confirmation_recovery_and_reminders() -> None:
    p = Alerting(confirm=3, reminder_s=100, flap_changes=10)
    st = MonitorState("s/m")
    assert step(st, UP, 0, p) == []
    assert step(st, DOWN, 1, p) == [] and step(st, DOWN, 2, p) == []
    assert step(st, UP, 3, p) == []  # a blip is not an outage
    assert step(st, DOWN, 4, p) == [] and step(st, DOWN, 5, p) == []
    assert step(st, DOWN, 6, p) == ["Tdown", "down"]
    assert st.since == 4 and st.incident_id
    assert step(st, DOWN, 50, p) == []
    assert step(st, DOWN, 106, p) == ["reminder"]
    assert step(st, DOWN, 150, p) == []
    assert step(st, DOWN, 207, p) == ["reminder"] and st.reminders == 2
    assert step(st, UP, 210, p) == ["Tup", "up"]
    assert st.incident_id is None


def test_alert_held_while_suppressed_then_sent_once() -> None:
    p = Alerting(confirm=1, reminder_s=0)
    st = MonitorState("s/site")
    step(st, UP, 0, p)
    assert step(st, DOWN, 1, p, "dependency: host is down") == ["Tdown"]
    assert step(st, DOWN, 2, p, "dependency: host is down") == []
    assert step(st, DOWN, 3, p) == ["down"]  # parent recovered, child still down: now tell
    assert step(st, DOWN, 4, p) == []
    # recovered during suppression: no alerts at all for an outage nobody was told about
    st2 = MonitorState("s/x")
    step(st2, UP, 0, p)
    assert step(st2, DOWN, 1, p, "maintenance: upgrade") == ["Tdown"]
    assert step(st2, UP, 2, p, "maintenance: upgrade") == ["Tup"]
    assert step(st2, UP, 3, p) == []


def test_flapping_is_damped() -> None:
    p = Alerting(confirm=1, reminder_s=0, flap_changes=4, flap_window_s=100)
    st = MonitorState("s/f")
    events: list[str] = []
    t = 0.0
    for _ in range(6):
        t += 1
        events += step(st, DOWN, t, p)
        t += 1
        events += step(st, UP, t, p)
    told = [e for e in events if not e.startswith("T")]
    assert told[:3] == ["down", "up", "down"]
    assert told.count("flapping") == 1
    assert len(told) == 4  # nothing more while flapping
    # stable for a whole window: one recovery notice and quiet again
    assert step(st, UP, t + 200, p) == ["up"]
    assert step(st, UP, t + 201, p) == []


def test_config_error_and_skipped_do_not_alert() -> None:
    p = Alerting(confirm=1)
    st = MonitorState("s/c")
    assert step(st, ProbeResult(Status.CONFIG_ERROR, "bad"), 0, p) == []
    assert st.status == "config_error"
    st2 = MonitorState("s/d")
    assert step(st2, ProbeResult(Status.SKIPPED, "RDAP unreachable"), 0, p) == []
    assert st2.status == "skipped"


def test_maintenance_windows_one_off_and_recurring() -> None:
    ts = datetime(2026, 11, 25, 2, 30, tzinfo=UTC).timestamp()  # a Wednesday
    one = MaintenanceWindow(
        start=datetime(2026, 11, 25, 2, tzinfo=UTC),
        end=datetime(2026, 11, 25, 3, tzinfo=UTC),
        reason="upgrade",
    )
    assert in_maintenance([one], "storefront", ts) == "upgrade"
    assert in_maintenance([one], "storefront", ts + 3600) == ""
    nightly = MaintenanceWindow(
        at=time(2, 0), minutes=60, weekdays=(2,), timezone="UTC", monitors=("storefront",)
    )
    assert in_maintenance([nightly], "storefront", ts) == "maintenance window"
    assert in_maintenance([nightly], "db", ts) == ""
    assert in_maintenance([nightly], "storefront", ts + 86400) == ""  # Thursday
    late = MaintenanceWindow(at=time(23, 0), minutes=240, timezone="Europe/Berlin")  # crosses midnight
    assert in_maintenance([late], "x", datetime(2026, 11, 25, 0, 30, tzinfo=UTC).timestamp())  # 01:30 Berlin
    assert not in_maintenance([late], "x", datetime(2026, 11, 25, 10, 0, tzinfo=UTC).timestamp())
