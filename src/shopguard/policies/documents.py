"""Policy text (Markdown) -> HTML, PDF (WeasyPrint) and DOCX (python-docx).

Every output carries the same control block: company, version, status, who approved
it and when, and the sha256 of the Markdown text that acknowledgements refer to.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from shopguard.policies.render import text_hash


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


_MD = MarkdownIt("commonmark", {"html": False}).enable("table")

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
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in meta.rows(text))
    body = _MD.render(text)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(meta.title)} - {html.escape(meta.company)}</title>"
        f"<style>{CSS}</style></head><body>\n"
        f'<table class="meta">{rows}</table>\n{body}</body></html>\n'
    )


def to_pdf(text: str, meta: DocumentMeta) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango

    return bytes(HTML(string=to_html(text, meta)).write_pdf())


def to_markdown(text: str, meta: DocumentMeta) -> str:
    head = "\n".join(f"<!-- {k}: {v} -->" for k, v in meta.rows(text))
    return f"{head}\n\n{text}"


def to_docx(text: str, meta: DocumentMeta) -> bytes:
    """Word document built from the Markdown tokens: headings, paragraphs, lists, tables."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    meta_table = doc.add_table(rows=0, cols=2)
    for k, v in meta.rows(text):
        cells = meta_table.add_row().cells
        cells[0].text = k
        cells[1].text = v
    tokens = _MD.parse(text)
    _DocxWriter(doc).write(tokens)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


class _DocxWriter:
    def __init__(self, doc: object) -> None:
        self.doc = doc
        self.list_depth = 0
        self.list_kind: list[str] = []

    def write(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type == "heading_open":
                level = int(tok.tag[1])
                para = self.doc.add_heading(level=min(level, 4))  # type: ignore[attr-defined]
                self._inline(para, tokens[i + 1])
                i += 3
                continue
            if tok.type in {"bullet_list_open", "ordered_list_open"}:
                self.list_kind.append("List Bullet" if tok.type == "bullet_list_open" else "List Number")
            elif tok.type in {"bullet_list_close", "ordered_list_close"}:
                self.list_kind.pop()
            elif tok.type == "paragraph_open":
                style = self.list_kind[-1] if self.list_kind else None
                para = self.doc.add_paragraph(style=style)  # type: ignore[attr-defined]
                self._inline(para, tokens[i + 1])
                i += 3
                continue
            elif tok.type == "table_open":
                i = self._table(tokens, i)
                continue
            elif tok.type in {"fence", "code_block"}:
                self.doc.add_paragraph(tok.content)  # type: ignore[attr-defined]
            i += 1

    def _table(self, tokens: Sequence[Token], i: int) -> int:
        rows: list[list[Token]] = []
        row: list[Token] = []
        while tokens[i].type != "table_close":
            t = tokens[i]
            if t.type == "tr_open":
                row = []
            elif t.type == "inline":
                row.append(t)
            elif t.type == "tr_close":
                rows.append(row)
            i += 1
        cols = max((len(r) for r in rows), default=1)
        table = self.doc.add_table(rows=0, cols=cols)  # type: ignore[attr-defined]
        table.style = "Table Grid"
        for r in rows:
            cells = table.add_row().cells
            for c, inline in enumerate(r):
                self._inline(cells[c].paragraphs[0], inline)
        return i + 1

    @staticmethod
    def _inline(para: object, inline: Token) -> None:
        bold = italic = False
        for child in inline.children or []:
            if child.type == "strong_open":
                bold = True
            elif child.type == "strong_close":
                bold = False
            elif child.type == "em_open":
                italic = True
            elif child.type == "em_close":
                italic = False
            elif child.type in {"text", "code_inline"}:
                run = para.add_run(child.content)  # type: ignore[attr-defined]
                run.bold = bold
                run.italic = italic
            elif child.type in {"softbreak", "hardbreak"}:
                para.add_run(" ")  # type: ignore[attr-defined]


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
