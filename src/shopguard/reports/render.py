"""Pick the writer for a format."""

from __future__ import annotations

from enum import StrEnum

from shopguard.db.repository import StoredRun


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"


FORMATS = tuple(f.value for f in ReportFormat)


def render(run: StoredRun, fmt: str | ReportFormat, *, width: int = 120) -> str:
    """Render a stored run. ``table`` is plain text (no colour) for files and pipes."""
    fmt = ReportFormat(fmt)
    if fmt is ReportFormat.JSON:
        from shopguard.reports.json_report import render_json

        return render_json(run)
    if fmt is ReportFormat.SARIF:
        from shopguard.reports.sarif import render_sarif

        return render_sarif(run)
    if fmt is ReportFormat.HTML:
        from shopguard.reports.html import render_html

        return render_html(run)
    from shopguard.reports.table import render_table_text

    return render_table_text(run, width=width)
