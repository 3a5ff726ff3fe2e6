"""Policy text (Markdown) -> HTML, PDF and DOCX, through the shared engine in shopguard.reports.documents.

Every output carries the same control block: company, version, status, who approved
it and when, and the sha256 of the Markdown text that acknowledgements refer to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shopguard.policies.render import text_hash
from shopguard.reports.documents import html_to_pdf, markdown_to_docx, markdown_to_html


class Format(StrEnum):
    MARKDOWN = "md"
    HTML = "html"
    PDF = "pdf"
    DOCX = "docx"


@dataclass(frozen=True)
class DocumentMeta:
    """The control block printed on every rendered policy."""

    title: str
    company: str
    version: str = "draft (not stored)"
    status: str = "draft"
    approved: str = ""
    effective: str = ""
    review_due: str = ""

    def rows(self, text: str) -> list[tuple[str, str]]:
        rows = [("Company", self.company), ("Version", self.version), ("Status", self.status)]
        if self.approved:
            rows.append(("Approved", self.approved))
        if self.effective:
            rows.append(("Effective", self.effective))
        if self.review_due:
            rows.append(("Next review due", self.review_due))
        rows.append(("Text sha256", text_hash(text)))
        return rows


CSS = """
@page { size: A4; margin: 2cm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.45; color: #111; }
h1 { font-size: 18pt; margin-bottom: 0.3em; }
h2 { font-size: 13pt; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
table.meta td { border: none; padding: 1px 6px; font-size: 8.5pt; color: #444; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
em { color: #555; }
"""


def to_html(text: str, meta: DocumentMeta) -> str:
    """A standalone HTML page (markup in the Markdown is escaped: html=False)."""
    return markdown_to_html(text, f"{meta.title} - {meta.company}", meta.rows(text), CSS)


def to_pdf(text: str, meta: DocumentMeta) -> bytes:
    return html_to_pdf(to_html(text, meta))


def to_markdown(text: str, meta: DocumentMeta) -> str:
    head = "\n".join(f"<!-- {k}: {v} -->" for k, v in meta.rows(text))
    return f"{head}\n\n{text}"


def to_docx(text: str, meta: DocumentMeta) -> bytes:
    """Word document: the control block as a table, then headings, paragraphs, lists, tables."""
    return markdown_to_docx(text, meta.title, meta.rows(text))


def write(text: str, meta: DocumentMeta, fmt: Format, path: Path) -> Path:
    """Write one policy in one format; returns the path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt is Format.MARKDOWN:
        path.write_text(to_markdown(text, meta), encoding="utf-8")
    elif fmt is Format.HTML:
        path.write_text(to_html(text, meta), encoding="utf-8")
    elif fmt is Format.PDF:
        path.write_bytes(to_pdf(text, meta))
    else:
        path.write_bytes(to_docx(text, meta))
    return path
