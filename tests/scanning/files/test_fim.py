"""File integrity monitoring: baseline, fast check, paranoid check, tamper
detection, accept with who and why, atomic replacement."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.scanning.files import fim

runner = CliRunner()


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "www"
    (root / "checkout").mkdir(parents=True)
    (root / "media").mkdir()
    (root / "checkout" / "pay.php").write_text("<?php echo 'pay';\n")
    (root / "index.php").write_text("<?php require 'app.php';\n")
    (root / "lib.js").write_text("var a = 1;\n")
    (root / "media" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (root / "old.php").write_text("<?php // old\n")
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "shop"\nstorefront_url = "https://shop.example/"\nweb_roots = ["{root}"]\n'
    )
    return root, cfg


def _invoke(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


def _check(cfg: Path, db: str, *extra: str) -> tuple[int, dict[str, dict[str, object]], dict[str, object]]:
    code, out, err = _invoke("fim", "check", "-c", str(cfg), "--db", db, "--format", "json", *extra)
    assert code in (0, 1), err
    findings = json.loads(out)["findings"]
    by_loc = {
        f"{f['check_id'].rsplit('.', 1)[-1]}:{Path(f['location']).name}": f
        for f in findings
        if f["status"] != "resolved" and not f["check_id"].endswith(".summary")
    }
    summary = next(f for f in findings if f["check_id"].endswith(".summary"))
    return code, by_loc, summary["evidence"]


def test_baseline_check_and_accept(shop: tuple[Path, Path], sqlite_url: str) -> None:
    root, cfg = shop
    code, out, err = _invoke("fim", "baseline", "-c", str(cfg))
    assert code == 0, err
    assert "baseline of 5 files (blake3)" in " ".join(out.split())
    key = fim.key_path()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    code, found, summary = _check(cfg, sqlite_url)
    assert (code, found) == (0, {})
    assert summary["rehashed"] == 0 and summary["baseline_files"] == 5  # stat-first fast path

    (root / "checkout" / "pay.php").write_text("<?php echo 'pay'; /* injected */\n")
    (root / "new.php").write_text("<?php // who put me here\n")
    (root / "old.php").unlink()
    (root / "lib.js").chmod(0o666)
    os.utime(root / "index.php")  # touched, same content: not a change
    code, found, summary = _check(cfg, sqlite_url)
    assert code == 1
    assert {k: v["severity"] for k, v in found.items()} == {
        "changed:pay.php": "high",
        "added:new.php": "medium",
        "removed:old.php": "low",
        "permissions:lib.js": "high",
    }
    assert found["changed:pay.php"]["refs"]["pci"] == ["11.5.2"]
    assert summary["rehashed"] == 4

    code, out, err = _invoke("fim", "accept", "-c", str(cfg), "--reason", "deploy 2.4.1", "--by", "alice",
                             str(root / "checkout"))  # fmt: skip
    assert code == 0, err
    assert "accepted 1 changed" in out
    _, found, _ = _check(cfg, sqlite_url)
    assert "changed:pay.php" not in found and "added:new.php" in found

    code, out, _ = _invoke("fim", "accept", "-c", str(cfg), "--reason", "cleanup reviewed")
    assert code == 0
    code, found, summary = _check(cfg, sqlite_url)
    assert (code, found) == (0, {})
    history = fim.load("shop").history
    assert (history[0]["by"], history[0]["reason"]) == ("alice", "deploy 2.4.1")
    assert summary["last_accept"]["reason"] == "cleanup reviewed"


def test_paranoid_rehashes_everything_and_finds_a_metadata_preserving_edit(
    shop: tuple[Path, Path], sqlite_url: str
) -> None:
    root, cfg = shop
    assert _invoke("fim", "baseline", "-c", str(cfg))[0] == 0
    target = root / "index.php"
    st = target.stat()
    target.write_text("<?php require 'evil.php';\n"[: st.st_size].ljust(st.st_size))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime; ctime moves
    _, found, _ = _check(cfg, sqlite_url)
    assert "changed:index.php" in found
    _, found, summary = _check(cfg, sqlite_url, "--paranoid")
    assert "changed:index.php" in found and summary["rehashed"] == 5


def test_edited_baseline_is_detected_and_key_permissions_enforced(
    shop: tuple[Path, Path], sqlite_url: str
) -> None:
    _, cfg = shop
    assert _invoke("fim", "baseline", "-c", str(cfg))[0] == 0
    path = fim.baseline_path("shop")
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"pay.php", b"pay.PHP", 1))
    code, out, _ = _invoke("fim", "check", "-c", str(cfg), "--db", sqlite_url, "--format", "json")
    assert code == 1
    (tampered,) = [f for f in json.loads(out)["findings"] if f["check_id"].endswith(".tampered")]
    assert tampered["severity"] == "critical"

    fim.key_path().chmod(0o644)
    with pytest.raises(fim.BaselineError, match="chmod 600"):
        fim.load("shop")


def test_baseline_is_not_replaced_without_force_and_no_baseline_is_a_finding(
    shop: tuple[Path, Path], sqlite_url: str
) -> None:
    _, cfg = shop
    code, out, _ = _invoke("fim", "check", "-c", str(cfg), "--db", sqlite_url, "--format", "json")
    (missing,) = [f for f in json.loads(out)["findings"] if f["check_id"].endswith(".no-baseline")]
    assert missing["severity"] == "medium" and code == 0
    assert _invoke("fim", "baseline", "-c", str(cfg))[0] == 0
    code, _, err = _invoke("fim", "baseline", "-c", str(cfg))
    assert code == 2 and "--force" in err
    assert _invoke("fim", "baseline", "-c", str(cfg), "--force", "--hash", "sha256")[0] == 0
    assert fim.load("shop").algorithm == "sha256"


def test_killed_baseline_never_replaces_the_good_one(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    (root / "a.php").write_text("<?php echo 1;\n")
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "big"\nstorefront_url = "https://shop.example/"\nweb_roots = ["{root}"]\n'
    )
    assert _invoke("fim", "baseline", "-c", str(cfg))[0] == 0
    good = fim.baseline_path("big").read_bytes()
    for i in range(40):  # enough to hash for a while
        with open(root / f"dump{i:02d}.sql", "wb") as f:
            f.truncate(64 * 1024 * 1024)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopguard", "fim", "baseline", "-c", str(cfg), "--force", "--hash", "sha256"],
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(1.5)
    assert proc.poll() is None, "the baseline finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert fim.baseline_path("big").read_bytes() == good
    assert fim.load("big").count == 1
    for p in root.glob("dump*.sql"):
        p.unlink()
    (root / "b.php").write_text("<?php echo 2;\n")
    assert _invoke("fim", "baseline", "-c", str(cfg), "--force")[0] == 0  # the next run works
    assert fim.load("big").count == 2
    assert list(fim.baseline_path("big").parent.glob("*.tmp")) == []
