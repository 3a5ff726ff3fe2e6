"""`shopguard monitor` applies ``[storage] keep_runs_days`` in its housekeeping."""

from __future__ import annotations

from datetime import timedelta

from sgmon_support import Running, make_config, wait_until
from sqlalchemy import select

from shopguard.config import StorageSettings
from shopguard.db.base import utcnow
from shopguard.db.models import RunRecord
from shopguard.monitoring.engine import Daemon


def _run_ids(db):
    with db() as s:
        return set(s.scalars(select(RunRecord.id)))


def test_the_monitor_daemon_prunes_old_runs(target, db):
    base = make_config(target.url, [{"kind": "http", "name": "front", "url": target.url, "interval_s": 1}])
    with db.begin() as s:
        for days in (40, 2):
            at = utcnow() - timedelta(days=days)
            s.add(RunRecord(kind="audit", status="finished", started_at=at, finished_at=at))
    old, recent = sorted(_run_ids(db))
    cfg = base.model_copy(update={"storage": StorageSettings(keep_runs_days=30)})
    run = Running(Daemon(cfg, db, flush_interval=0.1, downsample_every_s=0.2))
    try:
        wait_until(lambda: old not in _run_ids(db), timeout=20)
    finally:
        run.stop()
    assert _run_ids(db) == {recent}
