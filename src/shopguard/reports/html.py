"""A single self-contained HTML file a store owner can open and read."""

from __future__ import annotations

from collections import defaultdict

from jinja2 import Environment, PackageLoader, select_autoescape

from shopguard.db.repository import StoredFinding, StoredRun
from shopguard.findings import PROTOCOL_TITLES, PROTOCOLS
from shopguard.readiness import litmus
from shopguard.reports.common import DISCLAIMER, ordered, tool

_env = Environment(
    loader=PackageLoader("shopguard.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(run: StoredRun) -> str:
    groups: dict[str, list[StoredFinding]] = defaultdict(list)
    for sf in ordered(run.findings):
        if sf.status.value != "resolved":
            groups[sf.finding.protocol].append(sf)
    resolved = [sf for sf in run.findings if sf.status.value == "resolved"]
    errors = [e for e in run.executions if e[2] != "ok"]
    return _env.get_template("report.html.j2").render(
        run=run,
        tool=tool(),
        litmus=litmus(run),
        groups=[(p, PROTOCOL_TITLES[p], groups[p]) for p in PROTOCOLS if groups.get(p)],
        resolved=resolved,
        errors=errors,
        disclaimer=DISCLAIMER,
    )
