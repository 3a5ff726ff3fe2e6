"""Uploaded files: copied to a private temporary folder under a chosen name, reading no
more than the limit allows, and removed again when the caller is done."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile

CHUNK = 1 << 20
HEAD = 8192


@dataclass(frozen=True)
class Spooled:
    path: Path
    """The private copy (complete only when not ``too_big``)."""
    size: int
    """Bytes read; past the limit the copy stops, so this is then just over it."""
    head: bytes
    """The first 8 KB, for checking the content against the name."""
    too_big: bool


@contextmanager
def spooled(upload: UploadFile, name: str, limit: int) -> Iterator[Spooled]:
    """The upload as a file named ``name`` in a fresh private folder, deleted on exit."""
    folder = Path(tempfile.mkdtemp(prefix="sg-upload-"))
    try:
        target = folder / name
        size, head, too_big = 0, b"", False
        with target.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                if len(head) < HEAD:
                    head += chunk[: HEAD - len(head)]
                size += len(chunk)
                if size > limit:
                    too_big = True
                    break
                out.write(chunk)
        yield Spooled(target, size, head, too_big)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
