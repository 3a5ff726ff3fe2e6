"""Underwriting answers drawn from other protocols' stored evidence, the owner, and training."""

from __future__ import annotations

import csv
import io

import yaml

from shopguard.audit import run_audit
from shopguard.checks import CheckRun, Outcome
from shopguard.db.base import utcnow
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Severity
from shopguard.insurance.readiness import QUESTIONS, answer_sheet, answers
from shopguard.insurance.register import import_data
from shopguard.policies.library import approve, init_library, publish
from shopguard.policies.people import add_person, add_training


def _seed_scans(sdb):
    run_id = begin_run(sdb, ["socks"], "hosting,maintenance")
    record_check(sdb, run_id, CheckRun("hosting.ssh.password-auth", "socks", Outcome.OK, []))
    record_check(sdb, run_id, CheckRun("hosting.ssh.root-login", "socks", Outcome.OK, []))
    vuln = Finding(
        "maintenance.vulns",
        Severity.HIGH,
        "WooCommerce 8.0.0 has a known critical vulnerability",
        "/var/www/shop",
        key="CVE-2023-0000",
    )
    record_check(sdb, run_id, CheckRun("maintenance.vulns", "socks", Outcome.OK, [vuln]))
    # a check that could not run is no evidence
    record_check(sdb, run_id, CheckRun("scanning.web.tls", "socks", Outcome.ERROR, [], "connection refused"))
    finish_run(sdb, run_id)


def test_answers_come_from_evidence_then_owner(sdb, config):
    _seed_scans(sdb)
    import_data(
        sdb,
        {
            "underwriting": [
                {"question": "patch_cadence", "answer": "yes", "answered_by": "Ann"},
                {
                    "question": "backups_offline",
                    "answer": "partial",
                    "answered_by": "Ann",
                    "note": "weekly USB copy",
                },
            ]
        },
    )
    add_person(sdb, "ann@acme.example", "Ann", "owner", config.policies)
    add_person(sdb, "bob@acme.example", "Bob", "support", config.policies)
    add_training(sdb, "ann@acme.example", "Phishing", utcnow().date(), config.policies)
    init_library(sdb, config)
    approve(sdb, "backup-recovery", "Ann")
    publish(sdb, "backup-recovery")
    with sdb() as s:
        by = {a.question.id: a for a in answers(s, "socks")}
    assert set(by) == set(QUESTIONS)
    assert by["mfa_remote"].answer == "yes" and by["mfa_remote"].source == "evidence"
    assert "2 check(s)" in by["mfa_remote"].detail
    patch = by["patch_cadence"]
    assert patch.answer == "no" and patch.source == "evidence" and patch.conflict
    assert "WooCommerce 8.0.0" in patch.detail and patch.owner_answer == "yes"
    assert by["encryption_transit"].answer == "unanswered"  # the TLS check errored
    assert by["backups_offline"].answer == "partial" and by["backups_offline"].source == "owner"
    assert "weekly USB copy" in by["backups_offline"].detail
    assert by["backups_offline"].policy_published is True and by["mfa_admin"].policy_published is False
    assert by["training"].answer == "partial" and "1 of 2 people current" in by["training"].detail
    # other stores' evidence does not count for this one
    with sdb() as s:
        assert {a.question.id: a.answer for a in answers(s, "other-store")}["mfa_remote"] == "unanswered"


def test_conflict_is_a_finding_and_sheet_exports(sdb, config):
    _seed_scans(sdb)
    import_data(sdb, {"underwriting": [{"question": "patch_cadence", "answer": "yes"}]})
    run = run_audit(config, list(config.stores), sdb, selectors=["insurance.readiness"])
    found = {sf.finding.key: sf.finding for sf in run.findings}
    assert found["patch_cadence"].severity is Severity.MEDIUM
    assert "contradicts" in found["patch_cadence"].title
    assert found["mfa_email"].severity is Severity.LOW and "Unanswered" in found["mfa_email"].title
    assert "mfa_remote" not in found
    with sdb() as s:
        rows = answers(s, "socks")
    now = utcnow()
    md = answer_sheet(rows, "md", "Acme Socks Ltd", "socks", now)
    assert "not insurance advice" in md and "no **(conflict)**" in md
    table = list(csv.DictReader(io.StringIO(answer_sheet(rows, "csv", "Acme", "socks", now))))
    assert {r["id"]: r["answer"] for r in table}["mfa_remote"] == "yes"
    data = yaml.safe_load(answer_sheet(rows, "yaml", "Acme", "socks", now))
    assert data["store"] == "socks" and len(data["answers"]) == len(QUESTIONS)


def test_incident_plan_answer_comes_from_the_response_protocol(sdb, config):
    """The response checks run for real; their findings answer the insurer's question."""
    store = config.stores[0]
    run_audit(config, [store], sdb, selectors=["response.plan", "response.drill"])
    row = next(a for a in answers(sdb(), store.name) if a.question.id == "incident_plan")
    assert row.source == "evidence" and row.answer == "no"
    assert "open finding" in row.detail
