"""Maintenance windows planned at run time (the dashboard's) reach a running daemon, and the
daemon runs in a thread of another process (``shopguard serve``) and stops cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sgmon_support import make_config, wait_until
from sqlalchemy import func, select

from shopguard.db.base import utcnow
from shopguard.monitoring import planned
from shopguard.monitoring.background import DaemonThread
from shopguard.monitoring.engine import Daemon
from shopguard.monitoring.models import MonitorResultRecord


def _count(db, maintenance: bool, after=None) -> int:
    q = (
        select(func.count())
        .select_from(MonitorResultRecord)
        .where(MonitorResultRecord.maintenance.is_(maintenance))
    )
    if after is not None:
        q = q.where(MonitorResultRecord.at > after)
    with db() as s:
        return int(s.scalar(q) or 0)


def test_a_window_planned_and_ended_while_the_daemon_runs_takes_effect(target, db):
    cfg = make_config(target.url, [{"kind": "http", "name": "front", "url": target.url, "interval_s": 0.2}])
    with db.begin() as s:
        rec = planned.plan(
            s, "shop", utcnow() - timedelta(minutes=1), utcnow() + timedelta(hours=1), "Woo update", "a@b"
        )
        wid = rec.id
    bg = DaemonThread(Daemon(cfg, db, flush_interval=0.1, downsample_every_s=0.2))
    bg.start()
    try:
        m = bg.daemon.monitors["shop/front"]
        assert bg.daemon.suppression(m, bg.daemon.now()) == "maintenance: Woo update"
        wait_until(lambda: _count(db, True) >= 2)
        with db.begin() as s:
            planned.end(s, wid, "a@b")
        ended = utcnow()
        wait_until(lambda: bg.daemon.suppression(m, bg.daemon.now()) == "", timeout=5)
        wait_until(lambda: _count(db, False, ended) >= 2)
        # A window for only another monitor of the store does not cover this one.
        with db.begin() as s:
            planned.plan(s, "shop", utcnow(), utcnow() + timedelta(hours=1), "db work", "a@b", ["db"])
        bg.daemon.load_planned()
        assert bg.daemon.suppression(m, bg.daemon.now()) == ""
    finally:
        assert bg.stop(20)
    assert bg.error is None and not bg.alive


def test_stopping_the_thread_writes_what_was_queued(target, db):
    cfg = make_config(target.url, [{"kind": "http", "name": "front", "url": target.url, "interval_s": 30}])
    bg = DaemonThread(Daemon(cfg, db, flush_interval=60))  # no periodic flush before stop
    bg.start()
    wait_until(lambda: bg.daemon.checks_done >= 1)
    assert bg.stop(20)
    assert _count(db, False) >= 1


def test_plan_refuses_bad_windows(db):
    now = utcnow()
    with db.begin() as s:
        with pytest.raises(planned.WindowError, match="end: is already in the past"):
            planned.plan(s, "shop", now - timedelta(hours=2), now - timedelta(hours=1), "x", "a@b")
        with pytest.raises(planned.WindowError, match="at most 31 days"):
            planned.plan(s, "shop", now, now + timedelta(days=40), "x", "a@b")
        with pytest.raises(planned.WindowError, match="no monitor named dbb"):
            planned.plan(s, "shop", now, now + timedelta(hours=1), "x", "a@b", ["dbb"], ["db", "front"])
        with pytest.raises(planned.WindowError, match="no maintenance window 99"):
            planned.end(s, 99, "a@b")
        later = planned.plan(s, "shop", now + timedelta(hours=1), now + timedelta(hours=2), "x", "a@b")
        planned.end(s, later.id, "a@b")  # not begun yet: cancelled (it ends at its start)
        assert later.end_at == later.start_at and later.ended_by == "a@b"
        assert [w.id for w in planned.listed(s, ["shop"])] == [later.id]
        assert planned.listed(s, ["other"]) == []
