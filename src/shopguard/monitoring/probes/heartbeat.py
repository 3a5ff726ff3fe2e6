"""Heartbeats: a cron job calls the push URL; no beat within period + grace = down."""

from __future__ import annotations

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import HeartbeatMonitor


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


async def probe(spec: HeartbeatMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    now = ctx.wall()
    last = ctx.last_beat(key)
    allowed = spec.period_s + spec.grace_s
    if last is None:
        waited = now - ctx.started_wall
        if waited > allowed:
            return ProbeResult(Status.DOWN, f"no heartbeat received yet (waited {_ago(waited)})")
        return ProbeResult(Status.UP, "waiting for the first heartbeat", data={"last_beat": None})
    age = max(0.0, now - last)
    if age > allowed:
        return ProbeResult(
            Status.DOWN,
            f"last heartbeat {_ago(age)} ago; expected every {_ago(spec.period_s)}",
            data={"last_beat": last},
        )
    return ProbeResult(Status.UP, f"last heartbeat {_ago(age)} ago", data={"last_beat": last})
