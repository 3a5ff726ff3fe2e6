"""Hostile trees: links, loops, special files, vanishing files, odd names, huge files,
huge folders, deep nesting, unreadable files and broken rule files."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from shopguard.scanning.files.engine import WINDOW, Engine, EngineSpec, ScanStats, make_spec, scan_tree
from shopguard.scanning.files.rules import RuleError, load_rules
from shopguard.scanning.files.walker import WalkStats, walk

from .conftest import MALICIOUS

BACKDOOR = (MALICIOUS / "php" / "eval_post_oneliner.php").read_bytes()


def test_symlink_loop_and_links_out_of_root_are_not_followed(tmp_path: Path, spec: EngineSpec) -> None:
    root = tmp_path / "www"
    (root / "a").mkdir(parents=True)
    (root / "a" / "loop").symlink_to(root)  # a -> root -> a ...
    (root / "self").symlink_to("self")  # dangling self-loop
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.php").write_bytes(BACKDOOR)
    (root / "out").symlink_to(outside)
    (root / "out.php").symlink_to(outside / "evil.php")
    (root / "ok.php").write_bytes(BACKDOOR)
    scan = scan_tree([root], spec, jobs=1)
    assert [Path(r.path).name for r in scan.results] == ["ok.php"]
    assert scan.stats.symlinks_skipped == 4

    # Following links stays inside the root and detects the loop.
    stats = WalkStats()
    inside = root / "inner"
    inside.mkdir()
    (root / "inner-link").symlink_to(inside)
    (inside / "x.php").write_bytes(b"<?php echo 1;")
    files = [p for p, _ in walk([root], stats, follow_symlinks=True)]
    assert not any("outside" in os.path.realpath(p) for p in files)
    assert stats.loops_skipped >= 1


def test_fifo_socket_and_device_are_skipped_and_counted(tmp_path: Path, spec: EngineSpec) -> None:
    os.mkfifo(tmp_path / "pipe.php")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.php"))
    os.mknod(tmp_path / "null.php", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    (tmp_path / "real.php").write_bytes(BACKDOOR)
    try:
        scan = scan_tree([tmp_path], spec, jobs=1)
    finally:
        sock.close()
    assert scan.stats.special_skipped == 3
    assert [Path(r.path).name for r in scan.results] == ["real.php"]


def test_file_replaced_by_fifo_after_the_walk_does_not_hang(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "swap.php"
    os.mkfifo(path)  # the walk saw a file; by the time we open it, it is a FIFO
    stats = ScanStats()
    assert engine.scan_file(str(path), stats) is None
    assert stats.special_skipped == 1


def test_vanished_file_is_counted(tmp_path: Path, engine: Engine) -> None:
    stats = ScanStats()
    assert engine.scan_file(str(tmp_path / "gone.php"), stats) is None
    assert stats.vanished == 1


def test_non_utf8_name_is_scanned_and_printable(tmp_path: Path, engine: Engine) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9-\xff.php"
    with open(raw, "wb") as f:
        f.write(BACKDOOR)
    stats = ScanStats()
    result = engine.scan_file(os.fsdecode(raw), stats)
    assert result is not None
    assert result.path.endswith("caf\\xe9-\\xff.php")
    result.path.encode("utf-8")  # storable: no lone surrogates


def test_big_sparse_file_is_capped_with_a_note(tmp_path: Path) -> None:
    big = tmp_path / "backup.sql"
    with open(big, "wb") as f:
        f.truncate(4 * 1024**3)  # 4 GB, sparse
    spec = make_spec(max_file_bytes=2 * 1024 * 1024)
    scan = scan_tree([big], spec, jobs=1)
    assert scan.stats.capped == 1
    (result,) = scan.results
    assert result.capped_at == 2 * 1024 * 1024 and result.size == 4 * 1024**3
    assert result.detections == ()


def test_code_across_a_window_boundary_is_found(tmp_path: Path) -> None:
    path = tmp_path / "padded.php"
    with open(path, "wb") as f:
        f.write(b"<?php\n" + b"/*" + b" " * (WINDOW - 40) + b"*/\n")
        f.write(b"@eval($_POST['sg_defanged']);\n")  # straddles the first window's end
        f.write(b" " * 1024)
    scan = scan_tree([path], make_spec(), jobs=1)
    assert "SG_PHP_Exec_Request_Input" in [d.rule for r in scan.results for d in r.detections]


def test_many_files_in_one_folder_and_deep_nesting(tmp_path: Path, spec: EngineSpec) -> None:
    # Same code path as 100,000 entries (os.scandir streams), kept small for CI time.
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(3000):
        (flat / f"f{i:05d}.js").write_bytes(b"var a = 1;\n")
    (flat / "f99999.php").write_bytes(BACKDOOR)
    deep = tmp_path / "deep"
    cur = deep
    for _ in range(400):
        cur = cur / "d"
    cur.mkdir(parents=True)
    (cur / "bottom.php").write_bytes(BACKDOOR)
    scan = scan_tree([flat, deep], spec, jobs=2)
    assert scan.stats.scanned == 3002
    assert sorted(Path(r.path).name for r in scan.results) == ["bottom.php", "f99999.php"]


def test_unreadable_files_are_counted_when_not_root() -> None:
    """Root reads everything, so the scan runs in a forked child that drops to 'nobody'."""
    base = Path(tempfile.mkdtemp(prefix="sg-files-unreadable-"))
    try:
        base.chmod(0o755)
        root = base / "www"
        root.mkdir()
        (root / "secret.php").write_bytes(BACKDOOR)
        (root / "secret.php").chmod(0o000)
        (root / "locked").mkdir()
        (root / "locked" / "x.php").write_bytes(BACKDOOR)
        (root / "locked").chmod(0o000)
        (root / "open.php").write_bytes(BACKDOOR)
        spec = make_spec()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: drop privileges, scan, report, exit without cleanup
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                s = scan_tree([root], spec, jobs=1)
                os.write(
                    write_end, json.dumps([s.stats.unreadable, sorted(r.path for r in s.results)]).encode()
                )
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
        unreadable, found = json.loads(payload)
        assert unreadable == 2
        assert found == [str(root / "open.php")]
    finally:
        (base / "www" / "locked").chmod(0o755)
        shutil.rmtree(base)


def test_rule_file_error_names_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.yar").write_text('rule ok { strings: $a = "x" condition: $a }\n')
    (rules / "broken.yar").write_text('rule bad {\n  strings:\n    $a = "x"\n  condition:\n    $b\n}\n')
    with pytest.raises(RuleError) as err:
        load_rules([rules])
    assert f"{rules / 'broken.yar'}:5:" in str(err.value)
    with pytest.raises(RuleError, match="rule folder not found"):
        load_rules([tmp_path / "missing"])


def test_third_party_style_rules_load_and_match(tmp_path: Path) -> None:
    rules = tmp_path / "vendor"
    rules.mkdir()
    (rules / "sigbase.yar").write_text(
        'import "hash"\n'
        "rule Vendor_Webshell_Name {\n"
        '  meta: author = "someone" description = "test"\n'
        '  strings: $s = "sg_vendor_marker"\n'
        '  condition: $s and extension == ".php" and filename matches /shell/ and filesize < 1MB\n'
        "}\n"
    )
    spec = make_spec([rules], third_party=True)
    assert not spec.builtin_only  # the Hyperscan pre-filter cannot vouch for foreign rules
    target = tmp_path / "www" / "myshell.php"
    target.parent.mkdir()
    target.write_bytes(b"<?php // sg_vendor_marker\n")
    scan = scan_tree([target.parent], spec, jobs=1)
    (result,) = scan.results
    (det,) = result.detections
    assert det.rule == "Vendor_Webshell_Name" and det.source.startswith("user_")
    assert det.family == "third-party"


def test_file_growing_while_read_is_counted_and_rescanned(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "growing.log"
    path.write_bytes(b"x" * (24 * 1024 * 1024))
    stop = threading.Event()

    def writer() -> None:
        with open(path, "ab") as f:
            while not stop.is_set():
                f.write(b"line\n")
                f.flush()

    t = threading.Thread(target=writer)
    t.start()
    try:
        stats = ScanStats()
        engine.scan_file(str(path), stats)
    finally:
        stop.set()
        t.join()
    assert stats.changed_during_read >= 1
    assert stats.scanned == 1


def test_relaxed_regex_and_includes_of_public_rule_sets_need_the_flag(tmp_path: Path) -> None:
    """Public sets use YARA's lenient regexes (an unescaped ``{`` as in ``\\${\\$x}``) and ``include``."""
    rules = tmp_path / "vendor"
    rules.mkdir()
    (rules / "common.yar").write_text("private rule Vendor_Allowed { condition: false }\n")
    (rules / "main.yar").write_text(
        'include "common.yar"\n'
        "global private rule Vendor_IsPhp { strings: $p = /<\\?[^x]/ condition: $p }\n"
        "rule Vendor_Lenient { strings: $a = /sg_mark \\${\\$[a-z]+}/\n"
        "  condition: $a and not Vendor_Allowed }\n"
    )
    with pytest.raises(RuleError, match=r"main\.yar:3:"):  # strict syntax names the line
        make_spec([rules])
    spec = make_spec([rules], third_party=True)
    target = tmp_path / "www" / "x.php"
    target.parent.mkdir()
    target.write_bytes(b"<?php sg_mark ${$abc};\n")
    (result,) = scan_tree([target.parent], spec, jobs=1).results
    assert [d.rule for d in result.detections] == ["Vendor_Lenient"]
