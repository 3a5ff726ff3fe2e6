"""Restart safety (kill -9), a locked or vanished database, PostgreSQL storage, downsampling."""

from __future__ import annotations

import os
import select as io_select
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sgmon_support import Running, make_config, wait_until
from sqlalchemy import func, select

from shopguard.db import open_database
from shopguard.monitoring.engine import Daemon
from shopguard.monitoring.models import (
    MonitorAlertRecord,
    MonitorResultRecord,
    MonitorRollupRecord,
    MonitorStateRecord,
)
from shopguard.monitoring.stats import downsample, latency, uptime


def _write_config(path: Path, url: str, smtp_port: int) -> None:
    path.write_text(
        f"""
[[alerts]]
name = "mail"
url = {{ env = "SG_TEST_MAIL_URL" }}
min_severity = "low"

[[stores]]
name = "shop"
storefront_url = "{url}"

[stores.monitors]
use_defaults = false
alerting = {{ confirm = 2, reminder_s = 0 }}

[[stores.monitors.monitors]]
kind = "http"
name = "front"
url = "{url}"
interval_s = 0.2
timeout_s = 1
""",
        encoding="utf-8",
    )


def _start(cfg: Path, dburl: str, smtp_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SG_TEST_MAIL_URL": f"mailto://127.0.0.1:{smtp_port}?from=sg@example.test&to=owner@example.test&mode=insecure",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shopguard",
            "monitor",
            "--config",
            str(cfg),
            "--db",
            dburl,
            "--listen",
            "off",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _wait_ready(proc)
    return proc


def _wait_ready(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Block until the daemon logs that it runs (its signal handlers are in place), so a
    SIGTERM sent afterwards tests the graceful stop, not a half-started interpreter."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = io_select.select([proc.stdout], [], [], 0.5)
        if not ready:
            continue
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"monitor exited before it was ready: {seen.decode(errors='replace')}")
        seen += line
        if b"monitoring " in line and b" monitors" in line:
            return
    raise AssertionError(f"monitor not ready after {timeout} s: {seen.decode(errors='replace')}")


@pytest.mark.e2e
def test_kill_9_neither_repeats_nor_loses_alerts(target, smtp, tmp_path):
    box, port = smtp
    cfg = tmp_path / "shopguard.toml"
    _write_config(cfg, target.url, port)
    dburl = f"sqlite:///{tmp_path / 'sg.db'}"
    db = open_database(dburl)
    proc = _start(cfg, dburl, port)
    try:
        target.stop()
        box.wait_for(lambda m: "DOWN: shop / front" in m, timeout=20)
        wait_until(lambda: _alert_sent(db, "down"), timeout=5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        with db() as s:
            st = s.get(MonitorStateRecord, "shop/front")
            assert st is not None and st.status == "down" and st.announced == "down"
        proc = _start(cfg, dburl, port)
        time.sleep(3)  # several checks, still down: no second alert
        assert len([m for m in box.messages if "DOWN" in m]) == 1
        target.start()
        box.wait_for(lambda m: "RECOVERED: shop / front" in m, timeout=10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        proc = _start(cfg, dburl, port)
        time.sleep(2)
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0, out
    assert [m.splitlines()[0] for m in box.messages] == [
        "Subject: [ShopGuard] DOWN: shop / front",
        "Subject: [ShopGuard] RECOVERED: shop / front",
    ]
    assert "mailto://" not in out  # the channel URL (a secret) is never logged


def _alert_sent(db, event: str) -> bool:
    with db() as s:
        return bool(
            s.scalar(
                select(func.count()).where(
                    MonitorAlertRecord.event == event, MonitorAlertRecord.sent_at.is_not(None)
                )
            )
        )


def test_locked_database_loses_nothing_and_never_blocks_checks(target, tmp_path):
    path = tmp_path / "sg.db"
    db = open_database(f"sqlite:///{path}")
    cfg = make_config(
        target.url,
        [{"kind": "http", "name": f"m{i}", "url": target.url, "interval_s": 0.1} for i in range(5)],
    )
    daemon = Daemon(cfg, db, flush_interval=0.1)
    run = Running(daemon)
    try:
        wait_until(lambda: daemon.checks_done >= 20)
        locker = sqlite3.connect(path, timeout=1)
        locker.execute("BEGIN EXCLUSIVE")
        during = daemon.checks_done
        time.sleep(3.0)
        progressed = daemon.checks_done - during
        buffered = daemon.writer.pending
        locker.rollback()
        locker.close()
        wait_until(lambda: daemon.writer.pending < 10, timeout=15)
    finally:
        run.stop()
    assert progressed >= 100  # 5 monitors x 10/s kept running while the DB was locked
    assert buffered >= 50
    with db() as s:
        stored = s.scalar(select(func.count()).select_from(MonitorResultRecord))
    assert stored == daemon.checks_done
    lat = sorted(daemon.lateness)
    assert lat[int(len(lat) * 0.99)] < 1.0  # the loop never waits for the database


@pytest.mark.postgres
def test_postgres_storage_and_database_gone_for_a_while(target):
    name = "sg_mon_" + uuid.uuid4().hex[:10]
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = open_database(f"postgresql://postgres@127.0.0.1:5432/{name}")
        cfg = make_config(
            target.url, [{"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1}]
        )
        daemon = Daemon(cfg, db, flush_interval=0.1, db_wait_s=0.5)
        run = Running(daemon)
        try:
            wait_until(lambda: daemon.checks_done >= 5)
            # the database goes away: no new connections, existing ones killed
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            wait_until(lambda: daemon.writer.failures >= 1, timeout=10)
            target.stop()  # a state change while the DB is gone
            wait_until(lambda: daemon.monitors["shop/front"].state.status == "down", timeout=5)
            time.sleep(0.5)
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            wait_until(lambda: daemon.writer.pending < 5, timeout=40)
        finally:
            run.stop()
        with db() as s:
            stored = s.scalar(select(func.count()).select_from(MonitorResultRecord))
            st = s.get(MonitorStateRecord, "shop/front")
            alerts = list(s.scalars(select(MonitorAlertRecord)))
        assert stored == daemon.checks_done
        assert st is not None and st.status == "down"
        assert [a.event for a in alerts] == ["down"] and alerts[0].sent_at is not None
        # downsampling on PostgreSQL: everything older than a second rolls up
        time.sleep(1.1)
        removed = downsample(db, {"shop/": 1 / 86400})
        assert removed == stored
        with db() as s:
            rolled = s.scalar(select(func.sum(MonitorRollupRecord.n)))
        assert rolled == stored
        db.kw["bind"].dispose()
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        admin.execute(f'DROP DATABASE "{name}"')
        admin.close()


def test_downsampling_keeps_uptime_and_latency(db):
    now = datetime.now(UTC)
    rows = []
    for h in range(3):  # 3 hours, 10 days ago: 60 checks each, 6 down per hour
        base = now - timedelta(days=10, hours=h)
        for i in range(60):
            rows.append(
                {
                    "key": "shop/front",
                    "at": base + timedelta(seconds=i * 30),
                    "status": "down" if i % 10 == 0 else "up",
                    "latency_ms": float(i),
                    "message": "",
                    "maintenance": False,
                }
            )
    rows.append(
        {
            "key": "shop/front",
            "at": now - timedelta(hours=1),
            "status": "up",
            "latency_ms": 5.0,
            "message": "",
            "maintenance": False,
        }
    )
    with db.begin() as s:
        s.execute(MonitorResultRecord.__table__.insert(), rows)
    before = uptime(db, "shop/front", "30d")
    removed = downsample(db, {"shop/": 7.0}, now=now)
    assert removed == 180
    with db() as s:
        assert s.scalar(select(func.count()).select_from(MonitorResultRecord)) == 1
        rolls = list(s.scalars(select(MonitorRollupRecord)))
    assert sum(r.n for r in rolls) == 180 and sum(r.n_down for r in rolls) == 18
    after = uptime(db, "shop/front", "30d")
    assert (after.up, after.total) == (before.up, before.total) == (163, 181)
    assert uptime(db, "shop/front", "24h").total == 1
    p = latency(db, "shop/front", "30d")
    assert p["p50"] is not None and 20 < p["p50"] < 40
