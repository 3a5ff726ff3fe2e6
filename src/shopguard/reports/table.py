"""Terminal tables: the findings, the check errors, then the litmus test."""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from shopguard.db.repository import StoredRun
from shopguard.readiness import ReadinessStatus, litmus
from shopguard.reports.common import ordered

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
STATUS_LABEL = {
    ReadinessStatus.READY: ("READY", "bold green"),
    ReadinessStatus.GAPS: ("GAPS", "bold red"),
    ReadinessStatus.NOT_ASSESSED: ("NOT ASSESSED", "dim"),
}


def findings_table(run: StoredRun) -> Table:
    t = Table(title=f"Findings (run {run.id})", show_lines=False, expand=True)
    t.add_column("Severity", no_wrap=True)
    t.add_column("Finding", ratio=3)
    t.add_column("Where", ratio=2, overflow="fold")
    t.add_column("Fix", ratio=3)
    t.add_column("Status", no_wrap=True)
    for sf in ordered(run.findings):
        if sf.status.value == "resolved":
            continue
        f = sf.finding
        status = sf.status.value if sf.triage.value == "none" else sf.triage.value.replace("_", " ")
        if sf.triage_lapsed:
            status += " (risk acceptance lapsed)"
        t.add_row(
            Text(f.severity.value, style=SEVERITY_STYLE[f.severity.value]),
            Text(f.title),
            Text(f.location),
            Text(f.remediation.splitlines()[0] if f.remediation else ""),
            Text(status),
        )
    return t


def errors_table(run: StoredRun) -> Table | None:
    errs = [e for e in run.executions if e[2] != "ok"]
    if not errs:
        return None
    t = Table(title=f"Checks that could not run ({len(errs)})", expand=True)
    t.add_column("Check", no_wrap=True)
    t.add_column("Store", no_wrap=True)
    t.add_column("Problem", ratio=3, overflow="fold")
    for store, check_id, outcome, message in errs:
        t.add_row(Text(check_id), Text(store), Text(f"{outcome}: {message}"))
    return t


def litmus_table(run: StoredRun) -> Table:
    t = Table(title="Litmus test: the seven protocols", expand=True)
    t.add_column("Protocol", ratio=2)
    t.add_column("Status", no_wrap=True)
    t.add_column("Open findings", ratio=1)
    t.add_column("Next actions", ratio=5)
    for row in litmus(run):
        label, style = STATUS_LABEL[row.status]
        counts = ", ".join(f"{n} {sev}" for sev, n in row.counts.items() if n) or "none"
        t.add_row(row.title, Text(label, style=style), counts, Text("\n".join(f"• {a}" for a in row.actions)))
    return t


def summary_line(run: StoredRun) -> str:
    open_n = sum(1 for sf in run.findings if sf.counts_as_open)
    return (
        f"Run {run.id}: {run.checks_run} checks, {run.check_errors} could not run, "
        f"{open_n} open finding(s). Stored; render again with `shopguard report {run.id}`."
    )


def report_renderables(run: StoredRun) -> list[RenderableType]:
    shown = [sf for sf in run.findings if sf.status.value != "resolved"]
    parts: list[RenderableType] = [findings_table(run) if shown else Text("No open findings in this run.")]
    if (e := errors_table(run)) is not None:
        parts.append(e)
    parts.append(litmus_table(run))
    parts.append(Text(summary_line(run)))
    return parts


def render_table_text(run: StoredRun, width: int = 120) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False)
    console.print(Group(*report_renderables(run)))
    return buf.getvalue()
