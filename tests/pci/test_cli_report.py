"""End to end through the CLI: SAQ wizard, answers, evidence, ASV, PDF report (checked with
pdftotext), evidence pack and YAML answers."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.db import open_database
from shopguard.pci.models import PciAnswer, PciAssessment

TOML = """
[company]
name = "Kestrel Coffee"
legal_name = "Kestrel Coffee Roasters Ltd"
country = "IE"

[contacts.security_lead]
name = "Aoife Brennan"
email = "aoife@example.com"

[[stores]]
name = "demo"
storefront_url = "https://shop.example"
payment_integration = "{integration}"
"""


@pytest.fixture
def env(tmp_path: Path) -> tuple[CliRunner, list[str], str]:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(TOML.format(integration="iframe"))
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    return CliRunner(), ["--config", str(cfg), "--db", url], url


def rows(url: str, model: type) -> int:
    db = open_database(url)
    with db() as s:
        n = int(s.scalar(select(func.count()).select_from(model)) or 0)
    db.kw["bind"].dispose()
    return n


def test_saq_wizard_from_config_and_flags(env: tuple[CliRunner, list[str], str]) -> None:
    runner, opts, _url = env
    r = runner.invoke(app, ["pci", "saq", *opts, "--no-input", "--processor-compliant", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["saq"] == "A" and d["integration"] == "iframe" and d["stored"]
    assert {c["id"]: c["confirmed"] for c in d["conditions"]}["script-attack-protection"] is None

    r = runner.invoke(app, ["pci", "saq", *opts, "--no-input", "--no-script-protection"])
    assert r.exit_code == 0 and "SAQ A-EP" in r.output and "January 2025" in r.output


@pytest.mark.parametrize(
    "args",
    [
        ["--integration", "api"],  # shopguard.toml says iframe
        ["--servers-receive-card-data"],  # iframe but card data on our servers
        ["--stores-card-data"],
    ],
)
def test_contradictions_store_nothing(env: tuple[CliRunner, list[str], str], args: list[str]) -> None:
    runner, opts, url = env
    r = runner.invoke(app, ["pci", "saq", *opts, "--no-input", *args])
    assert r.exit_code == 2, r.output
    assert "contradictory answers" in r.output and "Nothing was stored" in r.output.replace(
        "nothing", "Nothing"
    )
    assert rows(url, PciAssessment) == 0


def test_full_flow_report_pdf_and_packs(env: tuple[CliRunner, list[str], str], tmp_path: Path) -> None:
    runner, opts, url = env

    def ok(*args: str) -> str:
        r = runner.invoke(app, ["pci", *args, *opts])
        assert r.exit_code == 0, r.output
        return r.output

    ok(
        "saq",
        "--no-input",
        "--processor-compliant",
        "--script-protection",
        "--all-elements-from-processor",
        "--by",
        "Aoife",
    )
    ok("suggest")
    ok("answer", "12.8.4", "--answer", "in-place", "--by", "Aoife")
    ok(
        "answer",
        "3.2.1",
        "--answer",
        "n/a",
        "--justification",
        "No card data on paper either.",
        "--by",
        "Aoife",
    )
    ok(
        "answer",
        "8.3.6",
        "--answer",
        "ccw",
        "--justification",
        "Admin login is SSO with MFA; tested 2026-11.",
        "--by",
        "Aoife",
    )
    ok("answer", "2.2.2", "--answer", "not-in-place", "--by", "Aoife")
    paper = ["9.4.1", "9.4.1.1", "9.4.1.2", "9.4.2", "9.4.3", "9.4.4", "9.4.6"]
    r = runner.invoke(
        app, ["pci", "answer", *paper, "1.2.1", "-a", "n/a", "-j", "No paper", "--by", "A", *opts]
    )
    assert r.exit_code == 2 and "1.2.1" in r.output  # not in SAQ A: none of the batch is written
    ok("answer", *paper, "--answer", "n/a", "--justification", "We never print card data.", "--by", "Aoife")
    ok("tasks", "2.2.2", "--owner", "Liffey Hosting", "--due", "2027-01-31")
    aoc = tmp_path / "processor-aoc.pdf"
    aoc.write_bytes(b"%PDF-1.4\n% NimbusPay AoC 2026\n")
    ok("evidence", "add", "12.8.4", str(aoc), "--by", "Aoife")
    r = runner.invoke(
        app, ["pci", "evidence", "add", "12.8.4", str(tmp_path / "shopguard.toml"), "--by", "A", *opts]
    )
    assert r.exit_code == 2 and "not accepted as evidence" in r.output
    asv = tmp_path / "asv-q3.pdf"
    asv.write_bytes(b"%PDF-1.4\n% ASV Q3\n")
    ok(
        "asv",
        "add",
        str(asv),
        "--vendor",
        "Example ASV",
        "--scan-date",
        "2026-08-02",
        "--passed",
        "--by",
        "Aoife",
    )
    assert "processor-aoc.pdf" in ok("evidence", "list")
    asv_status = " ".join(ok("asv", "status").split())
    assert "passing scan per quarter" in asv_status
    assert re.search(r"Next passing scan due: \d{4}-Q[1-4] \(by \d{4}-\d\d-\d\d\)\.", asv_status)
    r = runner.invoke(app, ["pci", "catalogue", "--saq", "A-EP", "--json"])
    assert r.exit_code == 0 and len(json.loads(r.output)) == 183
    suggestions = {s["requirement"]: s for s in json.loads(ok("suggest", "--json"))}
    assert suggestions["11.3.2"]["suggestion"] == "no-recent-run"  # pci.asv has not run in an audit yet
    status = json.loads(ok("status", "--json"))
    assert status["saq"] == "A" and sum(g["applicable"] for g in status["groups"]) == 28

    pdf = tmp_path / "aoc.pdf"
    ok("report", "-o", str(pdf))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # pdftotext may break a word at a hyphen or join the two halves: compare without
    # white space and hyphens.
    flat = re.sub(r"[\s\-]", "", text)
    for needle in (
        "WORKING COPY",
        "not an official PCI SSC form",
        "Kestrel Coffee Roasters Ltd",
        "SAQ A (v4.0.1 r1, January 2025)",
        "script attacks",
        "12.8.4",
        "processor-aoc.pdf",
        "Not in Place",
        "Liffey Hosting",
        "Admin login is SSO with MFA",
        "No card data on paper either.",
        "NOT COMPLIANT YET",
        "not a PCI SSC Approved Scanning Vendor",
        "Signed by",
    ):
        assert re.sub(r"[\s\-]", "", needle) in flat, needle

    html = tmp_path / "aoc.html"
    ok("report", "-o", str(html))
    assert "WORKING COPY" in html.read_text()

    pack = tmp_path / "pack.zip"
    ok("export", "-o", str(pack))
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
        assert {"index.json", "answers.csv", "answers.json", "findings.json", "report.html"} <= names
        assert any(n.startswith("evidence/12.8.4/") and n.endswith("processor-aoc.pdf") for n in names)
        assert any(n.startswith("asv/2026-Q3/") for n in names)
        index = json.loads(z.read("index.json"))
        assert index["answers"] == 11 and "not an official PCI SSC form" in index["notice"]
        assert "2.2.2,not-in-place" in z.read("answers.csv").decode()

    answers = tmp_path / "answers.yaml"
    ok("export", "--answers", "-o", str(answers))
    text = answers.read_text().replace("answer: in-place\n", "answer: maybe\n", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    before = rows(url, PciAnswer)
    r = runner.invoke(app, ["pci", "import", "--answers", str(bad), *opts])
    assert r.exit_code == 2 and "requirement 12.8.4: field 'answer'" in " ".join(r.output.split())
    assert rows(url, PciAnswer) == before
    ok("import", "--answers", str(answers))

    r = runner.invoke(app, ["pci", "prescan", *opts])
    assert r.exit_code == 0 and "not a PCI SSC Approved Scanning Vendor" in " ".join(r.output.split())


def test_interactive_wizard(tmp_path: Path) -> None:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text('[[stores]]\nname = "demo"\nstorefront_url = "https://shop.example"\n')
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    # integration, servers?, stores?, processor AoC?, all elements?, script protection?,
    # then the conditions still pending
    answers = "iframe\nno\nno\nyes\nyes\nunsure\nyes\nno\nunsure\n"
    r = CliRunner().invoke(
        app, ["pci", "saq", "--config", str(cfg), "--db", url, "--ask", "--by", "Aoife"], input=answers
    )
    assert r.exit_code == 0, r.output
    assert "Which one describes your checkout?" in r.output and "SAQ A (v4.0.1 r1" in r.output
    db = open_database(url)
    with db() as s:
        a = s.scalar(select(PciAssessment))
        assert a is not None and (a.saq, a.integration, a.decided_by) == ("A", "iframe", "Aoife")
        conf = {c["id"]: c["confirmed"] for c in a.conditions}
    db.kw["bind"].dispose()
    assert conf["processor-compliant"] is True and conf["no-electronic-storage"] is True
    assert conf["all-elements-from-processor"] is True
    # pending after the flags: ecommerce-only-channel (yes), script-attack-protection (no -> stays open)
    assert conf["ecommerce-only-channel"] is True
    assert conf["script-attack-protection"] is None


def test_confirm_flag_and_unknown_condition(env: tuple[CliRunner, list[str], str]) -> None:
    runner, opts, _url = env
    r = runner.invoke(
        app, ["pci", "saq", *opts, "--no-input", "--confirm", "ecommerce-only-channel", "--json"]
    )
    assert r.exit_code == 0, r.output
    assert {c["id"]: c["confirmed"] for c in json.loads(r.output)["conditions"]}[
        "ecommerce-only-channel"
    ] is True
    r = runner.invoke(app, ["pci", "saq", *opts, "--no-input", "--confirm", "moon-phase"])
    assert r.exit_code == 2 and "moon-phase" in r.output
