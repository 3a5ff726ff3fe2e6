"""The shared Markdown engine: what the text says survives into HTML, DOCX and PDF."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import docx

from shopguard.reports.documents import html_to_pdf, markdown_to_docx, markdown_to_html

TEXT = """# Access control

Only **named staff** may log in to the `admin` panel. *Shared* accounts are forbidden.

## Steps

1. Create an account
2. Turn on two-factor sign-in

- first bullet
- second bullet

1. again from one

| Role | Who | Review |
|------|-----|--------|
| Owner | **Ann** | `yearly` |
| Support | Bob | monthly |

```
sudo -l
```
"""

META = [("Company", "Acme Socks Ltd"), ("Status", "published")]


def test_html_has_meta_block_css_and_escapes_markup() -> None:
    page = markdown_to_html(TEXT + "\n<script>alert(1)</script>\n", "Access <b>", META, "h1 { color: red; }")
    assert "<title>Access &lt;b&gt;</title>" in page and "<style>h1 { color: red; }</style>" in page
    assert '<table class="meta"><tr><td>Company</td><td>Acme Socks Ltd</td></tr>' in page
    assert "<h1>Access control</h1>" in page and "<strong>named staff</strong>" in page
    assert "<code>admin</code>" in page and "<th>Role</th>" in page and "<ol>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<table class="meta">' not in markdown_to_html(TEXT, "T", [], "")


def test_docx_keeps_headings_lists_tables_and_inline_marks() -> None:
    d = docx.Document(io.BytesIO(markdown_to_docx(TEXT, "Access control", META)))
    assert d.core_properties.title == "Access control"
    meta = {row.cells[0].text: row.cells[1].text for row in d.tables[0].rows}
    assert meta == {"Company": "Acme Socks Ltd", "Status": "published"}
    paras = [(p.style.name, p.text) for p in d.paragraphs]
    assert ("Heading 1", "Access control") in paras and ("Heading 2", "Steps") in paras
    texts = [t for _, t in paras]
    # ordered lists are numbered by us and restart with every list
    assert "1. Create an account" in texts and "2. Turn on two-factor sign-in" in texts
    assert "1. again from one" in texts
    assert ("List Bullet", "first bullet") in paras and ("List Bullet", "second bullet") in paras
    assert "sudo -l" in texts
    body = next(p for p in d.paragraphs if p.text.startswith("Only"))
    runs = {r.text: r for r in body.runs}
    assert runs["named staff"].bold and not runs["Only "].bold
    assert runs["admin"].font.name == "Courier New"
    assert runs["Shared"].italic
    table = d.tables[1]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows == [["Role", "Who", "Review"], ["Owner", "Ann", "yearly"], ["Support", "Bob", "monthly"]]
    assert all(r.bold for r in table.rows[0].cells[0].paragraphs[0].runs)
    assert [(r.text, r.bold) for r in table.rows[1].cells[1].paragraphs[0].runs] == [("Ann", True)]
    assert [(r.text, r.bold) for r in table.rows[2].cells[1].paragraphs[0].runs] == [("Bob", False)]


def test_pdf_carries_the_text(tmp_path: Path) -> None:
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(html_to_pdf(markdown_to_html(TEXT, "Access control", META, "")))
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    words = " ".join(out.stdout.split())
    for expected in (
        "Acme Socks Ltd",
        "Access control",
        "Only named staff may log in to the admin panel",
        "Create an account",
        "second bullet",
        "Owner Ann yearly",
        "sudo -l",
    ):
        assert expected in words, expected
