"""Evidence files: content-addressed, size- and type-checked, never overwritten.

A file is copied to a temporary name in the evidence folder, hashed while copying,
then hard-linked to ``<sha256><ext>``: linking fails rather than replace an existing
file, and identical content maps to the identical path, so nothing is ever
overwritten and a crash leaves at most a stray temporary file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shopguard.paths import user_data_dir

MAX_EVIDENCE_BYTES = 25 * 1024 * 1024
"""Refuse larger files: evidence should be a report or a screenshot, not a disk image."""

# Allowed extensions and, where the format has one, the magic bytes it must start with.
ALLOWED_TYPES: dict[str, bytes | None] = {
    ".pdf": b"%PDF-",
    ".png": b"\x89PNG\r\n\x1a\n",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".txt": None,
    ".csv": None,
    ".json": None,
    ".xml": None,
    ".html": None,
    ".htm": None,
    ".md": None,
    ".log": None,
    ".docx": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
    ".odt": b"PK\x03\x04",
    ".ods": b"PK\x03\x04",
}


class EvidenceError(ValueError):
    """An evidence file was refused; the message says why."""


@dataclass(frozen=True)
class StoredFile:
    filename: str
    stored_path: str
    """Relative to the evidence root."""
    sha256: str
    size: int


def evidence_root() -> Path:
    return user_data_dir() / "evidence" / "pci"


def _safe_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:100] or "_"


def store_file(
    src: Path, subdir: str, *, root: Path | None = None, max_bytes: int = MAX_EVIDENCE_BYTES
) -> StoredFile:
    """Copy ``src`` into the evidence folder after checking its size and type."""
    root = root or evidence_root()
    ext = src.suffix.lower()
    if ext not in ALLOWED_TYPES:
        allowed = " ".join(sorted(ALLOWED_TYPES))
        raise EvidenceError(
            f"{src}: file type {ext or '(none)'} is not accepted as evidence; allowed: {allowed}"
        )
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise EvidenceError(f"{src}: cannot read: {exc.strerror}") from None
    if not src.is_file():
        raise EvidenceError(f"{src}: not a regular file")
    if size > max_bytes:
        raise EvidenceError(
            f"{src}: {size:,} bytes is over the evidence limit of {max_bytes:,} bytes; "
            "attach a smaller extract or a summary report"
        )
    if size == 0:
        raise EvidenceError(f"{src}: the file is empty")
    target_dir = root / _safe_part(subdir)
    target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    magic = ALLOWED_TYPES[ext]
    digest = hashlib.sha256()
    copied = 0
    fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=target_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            first = True
            while chunk := inp.read(1 << 20):
                if first and magic is not None and not chunk.startswith(magic):
                    raise EvidenceError(
                        f"{src}: the content is not a {ext} file (its first bytes do not match)"
                    )
                first = False
                copied += len(chunk)
                if copied > max_bytes:
                    raise EvidenceError(
                        f"{src}: grew past the evidence limit of {max_bytes:,} bytes while copying"
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = target_dir / sha[:2] / f"{sha}{ext}"
        final.parent.mkdir(exist_ok=True, mode=0o700)
        # Identical content already stored means same hash, same bytes: never rewritten.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, final)
        os.chmod(final, 0o400)
        return StoredFile(src.name, str(final.relative_to(root)), sha, copied)
    finally:
        tmp.unlink(missing_ok=True)


def open_stored(stored_path: str, root: Path | None = None) -> Path:
    root = (root or evidence_root()).resolve()
    p = (root / stored_path).resolve()
    if root not in p.parents:
        raise EvidenceError(f"stored path {stored_path!r} points outside the evidence folder")
    return p
