"""File integrity monitoring: baseline, fast check, paranoid check, tamper
detection, accept with who and why, atomic replacement."""

from __future__ import annotations

import hashlib
import hmac
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


def test_compact_baseline_round_trips_odd_names_and_numbers(tmp_path: Path) -> None:
    """The columnar format keeps names that are not UTF-8 (or hold a newline),
    mtimes before 1970 and every stat field; the fast check sees each change."""
    root = tmp_path / "www"
    root.mkdir()
    odd = os.fsencode(root) + b"/caf\xe9\nname.php"
    with open(odd, "wb") as f:
        f.write(b"<?php echo 1;\n")
    os.utime(odd, ns=(0, -86_400 * 10**9))  # 1969-12-31
    (root / "sub").mkdir()
    (root / "sub" / "a.js").write_text("var a;\n")
    base, _ = fim.build("odd", [root], "sha256")
    fim.save(base)
    loaded = fim.load("odd")
    (files,) = loaded.roots.values()
    assert sorted(files) == sorted(base.roots[str(root)])
    name = os.fsdecode(b"caf\xe9\nname.php")
    assert files[name] == base.roots[str(root)][name]
    assert files[name][fim.MTIME] == -86_400 * 10**9
    assert files[name][fim.HASH] == hashlib.sha256(b"<?php echo 1;\n").hexdigest()
    result = fim.compare(loaded)
    assert (result.changes, result.rehashed, result.unchanged) == ([], 0, 2)
    (root / "sub" / "a.js").write_text("var b;\n")
    (root / "sub" / "b.js").write_text("var c;\n")
    os.unlink(odd)
    kinds = {(c.kind, Path(c.path).name) for c in fim.compare(loaded).changes}
    assert kinds == {("changed", "a.js"), ("added", "b.js"), ("removed", "caf\\xe9\nname.php")}


def test_format_1_baseline_is_still_read_and_verified(tmp_path: Path) -> None:
    """A baseline written before the compact format (one JSON list per file,
    HMAC-SHA256) still loads, and a forged one is still refused."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "a.php").write_text("<?php echo 1;\n")
    st = (root / "a.php").stat()
    digest = hashlib.sha256(b"<?php echo 1;\n").hexdigest()
    entry = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode, st.st_uid, st.st_gid, digest]
    doc = {"format": 1, "store": "v1", "algorithm": "sha256", "created": "2026-01-01T00:00:00+00:00",
           "history": [], "roots": {str(root): {"a.php": entry}}}  # fmt: skip
    payload = json.dumps(doc, separators=(",", ":")).encode()
    key = fim.load_key(create=True)
    path = fim.baseline_path("v1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload + b"\n" + hmac.new(key, payload, hashlib.sha256).hexdigest().encode() + b"\n")
    loaded = fim.load("v1")
    assert loaded.roots[str(root)]["a.php"] == entry
    assert fim.compare(loaded).changes == []
    path.write_bytes(payload.replace(b"sha256", b"blake3", 1) + b"\n" + b"0" * 64 + b"\n")
    with pytest.raises(fim.BaselineTampered):
        fim.load("v1")
