"""The response and incident commands as a user runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from shopguard.cli.app import app

from .conftest import REPO, write_config

SKIMMER = REPO / "demo" / "shop" / "static" / "js" / "checkout-helper.js"


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = write_config(tmp_path / "shopguard.toml")
    db = f"sqlite:///{tmp_path / 'sg.db'}"
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> tuple[int, str]:
        r = runner.invoke(app, [*args, "--config", str(cfg), "--db", db], env={"COLUMNS": "200"})
        out = r.output
        if ok:
            assert r.exit_code == 0, out
        return r.exit_code, out

    return run


def test_incident_walkthrough(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out = cli(
        "incident",
        "open",
        "Skimmer in checkout-helper.js",
        "--scenario",
        "skimmer",
        "--severity",
        "critical",
        "--discovered",
        "2026-03-27T23:30",
        "--by",
        "Aoife",
    )
    assert "opened incident #1" in out
    code, out = cli(
        "incident",
        "appraise",
        "1",
        "--data",
        "card_number,cvv,name",
        "--records",
        "340",
        "--affected",
        "IE=200",
        "--affected",
        "XX=140",
        "--by",
        "Aoife",
        ok=False,
    )
    assert code == 2 and "affected" in out and "unknown jurisdiction 'XX'" in out
    code, out = cli(
        "incident",
        "appraise",
        "1",
        "--data",
        "card_number,cvv,name",
        "--records",
        "340",
        "--affected",
        "IE=200",
        "--affected",
        "US-CA=140",
        "--from",
        "2026-03-01T00:00",
        "--to",
        "2026-03-27T22:00",
        "--by",
        "Aoife",
        ok=False,
    )
    assert code == 0 and "gdpr-authority" in out and "not legal advice" in out
    code, out = cli("incident", "notify", "1", "--json", ok=False)
    data = json.loads(out)
    parties = {p["party"]: p for p in data["parties"]}
    assert data["timezone"] == "Europe/Dublin"
    assert parties["gdpr-authority"]["due_utc"] == "2026-03-30T23:30:00+00:00"
    assert parties["gdpr-authority"]["due_local"] == "2026-03-31 00:30 IST"
    assert parties["gdpr-authority"]["overdue"] is True  # it is long past March 2026 now
    code, out = cli("incident", "notify", "1", ok=False)
    assert code == 1 and "OVERDUE" in out
    _, out = cli(
        "incident",
        "notify",
        "1",
        "--sent",
        "gdpr-authority",
        "--method",
        "portal",
        "--at",
        "2026-03-30T18:00",
        "--reference",
        "DPC-123",
        "--by",
        "Aoife",
        ok=False,
    )
    assert "marked gdpr-authority as notified" in out
    code, out = cli("incident", "notify", "1", "--sent", "gdpr-authority", "--method", "portal", ok=False)
    assert code == 2, out
    _, out = cli("incident", "notify", "1", "--draft", "acquirer")
    assert "Suspected account data compromise" in out and "incident #1" in out and "PCI Forensic" in out
    _, out = cli("incident", "notify", "1", "--draft", "insurer")
    assert "Notice of a cyber incident" in out and "Harbour Mutual" not in out and "about 340 records" in out
    _, out = cli("incident", "notify", "1", "--draft", "gdpr-authority")
    assert "Reasons for the delay" not in out  # sent on time
    _, out = cli("incident", "notify", "1", "--draft", "us-ca-individuals")
    assert "## What Information Was Involved" in out and "Check your card statements" in out
    _, out = cli("incident", "show", "1")
    assert "appraisal: card_number, cvv, name; 340 records (EU 200, US-CA 140)" in out
    assert "2026-03-01 00:00 GMT to 2026-03-27 22:00 GMT" in out
    _, out = cli("incident", "evidence", "1", str(SKIMMER), "--by", "Aoife")
    assert "sha256" in out
    cli("incident", "note", "1", "Take the payment page offline", "--kind", "decision", "--by", "Aoife")
    cli("incident", "task", "1", "1", "--by", "Aoife")
    cli("incident", "phase", "1", "containment", "--by", "Aoife")
    code, out = cli("incident", "phase", "1", "party", ok=False)
    assert code == 2 and "phase: unknown 'party'" in out
    _, out = cli("incident", "evidence", "1", "--export", "1", "--to", str(tmp_path / "pfi"), "--by", "Aoife")
    assert "sha256 verified" in out
    _, out = cli("incident", "verify")
    assert "timeline intact" in out
    cli(
        "incident",
        "close",
        "1",
        "--root-cause",
        "Outdated checkout plugin",
        "--changes",
        "Weekly updates",
        "--by",
        "Aoife",
    )
    report = tmp_path / "aar.docx"
    cli("incident", "report", "1", "-f", "docx", "-o", str(report))
    doc = docx.Document(io.BytesIO(report.read_bytes()))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = " ".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Outdated checkout plugin" in text and "Take the payment page offline" in text
    rows = {
        t.rows[i].cells[0].text: [c.text for c in t.rows[i].cells]
        for t in doc.tables
        for i in range(len(t.rows))
    }
    assert rows["gdpr-authority"][-1] == "sent" and rows["acquirer"][-1] == "OVERDUE"
    assert "Notified gdpr-authority by portal" in cells
    pdf = tmp_path / "aar.pdf"
    cli("incident", "report", "1", "-f", "pdf", "-o", str(pdf))
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "After-action report" in out and "Outdated checkout plugin" in out and "verified" in out
    _, out = cli("incident", "list", "--json")
    assert json.loads(out)[0]["status"] == "closed"


def test_tampered_timeline_fails_verify_naming_the_event(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    cli("incident", "open", "Admin login from abroad", "--scenario", "admin-takeover", "--by", "Aoife")
    cli("incident", "note", "1", "New admin user 'support2' found", "--by", "Aoife")
    con = sqlite3.connect(tmp_path / "sg.db")
    con.execute("UPDATE response_timeline SET actor = 'Someone else' WHERE seq = 2")
    con.commit()
    con.close()
    code, out = cli("incident", "verify", "1", ok=False)
    assert code == 1 and "TAMPERED" in out and "event 2 (note" in out and "Someone else" in out


def test_drill_from_answers_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "facilitator: Aoife\nparticipants: [Aoife, Liffey Hosting]\nphases:\n"
        "  identification: {minutes: 12, notes: Found the skimmer via the file scan}\n"
        "  containment: {minutes: 25, notes: Hosted page switch,"
        " gaps: [nobody knew the host's night number]}\n"
        "  notification: {minutes: 40}\n"
    )
    _, out = cli("response", "drill", "skimmer", "--answers", str(answers))
    assert "Drill #1" in out and "total 77.0 min" in out and "night number" in out
    _, out = cli("response", "drills")
    assert "skimmer" in out and "77.0" in out
    answers.write_text("phases:\n  coffee: {minutes: 3}\n")
    code, out = cli("response", "drill", "skimmer", "--answers", str(answers), ok=False)
    assert code == 2 and "phases.coffee: unknown phase" in out
    code, out = cli("response", "drill", "alien-invasion", ok=False)
    assert code == 2 and "scenario: unknown 'alien-invasion'" in out


def test_plan_command_saves_and_renders(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out_file = tmp_path / "plan.html"
    _, out = cli("response", "plan", "--save", "-f", "html", "-o", str(out_file), "--by", "Aoife")
    assert "Version 1, draft" in out_file.read_text()
    cli("response", "approve", "--by", "Aoife Brennan")
    _, out = cli("response", "publish")
    assert "published" in out
    code, out = cli("response", "plan", "-f", "pdf", ok=False)
    assert code == 2 and "give --output" in out


def test_real_command_in_a_subprocess(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "shopguard.toml", complete=False)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopguard",
            "response",
            "plan",
            "--config",
            str(cfg),
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "# Incident response plan" in r.stdout and "forensic_investigator" in r.stdout


def test_interactive_drill_records_answers_and_measured_time(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "shopguard.toml", complete=False)
    db = f"sqlite:///{tmp_path / 'sg.db'}"
    # Seven phases, two prompts each: notes, then a gap.
    answers = "Scan found it\n\nPayment page off\nHost night number unknown\n" + "\n\n" * 5
    r = CliRunner().invoke(
        app, ["response", "drill", "ransomware", "--interactive", "--config", str(cfg), "--db", db],
        input=answers, env={"COLUMNS": "200"},
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Call the insurer's hotline at once" in r.output  # the runbook task is shown in its phase
    assert "Scan found it" in r.output and "gap: containment: Host night number unknown" in r.output
    assert "gap: no contact for Forensic investigator" in r.output  # the config lacks one


def test_open_from_findings_and_draft_for_customers(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from shopguard.checks import CheckRun, Outcome
    from shopguard.db import open_database
    from shopguard.db.repository import begin_run, finish_run, record_check
    from shopguard.findings import Finding, Severity

    db = open_database(f"sqlite:///{tmp_path / 'sg.db'}")
    run_id = begin_run(db, ["demo"], "")
    leak = Finding(
        "scanning.pages.script-changed",
        Severity.HIGH,
        "analytics.js changed on the payment page",
        "http://127.0.0.1:18080/checkout",
    )
    record_check(db, run_id, CheckRun("scanning.pages.script-changed", "demo", Outcome.OK, [leak]))
    finish_run(db, run_id)
    _, out = cli("incident", "open", "--from-findings")
    assert "opened incident #1: New or changed script on the payment page" in out
    _, out = cli("incident", "open", "--from-findings")
    assert "no finding calls for a new incident" in out
    _, out = cli("incident", "show", "1")
    assert "finding: analytics.js changed on the payment page [high]" in out and "scanning.pages" in out
    _, out = cli("incident", "list", "--json")
    assert json.loads(out)[0]["overdue_notices"] == 0  # nothing overdue minutes after opening
    cli(
        "incident", "appraise", "1", "--data", "name,email,password", "--records", "40", "--affected", "DE=40"
    )
    _, out = cli("incident", "notify", "1", "--draft", "gdpr-individuals")
    assert "Change your password" in out and "Check your card statements" not in out
    code, out = cli("incident", "notify", "1", "--draft", "us-ca-individuals", ok=False)
    assert code == 2 and "not among this incident's parties" in out
