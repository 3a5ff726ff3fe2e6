"""The plan in every format, its versions, and the honest litmus row for response."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shopguard.audit import run_audit
from shopguard.config import Config
from shopguard.db import open_database, utcnow
from shopguard.findings import Severity
from shopguard.readiness.litmus import ReadinessStatus, litmus
from shopguard.response import incidents, plan
from shopguard.response.documents import FormatError, check_format, render
from shopguard.response.drill import run_drill
from shopguard.response.models import Drill, PlanVersion

from .conftest import make_config


@pytest.fixture
def sdb(sqlite_url: str) -> sessionmaker[Session]:
    return open_database(sqlite_url)


def test_plan_text_covers_phases_runbooks_laws_and_missing_contacts(demo_config: Config) -> None:
    text = plan.plan_markdown(demo_config)
    for phase in (
        "Preparation",
        "Identification",
        "Containment and remediation",
        "Appraisal of damage",
        "Notification",
        "Investigation",
        "Recovery",
        "Lessons learned",
    ):
        assert f". {phase}\n" in text
    for book in (
        "Payment-page skimmer",
        "Admin account takeover",
        "Database exfiltration",
        "Ransomware",
        "Outage or DDoS",
        "Defacement",
        "Compromised third-party script",
        "Lost or stolen laptop",
    ):
        assert f"### {book}" in text
    assert "**MISSING — add `[contacts.forensic_investigator]`" in text
    assert "NIST SP 800-61 Rev. 3" in text and "CSWP 29" in text and "12.10.1" in text
    assert "`gdpr-authority`" in text and "`us-ca-individuals`" in text and "`us-tx-individuals`" not in text
    assert "usually SAQ A" in text and "Europe/Dublin" in text
    assert "not legal advice" in text
    assert plan.missing_contacts(demo_config) == ["forensic_investigator"]
    assert plan.plan_markdown(demo_config) == text  # deterministic: the hash identifies the text


def test_plan_renders_to_pdf_docx_and_html(full_config: Config, tmp_path: Path) -> None:
    text = plan.plan_markdown(full_config)
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(render(text, "pdf", "Incident response plan"))
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Incident response plan" in out and "Corvid Forensics" in out and "Payment-page skimmer" in out
    doc = docx.Document(io.BytesIO(render(text, "docx", "Incident response plan")))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0].startswith("Incident response plan") and "1. Preparation" in headings
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "Aoife Brennan" in cells and "aoife.brennan@example.com" in cells
    html = render(text, "html", "Plan").decode()
    assert "<table>" in html and "<h3>Payment-page skimmer (JavaScript or server-side)</h3>" in html
    assert render(text, "md", "Plan").decode() == text
    with pytest.raises(FormatError, match="--format: unknown 'rtf'"):
        check_format("rtf")


def test_markdown_in_contacts_cannot_break_the_table() -> None:
    cfg = make_config()
    data = cfg.model_dump()
    data["contacts"]["lawyer"]["name"] = "Roe | <script>alert(1)</script>"
    from shopguard.config import parse_config

    html = render(plan.plan_markdown(parse_config(data)), "html", "Plan").decode()
    assert "<script>" not in html and "Roe | &lt;script&gt;" in html


def test_versions_move_draft_approved_published(
    sdb: sessionmaker[Session], demo_config: Config, full_config: Config
) -> None:
    with sdb.begin() as s:
        v1, new = plan.save_draft(s, demo_config, "Aoife")
        assert new and v1.version == 1 and v1.status == "draft"
        assert plan.save_draft(s, demo_config, "Aoife") == (v1, False)
        with pytest.raises(plan.PlanError, match="approve it before publishing"):
            plan.publish(s)
        plan.approve(s, "Aoife Brennan")
        with pytest.raises(plan.PlanError, match="only a draft can be approved"):
            plan.approve(s, "Aoife Brennan")
        plan.publish(s)
        v2, new = plan.save_draft(s, full_config, "Aoife")
        assert new and v2.version == 2 and v2.text_hash != v1.text_hash
        plan.approve(s, "Aoife Brennan")
        plan.publish(s)
        assert [(v.version, v.status) for v in plan.versions(s)] == [(1, "superseded"), (2, "published")]
    with sdb.begin() as s:  # an edited stored text is refused
        s.execute(update(PlanVersion).values(status="draft", text="edited"))
        with pytest.raises(plan.PlanError, match="does not match its recorded hash"):
            plan.approve(s, "Aoife", 2)


def _response_row(db: sessionmaker[Session], config: Config) -> tuple[ReadinessStatus, set[str]]:
    run = run_audit(config, config.stores, db, selectors=["response"])
    row = next(r for r in litmus(run) if r.protocol == "response")
    return row.status, {sf.finding.check_id for sf in run.findings if sf.counts_as_open}


def test_litmus_is_ready_only_with_published_plan_contacts_drill_and_nothing_overdue(
    db: sessionmaker[Session], demo_config: Config, full_config: Config
) -> None:
    sdb = db  # SQLite and PostgreSQL
    status, ids = _response_row(sdb, demo_config)
    assert status is ReadinessStatus.GAPS
    assert {"response.plan.missing", "response.contacts.missing", "response.drill.overdue"} <= ids
    with sdb.begin() as s:
        plan.save_draft(s, full_config, "Aoife")
    status, ids = _response_row(sdb, full_config)
    assert "response.plan.unpublished" in ids and "response.contacts.missing" not in ids
    with sdb.begin() as s:
        plan.approve(s, "Aoife")
        plan.publish(s)
        run_drill(s, full_config, "skimmer", store="demo")
    status, ids = _response_row(sdb, full_config)
    assert status is ReadinessStatus.READY, ids
    # The config changed after publishing: the printed plan is outdated.
    status, ids = _response_row(sdb, demo_config)
    assert status is ReadinessStatus.GAPS and "response.plan.outdated" in ids
    # A drill 13 months ago and a plan published 13 months ago do not count.
    with sdb.begin() as s:
        old = plan.latest(s, "published")
        assert old is not None and old.published_at is not None
        s.execute(update(PlanVersion).values(published_at=old.published_at - timedelta(days=400)))
        for d in s.scalars(select(Drill)):
            d.finished_at -= timedelta(days=400)
    status, ids = _response_row(sdb, full_config)
    assert {"response.plan.stale", "response.drill.overdue"} <= ids and status is ReadinessStatus.GAPS


def test_overdue_notification_on_an_open_incident_is_a_gap(
    sdb: sessionmaker[Session], full_config: Config
) -> None:
    with sdb.begin() as s:
        plan.save_draft(s, full_config, "Aoife")
        plan.approve(s, "Aoife")
        plan.publish(s)
        run_drill(s, full_config, "skimmer")
        inc = incidents.open_incident(
            s,
            store="demo",
            title="Skimmer",
            scenario="skimmer",
            severity=Severity.CRITICAL,
            actor="Aoife",
            config=full_config,
            discovered_at=utcnow() - timedelta(days=4),
        )
        for party in ("acquirer", "insurer", "us-ca-individuals"):
            incidents.mark_sent(s, inc, party, method="e-mail", actor="Aoife")
    status, ids = _response_row(sdb, full_config)
    assert status is ReadinessStatus.GAPS and "response.incidents.notification-overdue" in ids
    with sdb.begin() as s:
        incidents.mark_sent(s, incidents.get(s, inc.id), "gdpr-authority", method="portal", actor="Aoife")
    status, ids = _response_row(sdb, full_config)
    assert status is ReadinessStatus.READY, ids  # sent late is recorded, not hidden, but no longer overdue


def test_unknown_store_jurisdiction_is_a_finding_not_a_crash(
    sdb: sessionmaker[Session], full_config: Config
) -> None:
    from shopguard.config import parse_config

    with sdb.begin() as s:
        plan.save_draft(s, full_config, "Aoife")
        plan.approve(s, "Aoife")
        plan.publish(s)
    data = full_config.model_dump(mode="json")
    data["stores"][0]["jurisdictions"] = ["EU", "Atlantis"]
    bad = parse_config(data)
    run = run_audit(bad, bad.stores, sdb, selectors=["response.plan"])
    found = {sf.finding.check_id: sf.finding for sf in run.findings}
    assert (
        "stores.demo.jurisdictions[1]: unknown jurisdiction 'Atlantis'"
        in found["response.plan.config"].detail
    )
    assert run.check_errors == 0


def test_quick_reference_card_fits_one_page(demo_config: Config, tmp_path: Path) -> None:
    text = plan.card_markdown(demo_config)
    assert "Aoife Brennan, +353 1 555 0142" in text and "| Forensic investigator | **MISSING** |" in text
    assert "acquirer within 24 hours" in text and "authority within 72 hours" in text
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(render(text, "pdf", "Incident quick reference"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
