"""Render a Markdown document (plan, notice, after-action report) to HTML, PDF or DOCX."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from importlib import resources
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

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


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def to_html(markdown: str, title: str, meta: str = "") -> str:
    css = resources.files("shopguard.data").joinpath("response/document.css").read_text(encoding="utf-8")
    body = _md().render(markdown)
    meta_html = f'<p class="meta">{html.escape(meta)}</p>' if meta else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>"
        f"<body>{meta_html}{body}</body></html>\n"
    )


def to_pdf(markdown: str, title: str, meta: str = "") -> bytes:
    from weasyprint import HTML  # imported late: needs the pango system libraries

    out = HTML(string=to_html(markdown, title, meta)).write_pdf()
    assert out is not None
    return bytes(out)


def _inline(paragraph: Any, tok: Token) -> None:
    bold = italic = False
    for child in tok.children or []:
        if child.type == "strong_open":
            bold = True
        elif child.type == "strong_close":
            bold = False
        elif child.type == "em_open":
            italic = True
        elif child.type == "em_close":
            italic = False
        elif child.type in ("text", "code_inline"):
            run = paragraph.add_run(child.content)
            run.bold = bold
            run.italic = italic
            if child.type == "code_inline":
                run.font.name = "Courier New"
        elif child.type in ("softbreak", "hardbreak"):
            paragraph.add_run(" ")


def to_docx(markdown: str, title: str, meta: str = "") -> bytes:
    """A Word document with real headings, lists and tables (no HTML conversion)."""
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    doc.core_properties.title = title
    if meta:
        doc.add_paragraph(meta)
    tokens = _md().parse(markdown)
    # Word's built-in "List Number" style keeps counting across the whole document, so ordered
    # lists are numbered here, restarting with every list.
    list_stack: list[list[int]] = []  # [ordered (0/1), counter]
    prefix = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            p = doc.add_heading(level=min(level, 4) if level > 1 else 0)
            _inline(p, tokens[i + 1])
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_stack.append([1 if tok.type == "ordered_list_open" else 0, 0])
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif tok.type == "list_item_open" and list_stack and list_stack[-1][0]:
            list_stack[-1][1] += 1
            prefix = f"{list_stack[-1][1]}. "
        elif tok.type == "paragraph_open":
            ordered = bool(list_stack and list_stack[-1][0])
            style = "List Bullet" if list_stack and not ordered else None
            p = doc.add_paragraph(style=style)
            if ordered:
                p.paragraph_format.left_indent = Pt(18 * len(list_stack))
                p.paragraph_format.first_line_indent = Pt(-14)
                p.add_run(prefix)
                prefix = ""
            _inline(p, tokens[i + 1])
            i += 3
            continue
        elif tok.type == "blockquote_open":
            pass
        elif tok.type == "table_open":
            i = _table(doc, tokens, i)
            continue
        i += 1
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _table(doc: Any, tokens: Sequence[Token], i: int) -> int:
    rows: list[list[Token]] = []
    current: list[Token] = []
    while tokens[i].type != "table_close":
        t = tokens[i]
        if t.type == "tr_open":
            current = []
        elif t.type == "inline":
            current.append(t)
        elif t.type == "tr_close":
            rows.append(current)
        i += 1
    if rows:
        width = max(len(r) for r in rows)
        table = doc.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                par = table.cell(r, c).paragraphs[0]
                _inline(par, cell)
                if r == 0:
                    for run in par.runs:
                        run.bold = True
    return i + 1


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
