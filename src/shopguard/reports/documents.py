"""Markdown -> HTML, PDF (WeasyPrint) and DOCX (python-docx): the engine every protocol's documents share.

Protocols keep a thin wrapper with their own control block (``meta_rows``) and CSS. Markup in
the Markdown is escaped (``html=False``), so text from records or config cannot inject HTML.
The DOCX is built from the Markdown tokens, not converted from HTML: headings are real Word
headings, lists real list paragraphs, tables real tables.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

MetaRows = Sequence[tuple[str, str]]

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_MONO = "Courier New"


def markdown_to_html(text: str, title: str, meta_rows: MetaRows, css: str) -> str:
    """A standalone HTML page: the control block as ``<table class="meta">``, then the text."""
    meta = ""
    if meta_rows:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in meta_rows)
        meta = f'<table class="meta">{rows}</table>\n'
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head><body>\n"
        f"{meta}{_MD.render(text)}</body></html>\n"
    )


def html_to_pdf(page: str) -> bytes:
    """Print an HTML page to PDF with WeasyPrint."""
    from weasyprint import HTML  # imported late: it loads Pango

    out = HTML(string=page).write_pdf()
    if out is None:  # only when a target file is given; never here
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(out)


def markdown_to_docx(text: str, title: str, meta_rows: MetaRows) -> bytes:
    """A Word document: the control block as a two-column table, then the text."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = title
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    if meta_rows:
        meta_table = doc.add_table(rows=0, cols=2)
        for k, v in meta_rows:
            cells = meta_table.add_row().cells
            cells[0].text = k
            cells[1].text = v
    _DocxWriter(doc).write(_MD.parse(text))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


class _DocxWriter:
    """Walks markdown-it block tokens and adds the matching Word paragraphs and tables."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        # One entry per open list: [ordered, items so far]. Word's built-in "List Number" keeps
        # counting across the whole document, so ordered lists are numbered here, restarting
        # with every list.
        self.lists: list[list[int]] = []
        self.prefix = ""

    def write(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type == "heading_open":
                para = self.doc.add_heading(level=min(int(tok.tag[1]), 4))
                _inline(para, tokens[i + 1])
                i += 3
                continue
            if tok.type == "paragraph_open":
                self._paragraph(tokens[i + 1])
                i += 3
                continue
            if tok.type == "table_open":
                i = self._table(tokens, i)
                continue
            if tok.type in {"bullet_list_open", "ordered_list_open"}:
                self.lists.append([int(tok.type == "ordered_list_open"), 0])
            elif tok.type in {"bullet_list_close", "ordered_list_close"}:
                self.lists.pop()
            elif tok.type == "list_item_open" and self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                self.prefix = f"{self.lists[-1][1]}. "
            elif tok.type in {"fence", "code_block"}:
                para = self.doc.add_paragraph()
                para.add_run(tok.content.rstrip("\n")).font.name = _MONO
            i += 1

    def _paragraph(self, inline: Token) -> None:
        from docx.shared import Pt

        ordered = bool(self.lists and self.lists[-1][0])
        style = "List Bullet" if self.lists and not ordered else None
        para = self.doc.add_paragraph(style=style)
        if ordered:
            para.paragraph_format.left_indent = Pt(18 * len(self.lists))
            para.paragraph_format.first_line_indent = Pt(-14)
            para.add_run(self.prefix)
            self.prefix = ""
        _inline(para, inline)

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
        if rows:
            table = self.doc.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            table.style = "Table Grid"
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    para = table.cell(r, c).paragraphs[0]
                    _inline(para, cell)
                    if r == 0:  # the header row
                        for run in para.runs:
                            run.bold = True
        return i + 1


def _inline(para: Any, inline: Token) -> None:
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
        elif child.type in {"text", "code_inline"} and child.content:
            run = para.add_run(child.content)
            run.bold = bold
            run.italic = italic
            if child.type == "code_inline":
                run.font.name = _MONO
        elif child.type in {"softbreak", "hardbreak"}:
            para.add_run(" ")
