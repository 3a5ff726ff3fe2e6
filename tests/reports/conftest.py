from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.db import open_database
from shopguard.db.repository import StoredRun, begin_run, finish_run, load_run, record_check, set_triage
from shopguard.findings import Finding, Refs, Severity, Triage


def sample_findings() -> list[CheckRun]:
    return [
        CheckRun(
            "scanning.web.https",
            "demo",
            Outcome.OK,
            [
                Finding(
                    "scanning.web.https",
                    Severity.HIGH,
                    "The shop is served over plain HTTP",
                    "http://127.0.0.1:18080/",
                    detail="Card holders' data and session cookies cross the network unencrypted.",
                    remediation="Install a TLS certificate and redirect all HTTP to HTTPS.",
                    evidence={"status": 200, "https": "connection refused"},
                    refs=Refs(pci=("4.2.1",), cwe=("CWE-319",)),
                )
            ],
        ),
        CheckRun(
            "scanning.files.malware",
            "demo",
            Outcome.OK,
            [
                Finding(
                    "scanning.files.malware",
                    Severity.CRITICAL,
                    "Card skimmer <script> in checkout-helper.js",
                    "/srv/shop/js/checkout-helper.js",
                    remediation="Quarantine the file & open an incident.",
                    refs=Refs(pci=("11.5.1", "6.4.3")),
                )
            ],
        ),
        CheckRun(
            "maintenance.vulns",
            "demo",
            Outcome.OK,
            [
                Finding(
                    "maintenance.vulns",
                    Severity.MEDIUM,
                    "jQuery 1.12.4 has known vulnerabilities",
                    "js/jquery-1.12.4.min.js",
                    refs=Refs(pci=("6.3.3",), cve=("CVE-2020-11022", "CVE-2019-11358")),
                    key="jquery",
                ),
                Finding("maintenance.vulns", Severity.LOW, "Accepted thing", "db.example:3306", key="acc"),
            ],
        ),
        CheckRun("hosting.ssh.config", "demo", Outcome.ERROR, [], "PermissionError: sshd -T needs root"),
    ]


@pytest.fixture
def stored_run(sqlite_url: str) -> StoredRun:
    db: sessionmaker[Session] = open_database(sqlite_url)
    run_id = begin_run(db, ["demo"], "")
    for r in sample_findings():
        record_check(db, run_id, r)
    finish_run(db, run_id)
    accepted = Finding("maintenance.vulns", Severity.LOW, "Accepted thing", "db.example:3306", key="acc")
    set_triage(db, "demo", accepted.fingerprint, Triage.ACCEPTED_RISK, "legacy; replaced in Q1", "alice")
    return load_run(db, run_id)
