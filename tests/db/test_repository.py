"""Finding lifecycle and crash safety, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.db.models import FindingRecord, RunRecord
from shopguard.db.repository import (
    NotFound,
    begin_run,
    finish_run,
    load_run,
    record_check,
    set_triage,
)
from shopguard.findings import Finding, FindingStatus, Severity, Triage

CHECK = "scanning.web.server-banner"


def banner(location: str = "http://127.0.0.1:18080/", sev: Severity = Severity.LOW) -> Finding:
    return Finding(CHECK, sev, "Server version shown", location, remediation="server_tokens off;")


def one_run(db: sessionmaker[Session], *results: CheckRun, status: str = "finished") -> int:
    run_id = begin_run(db, ["demo"], "")
    for r in results:
        record_check(db, run_id, r)
    finish_run(db, run_id, status)
    return run_id


def ok(findings: list[Finding], check_id: str = CHECK) -> CheckRun:
    return CheckRun(check_id, "demo", Outcome.OK, findings)


def statuses(db: sessionmaker[Session], run_id: int) -> dict[str, str]:
    return {sf.finding.location: sf.status.value for sf in load_run(db, run_id).findings}


def test_lifecycle_new_open_resolved_and_back(db: sessionmaker[Session]) -> None:
    r1 = one_run(db, ok([banner(), banner("http://127.0.0.1:18080/checkout")]))
    assert statuses(db, r1) == {"http://127.0.0.1:18080/": "new", "http://127.0.0.1:18080/checkout": "new"}

    # Same problem, new wording and severity: still the same row, now "open".
    r2 = one_run(db, ok([banner(sev=Severity.MEDIUM)]))
    st = statuses(db, r2)
    assert st["http://127.0.0.1:18080/"] == "open"
    assert st["http://127.0.0.1:18080/checkout"] == "resolved"
    with db() as s:
        rows = list(s.scalars(select(FindingRecord)))
        assert len(rows) == 2
        root = next(r for r in rows if r.location == "http://127.0.0.1:18080/")
        assert root.severity == "medium"
        assert root.first_run_id == r1 and root.last_run_id == r2
        assert root.first_seen <= root.last_seen

    # Comes back later: the same row reopens.
    r3 = one_run(db, ok([banner(), banner("http://127.0.0.1:18080/checkout")]))
    assert statuses(db, r3)["http://127.0.0.1:18080/checkout"] == "open"
    with db() as s:
        assert len(list(s.scalars(select(FindingRecord)))) == 2


def test_a_check_that_errored_resolves_nothing(db: sessionmaker[Session]) -> None:
    one_run(db, ok([banner()]))
    r2 = one_run(db, CheckRun(CHECK, "demo", Outcome.TIMEOUT, [], "did not finish"))
    run = load_run(db, r2)
    assert run.findings == ()
    assert run.check_errors == 1
    with db() as s:
        assert s.scalar(select(FindingRecord.status)) == "new"


def test_a_run_of_other_checks_resolves_nothing(db: sessionmaker[Session]) -> None:
    one_run(db, ok([banner()]))
    one_run(db, ok([], check_id="scanning.web.https"))
    with db() as s:
        assert s.scalar(select(FindingRecord.status)) == "new"


def test_triage_survives_later_runs(db: sessionmaker[Session]) -> None:
    one_run(db, ok([banner()]))
    fp = banner().fingerprint
    with pytest.raises(ValueError, match="reason is required"):
        set_triage(db, "demo", fp, Triage.ACCEPTED_RISK, "  ", "alice")
    set_triage(db, "demo", fp[:10], Triage.ACCEPTED_RISK, "CDN adds the header; ticket OPS-12", "alice")
    r2 = one_run(db, ok([banner()]))
    sf = load_run(db, r2).findings[0]
    assert sf.triage is Triage.ACCEPTED_RISK
    assert sf.triage_reason == "CDN adds the header; ticket OPS-12"
    assert not sf.counts_as_open
    with pytest.raises(NotFound):
        set_triage(db, "other-store", fp, Triage.FALSE_POSITIVE, "x", "bob")


def test_duplicate_findings_in_one_check_count_once(db: sessionmaker[Session]) -> None:
    r = one_run(db, ok([banner(), banner()]))
    assert len(load_run(db, r).findings) == 1


def test_load_run_newest_and_missing(db: sessionmaker[Session]) -> None:
    with pytest.raises(NotFound, match="no run stored yet"):
        load_run(db)
    one_run(db, ok([]))
    r2 = one_run(db, ok([banner()]))
    assert load_run(db).id == r2
    with pytest.raises(NotFound, match="run 999 does not exist"):
        load_run(db, 999)


CRASHER = textwrap.dedent(
    """
    import sys, time
    from shopguard.checks import CheckRun, Outcome
    from shopguard.db import open_database
    from shopguard.db.models import FindingRecord
    from shopguard.db.repository import begin_run, record_check
    from shopguard.findings import Finding, Severity

    db = open_database(sys.argv[1])
    run_id = begin_run(db, ["demo"], "")
    record_check(db, run_id, CheckRun("scanning.web.https", "demo", Outcome.OK,
                 [Finding("scanning.web.https", Severity.HIGH, "No HTTPS", "http://x/")]))
    with db.begin() as s:  # a transaction that never commits
        s.add(FindingRecord(store="demo", fingerprint="half-written", check_id="scanning.x",
              source_check="scanning.x", protocol="scanning", severity="high", title="t", location="l"))
        s.flush()
        print("ready", flush=True)
        time.sleep(60)
    """
)


def test_kill_9_mid_run_leaves_a_consistent_database(db_url: str, tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(CRASHER)
    proc = subprocess.Popen([sys.executable, str(script), db_url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    time.sleep(0.2)

    from shopguard.db import open_database

    db = open_database(db_url)
    with db() as s:
        fps = set(s.scalars(select(FindingRecord.fingerprint)))
    assert "half-written" not in fps  # the open transaction was rolled back
    assert len(fps) == 1  # the committed check result survived
    r2 = one_run(db, ok([], check_id="scanning.web.https"))
    with db() as s:
        runs = {r.id: r.status for r in s.scalars(select(RunRecord))}
    assert runs[r2] == "finished"
    assert sorted(runs.values()) == ["finished", "interrupted"]
    assert load_run(db, r2).findings[0].status is FindingStatus.RESOLVED
    db.kw["bind"].dispose()


def test_two_overlapping_runs_of_one_check_neither_resolves_what_both_saw(db: sessionmaker[Session]) -> None:
    """Cluster workers run an audit and a monitor batch of the same check side by side:
    the run finishing last must not resolve (nor link twice) a finding it saw itself
    just because the other run saw it after."""
    a = begin_run(db, ["demo"], "")
    b = begin_run(db, ["demo"], "")
    record_check(db, a, ok([banner()]))
    record_check(db, b, ok([banner()]))  # b saw it after a: findings.last_run_id is b
    finish_run(db, b)
    finish_run(db, a)
    assert statuses(db, a) == {"http://127.0.0.1:18080/": "new"}
    assert statuses(db, b) == {"http://127.0.0.1:18080/": "open"}  # its second sighting
    with db() as s:
        rec = s.scalar(select(FindingRecord))
        assert rec is not None and rec.status == "open" and rec.resolved_at is None
