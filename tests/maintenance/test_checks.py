"""The maintenance checks through the real runner and storage (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from shopguard.audit import run_audit
from shopguard.config import Config, Store
from shopguard.findings import Severity
from shopguard.maintenance.settings import MaintenanceSettings
from shopguard.readiness import litmus


def store(root: Path, **kw: object) -> Store:
    return Store(
        name="demo",
        storefront_url="http://127.0.0.1:8080/",  # type: ignore[arg-type]
        web_roots=(root,),
        maintenance=MaintenanceSettings(inventory_host=False, **kw),  # type: ignore[arg-type]
    )


def test_audit_stores_maintenance_findings_and_litmus(
    demo_shop: Path, synced_home: Path, db: sessionmaker[Session]
) -> None:
    s = store(demo_shop)
    run = run_audit(Config(stores=(s,)), [s], db, selectors=["maintenance"])
    assert {e[1]: e[2] for e in run.executions} == {
        "maintenance.eol": "ok",
        "maintenance.inventory": "ok",
        "maintenance.vulnerabilities": "ok",
    }
    by = {(sf.finding.check_id, sf.finding.evidence.get("component")): sf.finding for sf in run.findings}
    jq = by[("maintenance.vulnerabilities", "jquery")]
    assert jq.location == str(demo_shop / "js" / "jquery-1.12.4.min.js")
    assert "CVE-2020-11022" in jq.refs.cve
    assert by[("maintenance.eol", "jquery")].severity is Severity.HIGH
    assert by[("maintenance.vulnerabilities", "Django")].evidence["smallest_fix"] == "3.1.12"
    row = next(r for r in litmus(run) if r.protocol == "maintenance")
    assert row.status.value == "gaps" and row.checks_ok == 3
    # fix everything: the next run resolves the findings
    (demo_shop / "js" / "jquery-1.12.4.min.js").unlink()
    (demo_shop / "requirements.txt").write_text("Django==4.2.16\nJinja2==3.1.4\n")
    run2 = run_audit(Config(stores=(s,)), [s], db, selectors=["maintenance"])
    open_vulns = [
        sf
        for sf in run2.findings
        if sf.counts_as_open and sf.finding.check_id == "maintenance.vulnerabilities"
    ]
    assert open_vulns == []
    resolved = {sf.finding.evidence.get("component") for sf in run2.findings if sf.status.value == "resolved"}
    assert {"jquery", "Django", "Jinja2"} <= resolved


def test_missing_database_is_a_check_error_not_a_clean_pass(demo_shop: Path, sqlite_url: str) -> None:
    from shopguard.db import open_database

    s = store(demo_shop)
    run = run_audit(
        Config(stores=(s,)), [s], open_database(sqlite_url), selectors=["maintenance.vulnerabilities"]
    )
    ((_, _check, outcome, message),) = run.executions
    assert outcome == "error" and "shopguard vulndb sync" in message
    row = next(r for r in litmus(run) if r.protocol == "maintenance")
    assert row.status.value == "not_assessed"


def test_stale_database_is_a_finding(demo_shop: Path, synced_home: Path, sqlite_url: str) -> None:
    import datetime as dt
    import json
    import sqlite3

    from shopguard.db import open_database

    db_file = synced_home / "vulndb.sqlite"
    s = store(demo_shop)
    sessions = open_database(sqlite_url)
    fresh = run_audit(Config(stores=(s,)), [s], sessions, selectors=["maintenance.vulnerabilities"])
    assert not [sf for sf in fresh.findings if sf.finding.check_id.endswith("database-age")]
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'synced_at'", (json.dumps(old),))
    stale = run_audit(Config(stores=(s,)), [s], sessions, selectors=["maintenance.vulnerabilities"])
    (f,) = [sf.finding for sf in stale.findings if sf.finding.check_id.endswith("database-age")]
    assert f.check_id == "maintenance.vulnerabilities.database-age"
    assert f.severity is Severity.MEDIUM and f.title == "The vulnerability database is 10 days old"
    assert f.refs.pci == ("6.3.1",) and "vulndb sync" in f.remediation
