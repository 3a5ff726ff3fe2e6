"""Walk a store's web roots and build the file-based part of the inventory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from shopguard.maintenance.inventory import platforms
from shopguard.maintenance.inventory.jsfiles import scan_js
from shopguard.maintenance.inventory.lockfiles import LockfileError, parser_for
from shopguard.maintenance.inventory.textio import MAX_LOCKFILE_BYTES, ReadProblem, read_text
from shopguard.maintenance.model import Inventory
from shopguard.maintenance.vulndb.retirejs import Detector

SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    "site-packages",
    "var",
    "cache",
}
"""Not walked for lockfiles and shipped JS: package managers' own trees and caches
(their contents are described by the lockfile next to them)."""

MAX_FILES = 500_000


def read_lockfile(path: Path, inv: Inventory, limit: int = MAX_LOCKFILE_BYTES) -> None:
    parser = parser_for(path)
    if parser is None:
        return
    try:
        text, note = read_text(path, limit)
        if note:
            inv.warn(str(path), note)
        comps, notes = parser(text, str(path))
    except (ReadProblem, LockfileError) as exc:
        inv.warn(str(path), str(exc))
        return
    except Exception as exc:  # a parser bug must not stop the inventory
        inv.warn(str(path), f"could not be read ({type(exc).__name__}: {exc})")
        return
    inv.add(comps)
    for n in notes[:20]:
        inv.warn(str(path), n)
    if len(notes) > 20:
        inv.warn(str(path), f"{len(notes) - 20} more entries could not be checked")


def scan_paths(
    roots: Iterable[Path], detector: Detector | None, *, lockfile_limit: int = MAX_LOCKFILE_BYTES
) -> Inventory:
    inv = Inventory()
    for root in roots:
        root = Path(root)
        if root.is_file():
            read_lockfile(root, inv, lockfile_limit)
            if detector and root.suffix == ".js":
                scan_js(root, detector, inv)
            continue
        if not root.is_dir():
            inv.warn(str(root), "not a folder or file; skipped")
            continue
        _scan_root(root, detector, inv, lockfile_limit)
    return inv


def _scan_root(root: Path, detector: Detector | None, inv: Inventory, lockfile_limit: int) -> None:
    for det in platforms.DETECTORS:
        try:
            det(root, inv)
        except OSError as exc:
            inv.warn(str(root), f"{det.__name__}: cannot read: {exc}")
    platforms.magento_without_lock(root, inv)
    seen = 0
    for dirpath, dirnames, filenames in os.walk(
        root, onerror=lambda e: inv.warn(str(e.filename), e.strerror or str(e))
    ):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for fn in sorted(filenames):
            seen += 1
            if seen > MAX_FILES:
                inv.warn(str(root), f"more than {MAX_FILES} files; the rest were not inventoried")
                return
            p = Path(dirpath) / fn
            if parser_for(p) is not None:
                read_lockfile(p, inv, lockfile_limit)
            elif detector is not None and fn.endswith(".js"):
                scan_js(p, detector, inv)
    if detector is None:
        inv.warn(
            str(root), "JavaScript files not checked: no retire.js repository (run `shopguard vulndb sync`)"
        )
