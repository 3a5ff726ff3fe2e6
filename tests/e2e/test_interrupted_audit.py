"""Ctrl-C and kill -9 in the middle of `shopguard audit` leave a usable database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PLUGINS = str(Path(__file__).parents[1] / "plugins")


def start_audit(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    root = tmp_path / "www"
    root.mkdir(exist_ok=True)
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "t"\nstorefront_url = "http://127.0.0.1:9/"\nweb_roots = ["{root}"]\n'
    )
    env = dict(os.environ, SHOPGUARD_PLUGINS="sg_test_plugin", PYTHONPATH=PLUGINS)
    return subprocess.Popen(
        [sys.executable, "-m", "shopguard", "audit", "--config", str(cfg), "--only", "response.test-plugin",
         "--db", f"sqlite:///{tmp_path / 'sg.db'}", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def wait_started(tmp_path: Path) -> None:
    marker = tmp_path / "www" / "slow-check-started"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the slow check never started"
        time.sleep(0.05)
    time.sleep(0.3)  # let the quick check's result be committed


def runs(tmp_path: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-c", "import sqlite3,sys,json; c=sqlite3.connect(sys.argv[1]);"
         "print(json.dumps([dict(id=r[0],status=r[1]) for r in c.execute('select id,status from runs')]))",
         str(tmp_path / "sg.db")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return list(json.loads(out.stdout))


def test_ctrl_c_marks_the_run_interrupted(tmp_path: Path) -> None:
    proc = start_audit(tmp_path)
    wait_started(tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert runs(tmp_path) == [{"id": 1, "status": "interrupted"}]


def test_kill_9_then_the_next_run_works(tmp_path: Path) -> None:
    proc = start_audit(tmp_path)
    wait_started(tmp_path)
    proc.kill()
    proc.wait(10)
    (tmp_path / "www" / "slow-check-started").unlink()
    nxt = start_audit(tmp_path, "--timeout", "1", "--format", "json")
    out, err = nxt.communicate(timeout=60)
    assert nxt.returncode == 1, err  # the quick check's high finding
    doc = json.loads(out)
    assert doc["run"]["check_errors"] == 1  # the slow one timed out
    assert [f["status"] for f in doc["findings"]] == ["open"]  # seen in the killed run too
    assert runs(tmp_path) == [{"id": 1, "status": "interrupted"}, {"id": 2, "status": "finished"}]
