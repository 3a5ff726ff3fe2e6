"""Two real worker processes run audits of demo shops through RabbitMQ, Redis and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopguard.audit import run_audit
from shopguard.cluster import enqueue_audit, enqueue_monitors, wait_for_runs
from shopguard.cluster.models import ClusterTask
from shopguard.cluster.settings import TASK_SCHEMA
from shopguard.db import open_database
from shopguard.db.models import CheckExecution, FindingRecord, RunFinding, RunRecord
from shopguard.db.repository import StoredRun, load_run

from .conftest import FETCH, HOST_LIMIT, N_HOST_STORES, Fleet

pytestmark = pytest.mark.postgres


def finding_set(runs: list[StoredRun]) -> set[tuple[str, str, str, str, str]]:
    return {
        (sf.store, sf.finding.fingerprint, sf.finding.severity.value, sf.finding.title, sf.status.value)
        for run in runs
        for sf in run.findings
    }


def wait_marker(root: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        started = list(root.glob("started-*"))
        if started:
            return int(started[0].name.split("-", 1)[1])
        assert time.monotonic() < deadline, "the slow task never started"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _both_workers_alive(fleet: Fleet) -> None:
    """Each test starts with both workers up, even after one that killed a worker failed."""
    for w in fleet.workers:
        if w.proc is None or w.proc.poll() is not None:
            w.start()
            w.wait_ready()


def test_sigkill_mid_task_every_audit_finishes_once_with_in_process_findings(
    fleet: Fleet, tmp_path: Path
) -> None:
    shops = [s for s in fleet.config.stores if s.name.startswith("shop")]
    slow = fleet.roots["shop0"]
    (slow / "slow-seconds").write_text("3")
    tasks = enqueue_audit(fleet.config, shops, [FETCH])
    assert len(tasks) == len(shops)
    pid = wait_marker(slow)
    victim = next(w for w in fleet.workers if w.owns(pid))
    victim.kill9()  # the whole worker: main process and pool, mid-task
    results = wait_for_runs(fleet.config, [t.task_id for t in tasks], timeout=60)
    (slow / "slow-seconds").unlink()

    assert [r["status"] for r in results] == ["finished"] * len(shops)
    run_ids = [int(str(r["run_id"])) for r in results]
    assert len(set(run_ids)) == len(shops)
    with fleet.db() as s:
        rows = {t.task_id: t for t in s.scalars(select(ClusterTask).where(ClusterTask.task_id.in_(
            [t.task_id for t in tasks])))}  # fmt: skip
        # The killed task was delivered twice and still made one run (another task the
        # killed worker had started at that moment may have been redelivered too).
        attempts = {t.store: rows[t.task_id].attempts for t in tasks}
        assert attempts["shop0"] == 2
        assert set(attempts.values()) <= {1, 2}
        runs_of_these = s.scalar(select(func.count()).select_from(RunRecord).where(RunRecord.id.in_(run_ids)))
        assert runs_of_these == len(shops)
        unfinished = select(func.count()).select_from(RunRecord).where(RunRecord.status != "finished")
        assert s.scalar(unfinished) == 0
        # One execution per check and store; no finding stored twice.
        execs = s.execute(
            select(CheckExecution.store, func.count()).where(CheckExecution.run_id.in_(run_ids))
            .group_by(CheckExecution.store)
        ).all()  # fmt: skip
        assert dict(execs) == {s.name: 1 for s in shops}
        dupes = s.execute(
            select(FindingRecord.store, FindingRecord.fingerprint, func.count())
            .group_by(FindingRecord.store, FindingRecord.fingerprint).having(func.count() > 1)
        ).all()  # fmt: skip
        assert dupes == []
    cluster_runs = [load_run(fleet.db, rid) for rid in run_ids]

    # The same audit in-process, embedded mode (no [cluster]), on SQLite.
    embedded = fleet.config.model_copy(update={"cluster": None})
    local_db = open_database(f"sqlite:///{tmp_path / 'embedded.db'}")
    local = run_audit(embedded, shops, local_db, selectors=[FETCH])
    assert finding_set(cluster_runs) == finding_set([local])
    assert len(finding_set([local])) >= 3 * len(shops)  # the demo shop lacks HSTS, CSP ...

    # The killed worker comes back for the next tests.
    victim.start()
    victim.wait_ready()


def test_a_redelivered_finished_task_changes_nothing(fleet: Fleet) -> None:
    from shopguard.cluster.execute import execute
    from shopguard.cluster.payload import TaskPayload

    assert fleet.config.cluster is not None
    with fleet.db() as s:
        done = s.scalars(select(ClusterTask).where(ClusterTask.status == "finished").limit(1)).one()
        before = s.scalar(select(func.count()).select_from(RunFinding))
    payload = TaskPayload.new("audit", done.stores.split(","), (FETCH,), TASK_SCHEMA)
    got = execute(fleet.config, fleet.config.cluster, fleet.db, done.task_id, payload, "q", redis_url=None)
    assert got["status"] == "duplicate" and got["run_id"] == done.run_id
    with fleet.db() as s:
        assert s.scalar(select(func.count()).select_from(RunFinding)) == before


def test_database_connections_dropped_mid_task_leave_no_half_written_run(fleet: Fleet) -> None:
    """PostgreSQL kills every worker connection while a task runs (as a restart would)."""
    import psycopg

    from .conftest import PG_ADMIN_URL

    slow = fleet.roots["shop3"]
    for old in slow.glob("started-*"):
        old.unlink()
    (slow / "slow-seconds").write_text("2")
    (task,) = enqueue_audit(fleet.config, fleet.config.store("shop3"), [FETCH])
    wait_marker(slow)
    dbname = str(fleet.db.kw["bind"].url.database)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    (result,) = wait_for_runs(fleet.config, [task.task_id], timeout=60)
    (slow / "slow-seconds").unlink()
    assert result["status"] == "finished"
    run = load_run(fleet.db, int(str(result["run_id"])))
    assert run.status == "finished" and [(e[0], e[2]) for e in run.executions] == [("shop3", "ok")]
    assert len(run.findings) >= 3


def test_per_host_limit_holds_across_both_workers(fleet: Fleet) -> None:
    stores = [s for s in fleet.config.stores if s.name.startswith("host")]
    served_before = fleet.counter.total
    fleet.counter.peak = 0
    tasks = enqueue_audit(fleet.config, stores, [FETCH])
    results = wait_for_runs(fleet.config, [t.task_id for t in tasks], timeout=60)
    assert [r["status"] for r in results] == ["finished"] * N_HOST_STORES
    assert fleet.counter.total - served_before == N_HOST_STORES
    # Four pool processes could send four requests at once; the fleet-wide limit allows two.
    assert fleet.counter.peak == HOST_LIMIT


def test_monitor_batch_runs_many_stores_in_one_task(fleet: Fleet) -> None:
    shops = [s for s in fleet.config.stores if s.name.startswith("shop")]
    tasks = enqueue_monitors(fleet.config, shops, [FETCH])
    assert len(tasks) == 1  # batch size 50
    (result,) = wait_for_runs(fleet.config, [tasks[0].task_id], timeout=60)
    run = load_run(fleet.db, int(str(result["run_id"])))
    assert run.kind == "monitor" and run.status == "finished"
    assert sorted(e[0] for e in run.executions) == sorted(s.name for s in shops)
    assert {e[2] for e in run.executions} == {"ok"}


def test_poison_task_ends_as_a_check_error_after_its_retries(fleet: Fleet) -> None:
    poison = fleet.config.store("poison")
    tasks = enqueue_audit(fleet.config, poison, ["scanning.test-cluster.crash"])
    (result,) = wait_for_runs(fleet.config, [tasks[0].task_id], timeout=60)
    assert result["status"] == "poisoned"
    run = load_run(fleet.db, int(str(result["run_id"])))
    assert run.status == "failed"
    ((store, check_id, outcome, message),) = run.executions
    assert (store, check_id, outcome) == ("poison", "scanning.test-cluster.crash", "error")
    assert "gave up after 2 deliveries" in message
    for w in fleet.workers:  # the pools replaced their killed processes
        assert w.proc is not None and w.proc.poll() is None


def test_a_worker_refuses_a_task_of_a_newer_schema(fleet: Fleet) -> None:
    shop = fleet.config.store("shop1")
    (task,) = enqueue_audit(fleet.config, shop, [FETCH], schema=TASK_SCHEMA + 1)
    with pytest.raises(Exception, match=rf"task schema {TASK_SCHEMA + 1} is newer than this worker"):
        wait_for_runs(fleet.config, [task.task_id], timeout=30)
    with fleet.db() as s:
        assert s.get(ClusterTask, task.task_id) is None  # the old worker wrote nothing


def cli(fleet: Fleet, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopguard", *args, "--config", str(config or fleet.config_path)],
        capture_output=True, text=True, env=fleet.env, timeout=90,
    )  # fmt: skip


def test_cli_audit_wait_and_cluster_status(fleet: Fleet) -> None:
    out = cli(fleet, "audit", "--store", "shop2", "--only", FETCH, "--wait", "--format", "json", "--fail-on",
              "never")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "enqueued" in out.stderr
    report = json.loads(out.stdout)
    assert "shop2" in json.dumps(report)
    queued = cli(fleet, "audit", "--store", "shop1", "--only", FETCH)  # no --wait: prints the task ids
    assert queued.returncode == 0, queued.stderr
    (entry,) = json.loads(queued.stdout)
    assert entry["store"] == "shop1" and entry["queue"] == f"{fleet.prefix}.default"
    (done,) = wait_for_runs(fleet.config, [entry["task_id"]], timeout=60)
    assert done["status"] == "finished"
    table = cli(fleet, "cluster", "status")
    assert table.returncode == 0, table.stderr
    assert "workers: 2" in table.stdout and f"{fleet.prefix}.heavy: 0 waiting" in table.stdout
    status = cli(fleet, "cluster", "status", "--json")
    assert status.returncode == 0, status.stderr
    st = json.loads(status.stdout)
    names = sorted(name.split("@")[0] for name in st["workers"])
    assert names == [f"w1-{fleet.prefix}", f"w2-{fleet.prefix}"]
    assert set(st["queues"]) == {f"{fleet.prefix}.{q}" for q in ("default", "heavy", "monitor")}
    assert st["tasks_by_status"]["finished"] >= 4
    assert st["tasks_by_status"]["poisoned"] == 1
    assert st["lag_p99_s"] is not None


def test_broker_down_the_cli_retries_with_backoff_then_says_so(fleet: Fleet, tmp_path: Path) -> None:
    bad = tmp_path / "down.toml"
    text = fleet.config_path.read_text().replace("127.0.0.1:5672", "127.0.0.1:9")
    bad.write_text(text)
    start = time.monotonic()
    out = cli(fleet, "audit", "--store", "shop1", "--only", FETCH, config=bad)
    assert out.returncode == 3, out.stderr
    assert "cannot reach the Celery broker at amqp://guest:***@127.0.0.1:9//" in out.stderr
    assert "retry 1 in" in out.stderr and "retry 2 in" in out.stderr
    assert "guest:guest" not in out.stderr  # the password never shows
    assert time.monotonic() - start > 1.0  # it waited between tries


def test_prometheus_exporter_reports_queues_tasks_and_lag(fleet: Fleet) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from shopguard.cluster.app import make_app
    from shopguard.cluster.status import FleetCollector

    assert fleet.config.cluster is not None
    registry = CollectorRegistry()
    registry.register(FleetCollector(make_app(fleet.config), fleet.config.cluster, fleet.db))  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    assert f'shopguard_queue_depth{{queue="{fleet.prefix}.default"}} 0.0' in text
    assert "shopguard_broker_up 1.0" in text
    assert 'shopguard_tasks_total{status="poisoned"} 1.0' in text
    assert "shopguard_task_failures_total 1.0" in text
    lag = next(line for line in text.splitlines() if line.startswith("shopguard_task_lag_p99_seconds "))
    assert 0 <= float(lag.split()[1]) < 30
