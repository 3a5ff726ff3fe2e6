from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from jsonschema import Draft202012Validator

import shopguard.reports
from shopguard.db.repository import StoredRun
from shopguard.reports import render

DATA = Path(__file__).parents[1] / "data"
REPORT_SCHEMA = Path(shopguard.reports.__file__).parent / "schemas" / "report-1.json"


def test_json_matches_its_published_schema(stored_run: StoredRun) -> None:
    doc = json.loads(render(stored_run, "json"))
    schema = json.loads(REPORT_SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["schema_version"] == "1.0"
    assert doc["tool"]["name"] == "ShopGuard"
    assert doc["run"]["checks_run"] == 4 and doc["run"]["check_errors"] == 1
    assert doc["run"]["errors"][0]["check_id"] == "hosting.ssh.config"
    sev = [f["severity"] for f in doc["findings"]]
    assert sev[0] == "medium"  # maintenance comes before scanning; inside a protocol worst first
    skimmer = next(f for f in doc["findings"] if f["check_id"] == "scanning.files.malware")
    assert skimmer["refs"]["pci"] == ["11.5.1", "6.4.3"]
    assert skimmer["status"] == "new"
    litmus = {row["protocol"]: row for row in doc["litmus"]}
    assert litmus["scanning"]["status"] == "gaps"
    assert litmus["scanning"]["counts"]["critical"] == 1
    assert litmus["hosting"]["status"] == "not_assessed"
    assert litmus["insurance"]["status"] == "not_assessed"
    assert litmus["maintenance"]["status"] == "gaps"


def test_json_schema_rejects_a_broken_document(stored_run: StoredRun) -> None:
    doc = json.loads(render(stored_run, "json"))
    del doc["findings"][0]["fingerprint"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json.loads(REPORT_SCHEMA.read_text()))


def test_sarif_validates_against_the_official_schema(stored_run: StoredRun) -> None:
    doc = json.loads(render(stored_run, "sarif"))
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "ShopGuard"
    results = {r["ruleId"]: r for r in run["results"] if r["ruleId"] != "maintenance.vulns"}
    assert results["scanning.files.malware"]["level"] == "error"
    uri = results["scanning.files.malware"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "file:///srv/shop/js/checkout-helper.js"
    assert "partialFingerprints" in results["scanning.web.https"]
    accepted = [r for r in run["results"] if "suppressions" in r]
    assert len(accepted) == 1 and "legacy" in accepted[0]["suppressions"][0]["justification"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert "sshd -T needs root" in notes[0]["message"]["text"]
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_html_is_self_contained_and_readable(stored_run: StoredRun) -> None:
    html = render(stored_run, "html")
    assert html.startswith("<!doctype html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external resources"
    # The litmus table comes before the findings.
    assert html.index("Litmus test") < html.index("Card skimmer")
    assert "How to fix:" in html and "Quarantine the file &amp; open an incident." in html
    assert "&lt;script&gt;" in html and "<script>" not in html  # escaped, never injected
    assert "Not assessed" in html and "Checks that could not run (1)" in html
    assert "not a PCI Approved Scanning Vendor" in html


def test_table_text(stored_run: StoredRun) -> None:
    text = render(stored_run, "table", width=160)
    assert "Litmus test: the seven protocols" in text
    for title in ("Cyber insurance", "Emergency response plan", "Security scans and monitoring"):
        assert title in text
    assert "NOT ASSESSED" in text and "GAPS" in text
    assert "accepted risk" in text
    assert "\x1b[" not in text  # no colour codes in files


def test_unknown_format(stored_run: StoredRun) -> None:
    with pytest.raises(ValueError):
        render(stored_run, "pdf")


def test_brackets_in_findings_are_text_not_markup(sqlite_url: str) -> None:
    from shopguard.checks import CheckRun, Outcome
    from shopguard.db import open_database
    from shopguard.db.repository import begin_run, finish_run, load_run, record_check
    from shopguard.findings import Finding, Severity

    db = open_database(sqlite_url)
    rid = begin_run(db, ["demo"], "")
    f = Finding("hosting.db.local-infile", Severity.MEDIUM, "[bold]local_infile[/] is on", "127.0.0.1:3306",
                remediation="[mysqld] local_infile = 0")  # fmt: skip
    record_check(db, rid, CheckRun("hosting.db.local-infile", "demo", Outcome.OK, [f]))
    finish_run(db, rid)
    text = render(load_run(db, rid), "table", width=200)
    assert "[mysqld] local_infile = 0" in text
    assert "[bold]local_infile[/] is on" in text
