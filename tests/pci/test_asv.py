"""Requirement 11.3.2 cadence and ShopGuard's own ASV-rule pre-scan."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import Outcome
from shopguard.findings import Finding, Refs, Severity
from shopguard.pci.assessment import PciError
from shopguard.pci.asv import (
    NOT_AN_ASV,
    NextScan,
    QuarterStatus,
    add_scan,
    cadence,
    next_due,
    next_quarter,
    parse_quarter,
    prescan,
    previous_quarters,
    quarter_end,
    quarter_of,
)

STORE = "demo"


def pdf(tmp_path: Path, name: str, body: str = "scan") -> Path:
    p = tmp_path / name
    p.write_bytes(b"%PDF-1.4\n% ASV report " + body.encode() + b"\n")
    return p


def test_quarters() -> None:
    assert quarter_of(date(2026, 1, 1)) == "2026-Q1"
    assert quarter_of(date(2026, 12, 31)) == "2026-Q4"
    assert previous_quarters(date(2026, 2, 10), 4) == ["2025-Q4", "2025-Q3", "2025-Q2", "2025-Q1"]
    assert parse_quarter("2026-q3") == (2026, 3)
    for bad in ("2026-Q5", "Q3-2026", "2026"):
        with pytest.raises(PciError, match="2026-Q3"):
            parse_quarter(bad)


def test_quarter_end_and_next_due() -> None:
    assert [quarter_end(f"2026-Q{q}") for q in (1, 2, 3, 4)] == [
        date(2026, 3, 31),
        date(2026, 6, 30),
        date(2026, 9, 30),
        date(2026, 12, 31),
    ]
    assert next_quarter("2026-Q4") == "2027-Q1" and next_quarter("2026-q2") == "2026-Q3"
    done = [QuarterStatus("2026-Q4", "passed"), QuarterStatus("2026-Q3", "passed")]
    assert next_due(done) == NextScan("2027-Q1", date(2027, 3, 31), ())
    open_now = [
        QuarterStatus("2026-Q4", "due"),
        QuarterStatus("2026-Q3", "failed"),
        QuarterStatus("2026-Q2", "missing"),
    ]
    nxt = next_due(open_now)
    assert (nxt.quarter, nxt.by, nxt.overdue) == ("2026-Q4", date(2026, 12, 31), ("2026-Q3", "2026-Q2"))


def test_cadence_tracks_passing_scans_per_quarter(pci_db: sessionmaker[Session], tmp_path: Path) -> None:
    today = date(2026, 11, 25)
    add_scan(
        pci_db,
        STORE,
        pdf(tmp_path, "q3.pdf", "q3"),
        quarter=None,
        scan_date=date(2026, 8, 2),
        vendor="Example ASV",
        passed=True,
        uploader="Ann",
    )
    add_scan(
        pci_db,
        STORE,
        pdf(tmp_path, "q2-fail.pdf", "q2 fail"),
        quarter=None,
        scan_date=date(2026, 5, 2),
        vendor="Example ASV",
        passed=False,
        uploader="Ann",
    )
    add_scan(
        pci_db,
        STORE,
        pdf(tmp_path, "q1.pdf", "q1"),
        quarter="2026-Q1",
        scan_date=date(2026, 4, 1),
        vendor="Example ASV",
        passed=True,
        uploader="Ann",
    )
    with pci_db() as s:
        got = {q.quarter: q.status for q in cadence(s, STORE, today)}
    assert got == {
        "2026-Q4": "due",
        "2026-Q3": "passed",
        "2026-Q2": "failed",
        "2026-Q1": "passed",
        "2025-Q4": "missing",
    }
    with pci_db() as s:
        nxt = next_due(cadence(s, STORE, today))
    assert (nxt.quarter, nxt.by, nxt.overdue) == ("2026-Q4", date(2026, 12, 31), ("2026-Q2", "2025-Q4"))
    with pytest.raises(PciError, match="vendor"):
        add_scan(
            pci_db,
            STORE,
            pdf(tmp_path, "x.pdf"),
            quarter=None,
            scan_date=date(2026, 8, 2),
            vendor=" ",
            passed=True,
            uploader="Ann",
        )


def stored(severity: Severity, title: str, check_id: str = "scanning.web.x", **kw: Any) -> Finding:
    return Finding(check_id, severity, title, "https://shop.example/", key=title, **kw)


def test_prescan_applies_the_asv_pass_rule(pci_db: sessionmaker[Session], store_run: Any) -> None:
    low = stored(Severity.LOW, "Server banner shows version", evidence={"cvss": 3.9})
    store_run(pci_db, [("scanning.web.x", Outcome.OK, [low])])
    with pci_db() as s:
        res = prescan(s, STORE)
    assert res.passed and res.considered == 1

    scored = stored(Severity.LOW, "Outdated jQuery", evidence={"cvss": 6.1})
    unscored = stored(Severity.MEDIUM, "Missing HSTS")
    xss = stored(Severity.LOW, "Reflected input", refs=Refs(cwe=("CWE-79",)), evidence={"cvss": 2.0})
    eol = stored(Severity.LOW, "PHP 7.4 is end-of-life", check_id="maintenance.eol", evidence={"cvss": 0})
    hosting = stored(Severity.CRITICAL, "Root login over SSH", check_id="hosting.ssh.root")
    store_run(
        pci_db,
        [
            ("scanning.web.x", Outcome.OK, [low, scored, unscored, xss]),
            ("maintenance.eol", Outcome.OK, [eol]),
            ("hosting.ssh", Outcome.OK, [hosting]),
        ],
    )
    with pci_db() as s:
        res = prescan(s, STORE)
    assert not res.passed and res.considered == 5  # hosting findings are not what an external scan sees
    reasons = {f.title: f.reason for f in res.failures}
    assert reasons["Outdated jQuery"] == "CVSS 6.1 is 4.0 or more"
    assert "estimated from severity" in reasons["Missing HSTS"]
    assert reasons["Reflected input"] == "automatic failure: Cross-site scripting"
    assert "no longer supported" in reasons["PHP 7.4 is end-of-life"]
    assert "Server banner shows version" not in reasons
    assert "not a PCI SSC Approved Scanning Vendor" in NOT_AN_ASV

    # Fixed and rescanned: resolved findings no longer count.
    store_run(pci_db, [("scanning.web.x", Outcome.OK, [low]), ("maintenance.eol", Outcome.OK, [])])
    with pci_db() as s:
        assert prescan(s, STORE).passed
