"""The scheduler publishes each due slot once, and keeps a slot the broker refused."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from redis import Redis

from shopguard.cluster.app import BrokerUnavailable, make_app
from shopguard.cluster.scheduler import tick
from shopguard.cluster.status import queue_depths
from shopguard.config import load_config

from .conftest import _delete_queues, cluster_toml


def test_each_slot_is_published_once_and_a_refused_slot_is_kept(tmp_path: Path) -> None:
    prefix = f"sgt-{uuid.uuid4().hex[:10]}"
    text = cluster_toml("postgresql://postgres@127.0.0.1:5432/unused", prefix)
    text += '[[cluster.schedule]]\nselectors = ["scanning.test-cluster.fetch"]\nevery_minutes = 60\n'
    text += '[[cluster.schedule]]\nselectors = ["scanning.test-cluster.fetch"]\nevery_minutes = 5\n'
    text += 'kind = "monitor"\n'
    for i in range(3):
        text += f'[[stores]]\nname = "s{i}"\nstorefront_url = "http://127.0.0.1:9/{i}"\n'
    (tmp_path / "good.toml").write_text(text)
    (tmp_path / "down.toml").write_text(text.replace("127.0.0.1:5672", "127.0.0.1:9"))
    good = load_config(tmp_path / "good.toml")
    down = load_config(tmp_path / "down.toml")
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    said: list[str] = []
    now = time.time() // 3600 * 3600 + 10  # the next 5-minute slot stays in the same hour
    try:
        with pytest.raises(BrokerUnavailable, match="cannot reach the Celery broker"):
            tick(down, make_app(down), redis, now, said.append)
        assert any("retry 1 in" in line for line in said)
        app = make_app(good)
        first = tick(good, app, redis, now, said.append)
        # 3 audit tasks (one per store) + 1 monitor batch; the refused slot was not lost.
        assert sorted(t.queue for t in first) == [f"{prefix}.default"] * 3 + [f"{prefix}.monitor"]
        assert tick(good, app, redis, now + 1, said.append) == []  # same slots: nothing again
        depths = queue_depths(app, (f"{prefix}.default", f"{prefix}.monitor"))
        assert depths == {f"{prefix}.default": 3, f"{prefix}.monitor": 1}
        later = tick(good, app, redis, now + 5 * 60, said.append)  # the next monitor slot
        assert [t.queue for t in later] == [f"{prefix}.monitor"]
    finally:
        _delete_queues(good)
        for key in redis.scan_iter(f"{prefix}:*"):
            redis.delete(key)
        redis.close()


def test_the_scheduler_prunes_old_runs_once_per_period(tmp_path: Path, postgres_url: str) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from shopguard.cluster.scheduler import maybe_prune
    from shopguard.db import open_database
    from shopguard.db.base import utcnow
    from shopguard.db.models import RunRecord

    prefix = f"sgt-{uuid.uuid4().hex[:10]}"
    text = cluster_toml(postgres_url, prefix) + "[storage]\nkeep_runs_days = 30\nprune_every_hours = 1\n"
    (tmp_path / "keep.toml").write_text(text)
    (tmp_path / "all.toml").write_text(cluster_toml(postgres_url, prefix))
    config = load_config(tmp_path / "keep.toml")
    db = open_database(postgres_url)
    with db.begin() as s:
        for days in (40, 35, 1):
            at = utcnow() - timedelta(days=days)
            s.add(RunRecord(kind="audit", status="finished", started_at=at, finished_at=at))
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    said: list[str] = []
    now = time.time()
    try:
        assert maybe_prune(load_config(tmp_path / "all.toml"), redis, now, said.append) is None  # not asked
        got = maybe_prune(config, redis, now, said.append)
        assert got is not None and got.runs == 2
        assert said == ["pruned 2 run(s) and 0 resolved finding(s) older than 30 days"]
        assert maybe_prune(config, redis, now + 60, said.append) is None  # this hour's prune is done
        with db() as s:
            assert len(list(s.scalars(select(RunRecord.id)))) == 1
    finally:
        for key in redis.scan_iter(f"{prefix}:*"):
            redis.delete(key)
        redis.close()
        db.kw["bind"].dispose()
