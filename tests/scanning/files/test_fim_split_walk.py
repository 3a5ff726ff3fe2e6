"""The unchanged-tree check walks large roots in two processes: the answer must be exactly
the one-process answer, and anything that two processes cannot de-duplicate falls back to one.

Each case runs in a fresh interpreter: the split is only used in a process without other
threads, and a pytest process may hold threads left by other tests' servers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from shopguard.scanning.files import fim
from shopguard.scanning.files.walker import WalkStats

SCRIPT = r"""
import json, os, sys
from pathlib import Path
os.environ["SHOPGUARD_HOME"] = sys.argv[2]
from shopguard.scanning.files import fim
from shopguard.scanning.files.walker import WalkStats
fim.SPLIT_MIN_FILES = 10
root = Path(sys.argv[1])
base = fim.load("split") if len(sys.argv) > 3 else None
if base is None:
    base, _ = fim.build("split", [root], "sha256", exclude=[root / "d3" / "cache"])
    fim.save(base)
    base = fim.load("split")
(files,) = base.roots.values()
probe = fim.split_walk(str(root), files.fast_keys(), WalkStats(), [root / "d3" / "cache"])
out = {}
for mode, jobs in (("split", 0), ("one", 1)):
    r = fim.compare(base, jobs=jobs, exclude=[root / "d3" / "cache"], keep_current=True)
    out[mode] = {
        "changes": sorted((c.kind, c.path) for c in r.changes),
        "unchanged": r.unchanged,
        "rehashed": r.rehashed,
        "stats": r.stats.as_dict(),
        "current": sorted(next(iter(r.current.values()))),
    }
out["split_used"] = probe is not None
print(json.dumps(out))
"""


def _tree(root: Path) -> None:
    for d in range(4):
        for sub in range(3):
            folder = root / f"d{d}" / f"s{sub}"
            folder.mkdir(parents=True)
            for i in range(8 + d * 5):
                (folder / f"f{i}.php").write_text(f"<?php echo {d}{sub}{i};\n")
    (root / "index.php").write_text("<?php // root file\n")
    (root / "d1" / "caf\xe9 odd\nname.js").write_text("var odd;\n")
    (root / "d3" / "cache").mkdir()
    (root / "d3" / "cache" / "skip.php").write_text("<?php // excluded\n")
    (root / "link-out").symlink_to("/etc")
    (root / "d2" / "loop").symlink_to(root)


def _run(root: Path, home: Path, *extra: str, prefix: tuple[str, ...] = ()) -> dict[str, object]:
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", SCRIPT, str(root), str(home), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_two_processes_give_exactly_the_one_process_answer(tmp_path: Path) -> None:
    root, home = tmp_path / "www", tmp_path / "home"
    root.mkdir()
    _tree(root)
    first = _run(root, home)
    assert first["split_used"] is True
    assert first["split"] == first["one"]
    assert first["split"]["changes"] == []  # type: ignore[index]
    # Changes in both halves, at the root, a removal and a permission change.
    (root / "d0" / "s1" / "f2.php").write_text("<?php evil();\n")
    (root / "d3" / "s0" / "new.php").write_text("<?php added();\n")
    (root / "index.php").write_text("<?php // root file, edited\n")
    (root / "d2" / "s2" / "f1.php").unlink()
    (root / "d1" / "s0" / "f0.php").chmod(0o777)
    shutil.rmtree(root / "d1" / "s2")
    second = _run(root, home, "reuse")
    assert second["split_used"] is True
    assert second["split"] == second["one"]
    kinds = {(k, Path(p).name) for k, p in second["split"]["changes"]}  # type: ignore[index]
    assert ("changed", "f2.php") in kinds
    assert ("added", "new.php") in kinds
    assert ("changed", "index.php") in kinds
    assert ("removed", "f1.php") in kinds
    assert ("permissions", "f0.php") in kinds
    removed = [p for k, p in second["split"]["changes"] if k == "removed"]  # type: ignore[index]
    assert len(removed) == 1 + 8 + 5  # f1.php and d1/s2's files


def test_a_folder_mounted_into_the_other_half_makes_one_process_walk_it(tmp_path: Path) -> None:
    """A bind mount shows one folder under two paths; two processes cannot tell, so the
    split is refused and the answer stays the one-process one (the copy is walked once)."""
    root, home = tmp_path / "www", tmp_path / "home"
    root.mkdir()
    _tree(root)
    # After the baseline, d3 (the largest folder) is mounted again at zz. With the small
    # folder e, the halves' loads end so that zz (no files in the baseline) lands in the
    # other half from d3: the two processes would both walk the same folder.
    (root / "e").mkdir()
    for i in range(3):
        (root / "e" / f"{i}.php").write_text("<?php\n")
    (root / "zz").mkdir()
    _run(root, home)
    prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c",
              f'mount --bind "{root / "d3"}" "{root / "zz"}" && exec "$0" "$@"')  # fmt: skip
    got = _run(root, home, "reuse", prefix=prefix)
    assert got["split_used"] is False
    assert got["split"] == got["one"]
    walked = got["one"]["current"]  # type: ignore[index]
    # d3 is walked once, under the path the one-process walk reaches first.
    assert sum(1 for p in walked if p.endswith("s0/f0.php") and p.startswith(("d3/", "zz/"))) == 1
    assert got["one"]["stats"]["loops_skipped"] >= 1  # type: ignore[index]


def test_no_split_beside_other_threads_or_for_a_small_tree(tmp_path: Path) -> None:
    root = tmp_path / "www"
    root.mkdir()
    _tree(root)
    base, _ = fim.build("split-small", [root], "sha256")
    (files,) = base.roots.values()
    assert len(files) < fim.SPLIT_MIN_FILES
    assert fim.split_walk(str(root), files.fast_keys(), WalkStats(), []) is None
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(10,))
    t.start()
    try:
        big = dict.fromkeys((f"x{i}" for i in range(fim.SPLIT_MIN_FILES)), (0, 0, 0, 0))
        assert fim.split_walk(str(root), big, WalkStats(), []) is None
    finally:
        release.set()
        t.join()
