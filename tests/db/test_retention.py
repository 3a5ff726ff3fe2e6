"""Retention: old runs are pruned in batches; open, triaged and linked findings and their
lifecycle survive; on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from shopguard.checks import CheckRun, Outcome
from shopguard.cli.app import app
from shopguard.cluster.models import ClusterTask
from shopguard.db import open_database
from shopguard.db import repository as repo
from shopguard.db.models import CheckExecution, FindingRecord, RunFinding, RunRecord
from shopguard.db.retention import prune_runs
from shopguard.findings import Finding, Severity, Triage
from shopguard.response.models import Incident, IncidentFinding

X = "scanning.web.server-banner"
Y = "scanning.web.cookie-flags"
NOW = datetime.now(UTC).replace(microsecond=0)


def f(loc: str, check: str = X) -> Finding:
    return Finding(check, Severity.LOW, f"problem at {loc}", f"http://127.0.0.1:18080/{loc}")


@contextmanager
def clock(monkeypatch: pytest.MonkeyPatch, days_ago: float) -> Iterator[datetime]:
    at = NOW - timedelta(days=days_ago)
    with monkeypatch.context() as m:
        m.setattr(repo, "utcnow", lambda: at)
        yield at


def run_at(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, days_ago: float, *results: CheckRun
) -> int:
    with clock(monkeypatch, days_ago) as at:
        rid = repo.begin_run(db, ["demo"], "")
        with db.begin() as s:
            run = s.get(RunRecord, rid)
            assert run is not None
            run.started_at = at
        for r in results:
            repo.record_check(db, rid, r)
        repo.finish_run(db, rid)
    return rid


def ok(check: str, *locs: str) -> CheckRun:
    return CheckRun(check, "demo", Outcome.OK, [f(loc, check) for loc in locs])


def by_location(db: sessionmaker[Session]) -> dict[str, FindingRecord]:
    with db() as s:
        return {r.location.rsplit("/", 1)[1]: r for r in s.scalars(select(FindingRecord))}


def count(db: sessionmaker[Session], model: type, **where: object) -> int:
    with db() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(s.scalar(q) or 0)


def history(db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Runs 60, 50, 40 days old and one of today; see the test for what each holds."""
    runs = {
        "r1": run_at(db, monkeypatch, 60, ok(X, "a", "b", "c", "d"), ok(Y, "e")),
        "r2": run_at(db, monkeypatch, 50, ok(X, "a", "f")),
        "r3": run_at(db, monkeypatch, 40, ok(X, "a", "f")),
        "r4": run_at(db, monkeypatch, 1, ok(X, "a", "f")),
    }
    fp = by_location(db)
    repo.set_triage(db, "demo", fp["c"].fingerprint, Triage.FALSE_POSITIVE, "a test page", "tester")
    with db.begin() as s:  # finding d is part of an incident: it must outlive retention
        inc = Incident(store="demo", title="t", scenario="web-skimming", severity="high")
        s.add(inc)
        s.flush()
        s.add(IncidentFinding(incident_id=inc.id, finding_id=fp["d"].id))
        s.add(ClusterTask(task_id="t-r3", run_id=runs["r3"], kind="audit", status="finished"))
        s.add(ClusterTask(task_id="t-r4", run_id=runs["r4"], kind="audit", status="finished"))
    with db.begin() as s:  # crashed long ago, still "running"
        stale = RunRecord(kind="audit", status="running", started_at=NOW - timedelta(days=70))
        s.add(stale)
        s.flush()
        runs["stale"] = stale.id
    return runs


def test_prune_keeps_open_triaged_and_linked_findings_and_their_lifecycle(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = history(db, monkeypatch)
    before = by_location(db)
    assert {k: v.status for k, v in before.items()} == {
        "a": "open", "b": "resolved", "c": "resolved", "d": "resolved", "e": "new", "f": "open",
    }  # fmt: skip

    result = prune_runs(db, 30, batch=1)  # batch 1: every loop runs more than once

    after = by_location(db)
    # b: resolved 50 days ago, untriaged, in no incident: gone. c (triaged), d (incident),
    # and a, e, f (still open or new) stay, unchanged.
    assert sorted(after) == ["a", "c", "d", "e", "f"]
    assert result.findings == 1
    for k in after:
        assert (after[k].status, after[k].triage) == (before[k].status, before[k].triage)
    # r2 and r3 go; r1 stays as the last run of e, c and d; r4 is recent; a crashed run
    # still marked running is never touched.
    with db() as s:
        left = set(s.scalars(select(RunRecord.id)))
    assert left == {runs["r1"], runs["r4"], runs["stale"]}
    assert result.runs == 2
    for rid in (runs["r2"], runs["r3"]):
        assert count(db, CheckExecution, run_id=rid) == 0
        assert count(db, RunFinding, run_id=rid) == 0
    assert count(db, CheckExecution, run_id=runs["r1"]) == 2
    assert count(db, RunFinding, run_id=runs["r1"]) == 4  # a, c, d, e (b is gone)
    with db() as s:
        assert set(s.scalars(select(ClusterTask.task_id))) == {"t-r4"}
        assert s.scalar(select(func.count()).select_from(IncidentFinding)) == 1
    assert after["f"].first_run_id is None  # first seen in r2, which is gone
    assert after["a"].first_run_id == runs["r1"]
    assert result.rows["check_executions"] == 2 and result.rows["cluster_tasks"] == 1

    # The lifecycle goes on as if nothing was pruned: a and f are "open", not "new";
    # b, pruned, is seen anew; e (its check did not run) stays new; c stays triaged.
    r5 = run_at(db, monkeypatch, 0, ok(X, "a", "b", "f"))
    seen = {sf.finding.location.rsplit("/", 1)[1]: sf.status.value for sf in repo.load_run(db, r5).findings}
    assert seen == {"a": "open", "b": "new", "f": "open"}
    final = by_location(db)
    assert final["e"].status == "new"
    assert (final["c"].status, final["c"].triage) == ("resolved", Triage.FALSE_POSITIVE.value)
    # Pruning again right away finds nothing more to delete.
    again = prune_runs(db, 30)
    assert (again.runs, again.findings) == (0, 0)


def test_prune_refuses_a_non_positive_age(db: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="keep_days must be positive"):
        prune_runs(db, 0)


def test_cli_runs_prune(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(f'database_url = "{sqlite_url}"\n[storage]\nkeep_runs_days = 45\n')
    db = open_database(sqlite_url)
    runs = history(db, monkeypatch)
    runner = CliRunner()
    res = runner.invoke(app, ["runs", "prune", "--config", str(cfg)])  # 45 days from the config
    assert res.exit_code == 0, res.output
    assert "pruned 1 run(s) and 1 resolved finding(s) older than" in res.output
    res = runner.invoke(app, ["runs", "prune", "--config", str(cfg), "--keep-days", "30", "--json"])
    assert res.exit_code == 0, res.output
    assert '"runs": 1' in res.output
    with db() as s:
        assert set(s.scalars(select(RunRecord.id))) == {runs["r1"], runs["r4"], runs["stale"]}
    db.kw["bind"].dispose()

    (tmp_path / "none.toml").write_text(f'database_url = "{sqlite_url}"\n')
    res = runner.invoke(app, ["runs", "prune", "--config", str(tmp_path / "none.toml")])
    assert res.exit_code != 0
    assert "--keep-days: required (or set [storage] keep_runs_days" in res.output
    res = runner.invoke(app, ["runs", "prune", "--config", str(cfg), "--keep-days", "-1"])
    assert res.exit_code != 0 and "expected a positive number of days" in res.output
    (tmp_path / "bad.toml").write_text("[storage]\nkeep_runs_days = 0\n")
    res = runner.invoke(app, ["runs", "prune", "--config", str(tmp_path / "bad.toml")])
    assert res.exit_code != 0 and "storage.keep_runs_days" in res.output
