"""Scheduled security work: run selected checks through ``shopguard.audit.run_audit``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from shopguard.findings import Severity
from shopguard.monitoring.interface import ConfigProblem, ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import AuditMonitor

AuditRunner = Callable[[str, tuple[str, ...], float], Any]
"""(store name, selectors, timeout) -> StoredRun; blocking."""


async def probe(spec: AuditMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    from shopguard.checks import SelectorError

    runner: AuditRunner | None = ctx.extra.get("_audit_runner")
    if runner is None:
        return ProbeResult(Status.SKIPPED, "scheduled audits need the daemon's database")
    store = key.split("/", 1)[0]
    loop = asyncio.get_running_loop()
    try:
        run = await loop.run_in_executor(ctx.blocking, runner, store, spec.selectors, spec.timeout_s)
    except SelectorError as exc:
        raise ConfigProblem(str(exc)) from None
    threshold = Severity.parse(spec.alert_on)
    bad = [f for f in run.findings if f.counts_as_open and f.finding.severity >= threshold]
    data = {
        "run_id": run.id,
        "checks": run.checks_run,
        "check_errors": run.check_errors,
        "open_at_threshold": len(bad),
    }
    if bad:
        titles = "; ".join(f.finding.title for f in bad[:3])
        more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
        return ProbeResult(
            Status.DOWN,
            f"{len(bad)} open finding(s) at {spec.alert_on} or above in run {run.id}: {titles}{more}",
            data=data,
        )
    if run.checks_run == 0:
        return ProbeResult(
            Status.DOWN, f"no check applied for {', '.join(spec.selectors)} (run {run.id})", data=data
        )
    note = f", {run.check_errors} check error(s)" if run.check_errors else ""
    return ProbeResult(
        Status.UP,
        f"run {run.id}: {run.checks_run} checks, nothing at {spec.alert_on} or above{note}",
        data=data,
    )
