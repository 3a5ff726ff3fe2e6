"""PostgreSQL goes down and comes back while two workers run audits: the tasks retry
with back-off and every run still completes exactly once, with no lost or duplicated
findings and no half-written run.

The outage is made on a private PostgreSQL server (initdb in a temp folder, own port):
stopping the machine's shared server would break other test runs using it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopguard.cluster import enqueue_audit, wait_for_runs
from shopguard.cluster.models import ClusterTask
from shopguard.config import load_config
from shopguard.db import open_database
from shopguard.db.models import CheckExecution, FindingRecord, RunFinding, RunRecord
from shopguard.db.repository import load_run

from .conftest import FETCH, PLUGINS, CountingServer, Worker, _delete_queues, _store, cluster_toml
from .privatepg import PrivatePostgres

pytestmark = pytest.mark.postgres
N_STORES = 16


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


def test_postgres_restart_mid_run_every_audit_completes_exactly_once(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    db_url = private_pg.create_db("shopguard")
    prefix = f"sgt-{uuid.uuid4().hex[:10]}"
    counter = CountingServer(delay=0.5)
    threading.Thread(target=counter.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    text = cluster_toml(db_url, prefix)
    for i in range(N_STORES):
        root = tmp_path / "roots" / f"s{i}"
        root.mkdir(parents=True)
        text += _store(f"s{i}", f"{counter.url}store{i}/", root)
    cfg_path = tmp_path / "shopguard.toml"
    cfg_path.write_text(text)
    config = load_config(cfg_path)
    db = open_database(db_url)
    env = dict(os.environ, SHOPGUARD_PLUGINS="sg_cluster_plugin", PYTHONPATH=PLUGINS)
    env.pop("SHOPGUARD_DB", None)
    workers = [
        Worker(f"w{i}", [sys.executable, "-m", "shopguard", "worker", "--config", str(cfg_path), "-C", "2",
                         "--name", f"w{i}-{prefix}@%h", "--loglevel", "INFO"], env, tmp_path / f"w{i}.log")
        for i in (1, 2)
    ]  # fmt: skip
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.wait_ready()
        tasks = enqueue_audit(config, config.stores, [FETCH])
        assert len(tasks) == N_STORES
        deadline = time.monotonic() + 60
        while counter.total < 2:  # the workers are mid-run: requests are being answered
            assert time.monotonic() < deadline, "the audits never started"
            time.sleep(0.05)
        with db() as s:
            done = select(func.count()).select_from(ClusterTask).where(ClusterTask.status == "finished")
            before = s.scalar(done)
        try:
            private_pg.stop("fast")  # every connection is cut; new ones are refused
            time.sleep(2.0)
        finally:
            private_pg.start()
        results = wait_for_runs(config, [t.task_id for t in tasks], timeout=120)

        assert before is not None and before < N_STORES, "the outage came after every audit had finished"
        assert [r["status"] for r in results] == ["finished"] * N_STORES
        run_ids = [int(str(r["run_id"])) for r in results]
        assert len(set(run_ids)) == N_STORES
        logs = "".join(w.log.read_text() for w in workers)
        assert "will retry" in logs, "no task met the outage: the test proved nothing"
        with db() as s:
            rows = list(s.scalars(select(ClusterTask)))
            assert len(rows) == N_STORES and {r.status for r in rows} == {"finished"}
            assert {r.run_id for r in rows} == set(run_ids)
            # Exactly one run per task and nothing half-written: one finished run per store
            # with one check execution each; no run left behind by a failed attempt.
            assert s.scalar(select(func.count()).select_from(RunRecord)) == N_STORES
            assert set(s.scalars(select(RunRecord.status))) == {"finished"}
            execs = s.execute(select(CheckExecution.run_id, CheckExecution.outcome)).all()
            assert sorted(r for r, _ in execs) == sorted(run_ids)
            assert {o for _, o in execs} == {"ok"}
            # Findings: the same four per store (status answer and three missing headers),
            # each stored once and linked once to its store's run.
            per_store = dict(
                s.execute(select(FindingRecord.store, func.count()).group_by(FindingRecord.store)).all()
            )
            assert per_store == {f"s{i}": 4 for i in range(N_STORES)}
            assert s.scalar(select(func.count()).select_from(RunFinding)) == 4 * N_STORES
        for rid in run_ids:
            run = load_run(db, rid)
            assert len(run.findings) == 4
            assert {sf.status.value for sf in run.findings} == {"new"}
    finally:
        for w in workers:
            w.stop()
        if not private_pg.running():
            private_pg.start()
        counter.shutdown()
        counter.server_close()
        _delete_queues(config)
        db.kw["bind"].dispose()
