"""Report writers: table, json, sarif, html. One function: :func:`render`."""

from shopguard.reports.render import FORMATS, ReportFormat, render

__all__ = ["FORMATS", "ReportFormat", "render"]
