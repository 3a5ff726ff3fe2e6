from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.db import open_database
from shopguard.db.repository import begin_run, finish_run, load_run, record_check
from shopguard.findings import Finding, Severity
from shopguard.readiness import ReadinessStatus, litmus


def run_with(db: sessionmaker[Session], *results: CheckRun) -> dict[str, ReadinessStatus]:
    rid = begin_run(db, ["demo"], "")
    for r in results:
        record_check(db, rid, r)
    finish_run(db, rid)
    return {row.protocol: row.status for row in litmus(load_run(db, rid))}


def test_nothing_passes_by_default(sqlite_url: str) -> None:
    status = run_with(open_database(sqlite_url))
    assert set(status.values()) == {ReadinessStatus.NOT_ASSESSED}
    assert list(status) == ["insurance", "maintenance", "hosting", "scanning", "pci", "policies", "response"]


def test_ready_needs_a_clean_run_and_low_findings_do_not_block(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    status = run_with(
        db,
        CheckRun("hosting.a", "demo", Outcome.OK, [Finding("hosting.a", Severity.LOW, "minor", "h:22")]),
        CheckRun("pci.a", "demo", Outcome.OK, [Finding("pci.a", Severity.MEDIUM, "gap", "saq")]),
        CheckRun("policies.a", "demo", Outcome.OK, []),
        CheckRun("policies.b", "demo", Outcome.ERROR, [], "boom"),
        CheckRun("response.a", "demo", Outcome.TIMEOUT, [], "slow"),
    )
    assert status["hosting"] is ReadinessStatus.READY
    assert status["pci"] is ReadinessStatus.GAPS
    # partial evidence never reads as ready
    assert status["policies"] is ReadinessStatus.GAPS
    assert status["response"] is ReadinessStatus.NOT_ASSESSED
    assert status["insurance"] is ReadinessStatus.NOT_ASSESSED


def test_actions_are_the_worst_findings_with_their_fix(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    rid = begin_run(db, ["demo"], "")
    record_check(
        db,
        rid,
        CheckRun(
            "scanning.x",
            "demo",
            Outcome.OK,
            [
                Finding("scanning.x", Severity.LOW, "low one", "a", remediation="later"),
                Finding(
                    "scanning.x", Severity.CRITICAL, "skimmer", "b", remediation="Remove it\nthen rotate keys"
                ),
                Finding("scanning.x", Severity.HIGH, "no https", "c", remediation="Get a certificate"),
                Finding("scanning.x", Severity.MEDIUM, "headers", "d"),
            ],
        ),
    )
    finish_run(db, rid)
    row = next(r for r in litmus(load_run(db, rid)) if r.protocol == "scanning")
    assert row.actions == ("skimmer — Remove it", "no https — Get a certificate", "headers")
    assert row.counts == {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 0}
