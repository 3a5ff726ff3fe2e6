"""`shopguard serve` runs the monitoring daemon in the same process (unless --no-monitoring):
a real HTTP monitor of a loopback site is checked and recorded while the dashboard serves,
and both stop together on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select
from tests.e2e.dashboard_harness import free_port
from tests.web.monitoring_support import Site, write_monitor_config

from shopguard.db import open_database
from shopguard.monitoring.models import MonitorResultRecord, MonitorStateRecord


def _serve(tmp_path: Path, cfg: Path, *extra: str) -> tuple[subprocess.Popen[str], str, str]:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    open_database(url).kw["bind"].dispose()  # migrate before the server starts
    port = free_port()
    env = {**os.environ, "SHOPGUARD_HOME": str(tmp_path / "home"), "SHOPGUARD_DB": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopguard", "serve", "--port", str(port), "--config", str(cfg), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"shopguard serve did not start: {proc.communicate()[0]}")


def _results(url: str) -> int:
    db = open_database(url)
    try:
        with db() as s:
            return int(s.scalar(select(func.count()).select_from(MonitorResultRecord)) or 0)
    finally:
        db.kw["bind"].dispose()


def test_serve_records_checks_of_a_real_monitor_and_stops_with_the_server(tmp_path: Path, site: Site) -> None:
    proc, base, url = _serve(tmp_path, write_monitor_config(tmp_path, site.url, 0.5))
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and _results(url) < 3:
            time.sleep(0.2)
        assert _results(url) >= 3 and site.hits >= 3
        assert httpx.get(f"{base}/healthz", timeout=2).text == "ok"  # the dashboard kept serving meanwhile
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, out
    assert "monitoring: 1 monitors in this process" in out
    db = open_database(url)
    with db() as s:
        state = s.get(MonitorStateRecord, "alpha/storefront")
        last = s.scalar(select(MonitorResultRecord).order_by(MonitorResultRecord.id.desc()).limit(1))
    db.kw["bind"].dispose()
    assert state is not None and state.status == "up" and state.target == site.url
    assert last is not None and last.status == "up" and last.latency_ms is not None
    # Stopped: the site sees no more checks.
    hits = site.hits
    time.sleep(1.5)
    assert site.hits == hits


def test_no_monitoring_leaves_the_daemon_out(tmp_path: Path, site: Site) -> None:
    proc, base, url = _serve(tmp_path, write_monitor_config(tmp_path, site.url, 0.5), "--no-monitoring")
    try:
        time.sleep(2.5)  # five check intervals
        assert httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert site.hits == 0 and _results(url) == 0
    assert "monitoring:" not in out
