"""Copy flagged files aside as evidence. Never moves or deletes anything: the
store owner decides what to remove, after restoring a clean copy."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class QuarantinedFile:
    original: str
    copy: str
    sha256: str
    size: int
    reason: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def quarantine(items: Iterable[tuple[str, str]], dest: Path) -> tuple[Path, list[QuarantinedFile], list[str]]:
    """Copy each ``(path, reason)`` into a new dated folder below ``dest``.

    Returns the folder, what was copied, and error messages for what could not be.
    Copies are read-only for the owner only; a ``manifest.json`` records the
    original path, size and sha256 of each copy.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = dest / f"shopguard-quarantine-{stamp}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    done: list[QuarantinedFile] = []
    errors: list[str] = []
    for path_text, reason in items:
        src = Path(path_text)
        try:
            if src.is_symlink() or not src.is_file():
                errors.append(f"{path_text}: not a regular file any more; not copied")
                continue
            sha = _sha256(src)
            target = folder / f"{sha[:16]}_{src.name}.quarantined"
            shutil.copyfile(src, target, follow_symlinks=False)
            os.chmod(target, 0o400)
            copied = _sha256(target)
            if copied != sha:
                errors.append(f"{path_text}: changed while it was copied; copy it again")
            done.append(QuarantinedFile(path_text, str(target), copied, target.stat().st_size, reason))
        except OSError as exc:
            errors.append(f"{path_text}: {exc.strerror or exc}")
    manifest = {
        "created": stamp,
        "note": "Copies of files ShopGuard flagged. Originals were NOT moved or deleted.",
        "files": [q.__dict__ for q in done],
        "errors": errors,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder, done, errors
