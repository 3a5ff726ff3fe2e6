"""The file scan end to end: `shopguard audit` finds a planted skimmer in a shop's
web root; Ctrl-C and kill -9 in the middle of `scan files` leave a usable database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "files"


def _shop(tmp_path: Path) -> Path:
    """A small shop tree: WordPress-like clean files plus the planted skimmer."""
    root = tmp_path / "shop" / "public"
    shutil.copytree("/usr/share/wordpress/wp-includes/js/jquery", root / "js" / "jquery")
    shutil.copytree(DATA / "clean", root / "lib")
    shutil.copy(DATA / "malicious" / "js" / "checkout-helper.js", root / "js" / "checkout-helper.js")
    return root


def _config(tmp_path: Path, root: Path, extra: str = "") -> Path:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "demo"\nstorefront_url = "https://shop.example/"\n'
        f'web_roots = ["{root}"]\n{extra}'
    )
    return cfg


def _cli(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopguard", *args], capture_output=True, text=True, timeout=120, **kw
    )  # type: ignore[call-overload, no-any-return]


def test_audit_finds_the_planted_skimmer_and_nothing_else(tmp_path: Path) -> None:
    root = _shop(tmp_path)
    cfg = _config(tmp_path, root)
    db = f"sqlite:///{tmp_path / 'sg.db'}"
    res = _cli("audit", "--config", str(cfg), "--only", "scanning.files", "--format", "json", "--db", db)
    assert res.returncode == 1, res.stderr
    report = json.loads(res.stdout)
    flagged = [
        f
        for f in report["findings"]
        if f["check_id"] == "scanning.files.malware" and f["severity"] not in ("low", "info")
    ]
    assert [(f["location"], f["severity"]) for f in flagged] == [
        (str(root / "js" / "checkout-helper.js"), "critical")
    ]


def _runs(db: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("select id, status from runs order by id"))


def _big_tree(tmp_path: Path) -> tuple[Path, Path]:
    """Forty sparse 64 MB files: slow enough to interrupt, cheap to create."""
    root = tmp_path / "big"
    root.mkdir()
    for i in range(40):
        with open(root / f"dump{i:02d}.sql", "wb") as f:
            f.truncate(64 * 1024 * 1024)
    shutil.copy(DATA / "malicious" / "php" / "eval_post_oneliner.php", root / "zz.php")
    cfg = _config(tmp_path, root, "[stores.files]\nmax_file_mb = 64\n")
    return root, cfg


def _start(cfg: Path, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shopguard", "scan", "files", "--config", str(cfg), "--db", f"sqlite:///{db}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def _wait_running(db: Path, runs_before: int = 0) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, "the scan never started"
        if db.exists():
            try:
                if len(_runs(db)) > runs_before:
                    break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    time.sleep(0.5)


def test_ctrl_c_and_kill_9_leave_the_database_usable(tmp_path: Path) -> None:
    _, cfg = _big_tree(tmp_path)
    db = tmp_path / "sg.db"

    proc = _start(cfg, db)
    _wait_running(db)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _runs(db) == [(1, "interrupted")]

    proc = _start(cfg, db)
    _wait_running(db, runs_before=1)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its scan workers
    proc.communicate(timeout=30)
    assert _runs(db)[-1] == (2, "running")

    quick = _config(tmp_path, tmp_path / "big", "[stores.files]\nmax_file_mb = 1\n")  # same store, fast
    res = _cli("scan", "files", "--config", str(quick), "--db", f"sqlite:///{db}", "--format", "json")
    assert res.returncode == 1, res.stderr
    assert _runs(db) == [(1, "interrupted"), (2, "interrupted"), (3, "finished")]
    locations = [f["location"] for f in json.loads(res.stdout)["findings"] if f["severity"] == "critical"]
    assert [Path(p).name for p in locations] == ["zz.php"]


def test_demo_shop_skimmer_is_the_only_file_finding(tmp_path: Path) -> None:
    """The demo shop's web root: its planted skimmer is found, nothing else above low."""
    demo_cfg = Path(__file__).resolve().parents[2] / "demo" / "shopguard.toml"
    db = f"sqlite:///{tmp_path / 'sg.db'}"
    res = _cli(
        "audit", "--config", str(demo_cfg), "--only", "scanning.files.malware", "--format", "json", "--db", db
    )
    assert res.returncode == 1, res.stderr
    findings = json.loads(res.stdout)["findings"]
    flagged = [
        (Path(f["location"]).name, f["severity"], f["evidence"]["confidence"])
        for f in findings
        if f["check_id"] == "scanning.files.malware" and f["severity"] not in ("low", "info")
    ]
    assert flagged == [("checkout-helper.js", "critical", "high")]
