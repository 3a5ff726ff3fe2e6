"""The cluster commands without a [cluster] section, and the scheduler's --once, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .conftest import PLUGINS, _delete_queues, cluster_toml

STORE = '[[stores]]\nname = "a"\nstorefront_url = "http://127.0.0.1:9/"\n'


def sg(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SHOPGUARD_PLUGINS="sg_cluster_plugin", PYTHONPATH=PLUGINS)
    return subprocess.run([sys.executable, "-m", "shopguard", *args], capture_output=True, text=True,
                          timeout=60, env=env)  # fmt: skip


@pytest.mark.parametrize("command", [["worker"], ["scheduler"], ["cluster", "status"]])
def test_cluster_commands_need_a_cluster_section(tmp_path: Path, command: list[str]) -> None:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(STORE)
    r = sg(*command, "--config", str(cfg))
    assert r.returncode == 2
    assert "no [cluster] section" in r.stderr


def test_scheduler_once_publishes_what_is_due_and_prints_the_task_ids(tmp_path: Path) -> None:
    from shopguard.config import load_config

    prefix = f"sgt-{uuid.uuid4().hex[:10]}"
    cfg = tmp_path / "shopguard.toml"
    schedule = '[[cluster.schedule]]\nselectors = ["scanning.test-cluster.fetch"]\nevery_minutes = 40000\n'
    cfg.write_text(STORE + cluster_toml("postgresql://postgres@127.0.0.1:5432/unused", prefix) + schedule)
    try:
        first = sg("scheduler", "--once", "--config", str(cfg))
        assert first.returncode == 0, first.stderr
        assert len(json.loads(first.stdout)) == 1
        assert "enqueued 1 audit task(s) for scanning.test-cluster.fetch" in first.stderr
        again = sg("scheduler", "--once", "--config", str(cfg))
        assert again.returncode == 0 and json.loads(again.stdout) == []  # same slot: not twice
    finally:
        _delete_queues(load_config(cfg))
        from redis import Redis

        r = Redis.from_url("redis://127.0.0.1:6379/0")
        for key in r.scan_iter(f"{prefix}:*"):
            r.delete(key)
        r.close()
