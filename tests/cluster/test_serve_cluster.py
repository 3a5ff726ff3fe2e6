"""``shopguard serve`` with ``[cluster]``: it opens the cluster's PostgreSQL (where the
workers write), and an audit enqueued with its config (what the dashboard's "start a
run" action does through shopguard.cluster.enqueue_audit) is run by the workers and
shows up in the database the dashboard reads."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import text

from shopguard.cli.common import database_url, open_db
from shopguard.cluster import cluster_enabled, enqueue_audit, wait_for_runs
from shopguard.cluster.urls import resolve
from shopguard.db.repository import load_run

from .conftest import FETCH, Fleet

pytestmark = pytest.mark.postgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_uses_the_cluster_database_and_its_config_enqueues(fleet: Fleet) -> None:
    cfg = fleet.config
    assert cluster_enabled(cfg)
    # The dashboard and the CLI read where the workers write.
    assert database_url(None, cfg) == resolve(cfg).database
    port = free_port()
    env = dict(fleet.env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopguard", "serve", "--config", str(fleet.config_path), "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "shopguard serve never answered"
                time.sleep(0.3)
        assert r.status_code == 200
        # serve migrated the dashboard's tables into the cluster's PostgreSQL.
        with fleet.db() as s:
            query = text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            tables = set(s.execute(query).scalars())
        assert {"web_users", "cluster_tasks", "runs"} <= tables

        (task,) = enqueue_audit(cfg, cfg.store("shop1"), [FETCH])  # the dashboard's action
        (result,) = wait_for_runs(cfg, [task.task_id], timeout=60)
        assert result["status"] == "finished"
        dashboard_db = open_db(None, cfg)  # what serve opened
        try:
            run = load_run(dashboard_db, int(str(result["run_id"])))
        finally:
            dashboard_db.kw["bind"].dispose()
        assert run.status == "finished" and run.stores == ("shop1",)
        assert [(e[0], e[1], e[2]) for e in run.executions] == [("shop1", FETCH, "ok")]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
