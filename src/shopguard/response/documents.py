"""Render a Markdown document (plan, notice, after-action report) to HTML, PDF or DOCX.

The engine is shopguard.reports.documents; this module adds the response CSS and the record line.
"""

from __future__ import annotations

from importlib import resources

from shopguard.reports.documents import html_to_pdf, markdown_to_docx, markdown_to_html

FORMATS = ("md", "html", "pdf", "docx")


class FormatError(ValueError):
    pass


def check_format(fmt: str) -> str:
    f = fmt.lower().strip()
    if f == "markdown":
        f = "md"
    if f not in FORMATS:
        raise FormatError(f"--format: unknown {fmt!r}; expected one of {', '.join(FORMATS)}")
    return f


def _css() -> str:
    return resources.files("shopguard.data").joinpath("response/document.css").read_text(encoding="utf-8")


def _meta_rows(meta: str) -> list[tuple[str, str]]:
    return [("Record", meta)] if meta else []


def to_html(markdown: str, title: str, meta: str = "") -> str:
    return markdown_to_html(markdown, title, _meta_rows(meta), _css())


def to_pdf(markdown: str, title: str, meta: str = "") -> bytes:
    return html_to_pdf(to_html(markdown, title, meta))


def to_docx(markdown: str, title: str, meta: str = "") -> bytes:
    """A Word document with real headings, lists and tables (no HTML conversion)."""
    return markdown_to_docx(markdown, title, _meta_rows(meta))


def render(markdown: str, fmt: str, title: str, meta: str = "") -> bytes:
    f = check_format(fmt)
    if f == "md":
        head = f"<!-- {meta} -->\n\n" if meta else ""
        return (head + markdown).encode("utf-8")
    if f == "html":
        return to_html(markdown, title, meta).encode("utf-8")
    if f == "pdf":
        return to_pdf(markdown, title, meta)
    return to_docx(markdown, title, meta)
