"""Render the whole library into every format once (PDF is slow: one pass here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docx
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.policies.catalog import LIBRARY
from shopguard.policies.documents import DocumentMeta, to_html


def _write_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        """
[company]
name = "Acme Socks Ltd"
[[stores]]
name = "socks"
storefront_url = "https://socks.example"
platform = "woocommerce"
payment_integration = "iframe"
[policies]
payment_processor = "Stripe"
hosting = "a dedicated VPS at Hetzner"
[policies.roles]
owner = "Ann Owner"
security_lead = "Sam Lead"
"""
    )
    return cfg


def test_render_whole_library_into_every_format(tmp_path: Path, sqlite_url: str):
    cfg = _write_config(tmp_path)
    runner = CliRunner()
    base = ["--config", str(cfg), "--db", sqlite_url]
    r = runner.invoke(app, ["policies", "init", *base])
    assert r.exit_code == 0, r.output
    for cmd in (["approve", "cardholder-data", "--by", "Ann Owner"], ["publish", "cardholder-data"]):
        r = runner.invoke(app, ["policies", *cmd, *base])
        assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = runner.invoke(app, ["policies", "render", "--out", str(out), *base])
    assert r.exit_code == 0, r.output
    assert "13 policies written" in r.output

    for t in LIBRARY:
        for ext in ("md", "html", "pdf", "docx"):
            assert (out / f"{t.slug}.{ext}").stat().st_size > 500, (t.slug, ext)
        first_heading = t.title
        md = (out / f"{t.slug}.md").read_text()
        assert first_heading in md
        html = (out / f"{t.slug}.html").read_text()
        assert f"<h1>{first_heading}</h1>" in html or first_heading in html
        pdf_text = subprocess.run(
            ["pdftotext", "-layout", str(out / f"{t.slug}.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert first_heading in " ".join(pdf_text.split()), t.slug
        assert "Acme Socks Ltd" in pdf_text, t.slug
        d = docx.Document(str(out / f"{t.slug}.docx"))
        paras = [p.text for p in d.paragraphs]
        assert paras and any(first_heading == p for p in paras), t.slug
        assert any(p.style.name.startswith("Heading") for p in d.paragraphs)

    # The published policy carries its status, approver and hash; drafts are marked.
    chd_pdf = subprocess.run(
        ["pdftotext", str(out / "cardholder-data.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "We never store card numbers" in chd_pdf
    assert "Ann Owner" in chd_pdf and "published" in chd_pdf
    chd_docx = docx.Document(str(out / "cardholder-data.docx"))
    body = "\n".join(p.text for p in chd_docx.paragraphs)
    assert "We never store, process or transmit full card numbers" in body
    meta = {row.cells[0].text: row.cells[1].text for row in chd_docx.tables[0].rows}
    assert meta["Status"] == "published" and len(meta["Text sha256"]) == 64
    assert "DRAFT - not in force" in (out / "access-control.html").read_text()
    # Tables survive into Word: the data retention table has its header row.
    dr = docx.Document(str(out / "data-retention.docx"))
    header = [c.text for c in dr.tables[1].rows[0].cells]
    assert header == ["Data", "Where", "Kept for", "Then"]


def test_html_output_escapes_markup_in_the_text():
    page = to_html("# T\n\nName: <script>alert(1)</script>\n", DocumentMeta("T", "<b>Co</b>"))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;Co&lt;/b&gt;" in page
