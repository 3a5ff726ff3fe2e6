"""File scan and file integrity of web roots on a remote host, over the hosting protocol's
read-only SSH transport to a real sshd on loopback. The "remote" web root is a folder of this
machine, so the same folder scanned locally must give the same findings."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from sg_sshd import Sshd, own_sshd, sshd, stop
from typer.testing import CliRunner

from shopguard.audit import run_audit
from shopguard.cli.app import app
from shopguard.config import Config
from shopguard.db import open_database
from shopguard.hosting import fetch_remote_files, hash_remote_files, list_remote_tree, open_transport
from shopguard.hosting.transport.interface import CommandNotAllowed, check_allowed
from shopguard.scanning.files import fim

from .conftest import CLEAN, MALICIOUS

__all__ = ["own_sshd", "sshd"]  # the session's loopback sshd (tests/support/sg_sshd.py)

runner = CliRunner()
ODD_NAMES = ["with space.php", "new\nline.js", os.fsdecode(b"caf\xe9-latin1.php")]
"""A space, a newline and a byte that is not UTF-8 (surrogate-escaped, as os.fsdecode gives it)."""


def _config(tmp_path: Path, sshd: Sshd, root: Path, extra: str = "") -> Path:
    """Two stores on the same folder: ``local`` on this machine and ``remote`` over SSH."""
    cfg = tmp_path / "shopguard.toml"
    files = f'[stores.files]\nfim_hash = "sha256"\n{extra}'
    cfg.write_text(
        f'[[stores]]\nname = "local"\nstorefront_url = "https://shop.example/"\nweb_roots = ["{root}"]\n'
        f"{files}\n"
        f'[[stores]]\nname = "remote"\nstorefront_url = "https://shop.example/"\nweb_roots = ["{root}"]\n'
        f'host = "{sshd.url}"\nssh_key = "{sshd.user_key}"\nknown_hosts = "{sshd.known_hosts}"\n{files}'
    )
    return cfg


def _invoke(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


def _findings(out: str, store: str, prefix: str = "") -> dict[tuple[str, str], dict[str, Any]]:
    """Open findings of one store by (check id, location without the ssh:// prefix)."""
    found = {}
    for f in json.loads(out)["findings"]:
        if f["store"] != store or f["status"] == "resolved":
            continue
        where = ", ".join(part.removeprefix(prefix) for part in f["location"].split(", "))
        found[(f["check_id"], where)] = {
            k: f[k] for k in ("severity", "title", "detail", "evidence", "refs", "remediation")
        }
    return found


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    (root / "checkout").mkdir(parents=True)
    (root / "media").mkdir()
    (root / "checkout" / "pay.php").write_text("<?php echo 'pay';\n")
    (root / "index.php").write_text("<?php require 'app.php';\n")
    (root / "lib.js").write_text("var a = 1;\n")
    (root / "media" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (root / "old.php").write_text("<?php // old\n")
    for name in ODD_NAMES:
        (root / "media" / name).write_text(f"// {name!r}\n")
    os.symlink("/etc/passwd", root / "media" / "link")  # not followed, counted as locally
    return root


def test_remote_fim_baseline_and_changes_match_local(tmp_path: Path, sshd: Sshd, shop: Path) -> None:
    cfg = _config(tmp_path, sshd, shop)
    db = f"sqlite:///{tmp_path / 'sg.sqlite'}"
    for store in ("local", "remote"):
        code, out, err = _invoke("fim", "baseline", "-c", str(cfg), "--store", store)
        assert code == 0, err
        assert "baseline of 8 files (sha256)" in " ".join(out.split())
    local, remote = fim.load("local"), fim.load("remote")
    ((lroot, lfiles),) = local.roots.items()
    ((rroot, rfiles),) = remote.roots.items()
    assert (lroot, rroot) == (str(shop), f"{sshd.url}:{shop}")
    # the same format, and every entry (size, mtime_ns, ctime_ns, inode, mode, uid, gid, sha256)
    # equal: the find -printf walk and sha256sum on the host see what os.lstat and hashlib see
    assert {r: lfiles[r] for r in lfiles} == {r: rfiles[r] for r in rfiles}
    assert {f"media/{n}" for n in ODD_NAMES} <= set(rfiles)
    assert rfiles["lib.js"][fim.HASH] == hashlib.sha256(b"var a = 1;\n").hexdigest()

    def check(store: str, *extra: str) -> tuple[int, dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
        code, out, err = _invoke("fim", "check", "-c", str(cfg), "--store", store, "--db", db, "-f", "json",
                                 *extra)  # fmt: skip
        assert code in (0, 1), err
        found = _findings(out, store, f"{sshd.url}:")
        summary = found.pop(("scanning.files.integrity.summary", str(shop)))
        return code, found, summary

    assert check("remote")[:2] == (0, {})
    assert check("remote")[2]["evidence"]["rehashed"] == 0  # unchanged metadata: nothing re-read

    (shop / "checkout" / "pay.php").write_text("<?php echo 'pay'; /* injected */\n")
    (shop / "new.php").write_text("<?php // who put me here\n")
    (shop / "old.php").unlink()
    (shop / "lib.js").chmod(0o666)
    (shop / "media" / ODD_NAMES[1]).write_text("/* changed */\n")
    os.utime(shop / "index.php")  # touched, same content: re-hashed, not a change
    code_l, local_found, local_summary = check("local")
    code_r, remote_found, remote_summary = check("remote")
    assert code_r == code_l == 1
    assert remote_found == local_found
    assert {(k[0].rsplit(".", 1)[-1], v["severity"]) for k, v in remote_found.items()} == {
        ("changed", "high"),
        ("changed", "medium"),
        ("added", "medium"),
        ("removed", "low"),
        ("permissions", "high"),
    }
    assert ("scanning.files.integrity.changed", f"{shop}/media/new\nline.js") in remote_found
    assert remote_summary["evidence"]["rehashed"] == local_summary["evidence"]["rehashed"] == 5
    _, out, _ = _invoke("fim", "check", "-c", str(cfg), "--store", "remote", "--db", db, "-f", "json")
    locations = {f["location"] for f in json.loads(out)["findings"] if f["status"] != "resolved"}
    assert f"{sshd.url}:{shop}/new.php" in locations

    # --paranoid re-hashes every file on the host
    assert check("remote", "--paranoid")[2]["evidence"]["rehashed"] == 8

    # accept the deploy below one remote folder, then all of it
    code, out, err = _invoke("fim", "accept", "-c", str(cfg), "--store", "remote", "--reason", "deploy",
                             "--by", "alice", str(shop / "checkout"))  # fmt: skip
    assert code == 0, err
    assert "accepted 1 changed" in out
    assert ("scanning.files.integrity.changed", f"{shop}/checkout/pay.php") not in check("remote")[1]
    assert _invoke("fim", "accept", "-c", str(cfg), "--store", "remote", "--reason", "reviewed")[0] == 0
    assert check("remote")[:2] == (0, {})
    assert fim.load("remote").history[0]["paths"] == [f"{sshd.url}:{shop}/checkout"]


def _plant(root: Path) -> Path:
    """A web root with defanged samples (tests/data), clean files and odd names."""
    shutil.copytree(MALICIOUS / "js", root / "js")
    shutil.copytree(MALICIOUS / "php", root / "php")
    shutil.copytree(CLEAN, root / "clean")
    skimmer = (MALICIOUS / "js" / "fake_payment_form.js").read_bytes()
    (root / "checkout").mkdir()
    (root / "checkout" / ODD_NAMES[1]).write_bytes(skimmer)
    (root / "checkout" / ODD_NAMES[2]).write_bytes(skimmer)
    # bigger than max_file_mb = 1: cut at 1 MB, reported as such, hashed whole
    (root / "checkout" / "bundle.js").write_bytes(skimmer + b"\n" + b"/* padding */\n" * 100_000)
    return root


def test_remote_scan_finds_the_planted_skimmer_and_equals_the_local_scan(tmp_path: Path, sshd: Sshd) -> None:
    root = _plant(tmp_path / "www")
    cfg = _config(tmp_path, sshd, root, "max_file_mb = 1\n")
    db = f"sqlite:///{tmp_path / 'sg.sqlite'}"
    results = {}
    for store in ("local", "remote"):
        code, out, err = _invoke("scan", "files", "-c", str(cfg), "--store", store, "--db", db, "-f", "json")
        assert code == 1, err
        results[store] = (out, _findings(out, store, f"{sshd.url}:"))
    local, remote = results["local"][1], results["remote"][1]
    assert remote == local
    malware = {loc for check, loc in remote if check == "scanning.files.malware"}
    assert {f"{root}/js/fake_payment_form.js", f"{root}/checkout/{ODD_NAMES[1]}"} <= malware
    shown = os.fsencode(ODD_NAMES[2]).decode("utf-8", "backslashreplace")
    assert f"{root}/checkout/{shown}" in malware
    capped = remote[("scanning.files.malware.capped", f"{root}/checkout/bundle.js")]
    assert (
        capped["evidence"]["sha256"]
        == hashlib.sha256((root / "checkout" / "bundle.js").read_bytes()).hexdigest()
    )
    locations = [f["location"] for f in json.loads(results["remote"][0])["findings"]]
    assert all(loc.startswith(f"{sshd.url}:{root}") for loc in locations)
    summary = remote[("scanning.files.malware.summary", str(root))]
    assert summary["evidence"]["scanned"] > 40


def test_remote_scan_says_what_the_read_limit_left_out(tmp_path: Path, sshd: Sshd) -> None:
    root = tmp_path / "www"
    root.mkdir()
    for n in range(3):
        (root / f"backup{n}.sql").write_bytes(b"-- dump\n" * 80_000)  # 640 KB each
    cfg = _config(tmp_path, sshd, root, "remote_max_mb = 1\n")
    code, out, err = _invoke("scan", "files", "-c", str(cfg), "--store", "remote", "--db",
                             f"sqlite:///{tmp_path / 'sg.sqlite'}", "-f", "json")  # fmt: skip
    assert code == 0, err
    found = _findings(out, "remote", f"{sshd.url}:")
    skipped = found[("scanning.files.malware.not-fetched", str(root))]
    assert skipped["severity"] == "medium"
    assert skipped["evidence"]["count"] == 2
    assert all(p.startswith(f"{sshd.url}:{root}/backup") for p in skipped["evidence"]["paths"])
    assert "read limit of 1 MB" in skipped["detail"]
    summary = found[("scanning.files.malware.summary", str(root))]
    assert summary["evidence"]["scanned"] == 1
    assert "2 files on the remote host were not read" in summary["detail"]

    # given paths on the store's host are scanned there
    (root / "js").mkdir()
    shutil.copy(MALICIOUS / "js" / "eval_atob.js", root / "js")
    db = f"sqlite:///{tmp_path / 'sg.sqlite'}"
    code, out, err = _invoke("scan", "files", "-c", str(cfg), "--store", "remote", "--db", db, "-f", "json",
                             str(root / "js"))  # fmt: skip
    assert code == 1, err
    assert [
        f["location"] for f in json.loads(out)["findings"] if f["check_id"] == "scanning.files.malware"
    ] == [f"{sshd.url}:{root}/js/eval_atob.js"]


def test_audit_covers_remote_roots_and_an_unreachable_host_resolves_nothing(
    tmp_path: Path, own_sshd: Sshd
) -> None:
    own_sshd.trust()
    root = _plant(tmp_path / "www")
    store = own_sshd.store(name="remote", web_roots=[root])
    sessions = open_database(f"sqlite:///{tmp_path / 'sg.sqlite'}")
    assert (
        _invoke("fim", "baseline", "-c", str(_config(tmp_path, own_sshd, root)), "--store", "remote")[0] == 0
    )
    (root / "js" / "added.js").write_bytes((MALICIOUS / "js" / "eval_atob.js").read_bytes())
    cfg = Config(stores=(store,))
    selectors = ["scanning.files.malware", "scanning.files.integrity"]
    run = run_audit(cfg, [store], sessions, selectors=selectors)
    assert {(c, o) for _, c, o, _ in run.executions} == {(c, "ok") for c in selectors}
    found = {(sf.finding.check_id, sf.finding.location) for sf in run.findings}
    where = f"{own_sshd.url}:{root}/js/added.js"
    assert ("scanning.files.integrity.added", where) in found
    assert ("scanning.files.malware", where) in found

    stop(own_sshd.proc)  # the host goes away: the checks fail, nothing is marked fixed
    run2 = run_audit(cfg, [store], sessions, selectors=selectors)
    assert {o for _, _, o, _ in run2.executions} == {"error"}
    assert not any(sf.status.value == "resolved" for sf in run2.findings)


def test_reads_over_ssh_round_trip_odd_names_and_refuse_other_commands(tmp_path: Path, sshd: Sshd) -> None:
    root = tmp_path / "www"
    root.mkdir()
    contents = {name: f"content of {name!r}\n".encode() * (i + 1) for i, name in enumerate(ODD_NAMES)}
    for name, data in contents.items():
        (root / name).write_bytes(data)
    # a file whose content fakes head's header for the next file cannot shift the boundaries
    (root / "a.js").write_bytes(b"x\n\n==> " + os.fsencode(root / ODD_NAMES[0]) + b" <==\nfake")
    store = sshd.store(web_roots=[root])

    async def main() -> None:
        t = open_transport(store)
        try:
            listing = await list_remote_tree(t, str(root))
            files = {e.rel: e for e in listing.files}
            assert set(files) == {*ODD_NAMES, "a.js"}
            got = await fetch_remote_files(t, [(e.path, e.size) for e in files.values()], max_bytes=1 << 20)
            assert got.failed == {}
            assert {os.path.basename(p): d for p, d in got.content.items()} == {
                n: (root / n).read_bytes() for n in files
            }
            # a file that grew since the listing: the batch does not add up and is read again
            (root / ODD_NAMES[0]).write_bytes(b"grown " * 100)
            again = await fetch_remote_files(t, [(e.path, e.size) for e in files.values()], max_bytes=1 << 20)
            assert {os.path.basename(p): d for p, d in again.content.items()} == {
                n: (root / n).read_bytes() for n in files
            }
            hashes = await hash_remote_files(t, [e.path for e in files.values()])
            assert hashes == {
                e.path: hashlib.sha256(Path(e.path).read_bytes()).hexdigest() for e in files.values()
            }
            victim = root / "a.js"
            for argv in (
                ["rm", "-f", "--", str(victim)],
                ["find", str(root), "-delete"],
                ["find", str(root), "-fprintf", str(victim), "%p"],
                ["sha256sum", "-c", str(victim)],
                ["sha256sum", "--", str(victim)],
                ["sha256sum", "-z", "--", "relative.js"],
                ["head", "--bytes=10", "--", "/x\0y"],
                ["head", "--bytes=10", "--", "relative.js"],
                ["head", "-c", "10", "--", f"{root}/x;id"],  # the older shape keeps plain names only
            ):
                with pytest.raises(CommandNotAllowed):
                    await t.run_bytes(argv)
            assert victim.exists()
        finally:
            await t.aclose()

    asyncio.run(main())
    check_allowed(["sha256sum", "-z", "--", f"{root}/{ODD_NAMES[1]}", f"{root}/{ODD_NAMES[2]}"])
    check_allowed(["head", "--verbose", "--bytes=100", "--", f"{root}/{ODD_NAMES[2]}", f"{root}/x;id"])
