"""Reading text files of unknown encoding and size, with warnings instead of crashes."""

from __future__ import annotations

import codecs
from pathlib import Path

MAX_LOCKFILE_BYTES = 32 * 1024 * 1024
"""Larger lockfiles are skipped with a warning (a real one is a few MB)."""


class ReadProblem(Exception):
    """The file cannot be used; the message says why (without the path)."""


def decode(raw: bytes) -> tuple[str, str]:
    """(text, note): UTF-8 (with or without BOM), UTF-16 by BOM, else Latin-1 with a note."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="replace"), ""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace"), "encoded as UTF-16; read it anyway"
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        return raw.decode("latin-1"), f"not valid UTF-8 (byte {exc.start}); read it as Latin-1"


def read_text(path: Path, limit: int = MAX_LOCKFILE_BYTES) -> tuple[str, str]:
    try:
        size = path.stat().st_size
        if size > limit:
            raise ReadProblem(
                f"{size / 1048576:.1f} MB is larger than the {limit // 1048576} MB limit "
                "for one lockfile; skipped"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ReadProblem(f"cannot read: {exc.strerror}") from exc
    if not raw.strip():
        raise ReadProblem("file is empty")
    return decode(raw)


def read_head(path: Path, size: int = 8192) -> tuple[str, str]:
    """The start of a file (plugin headers live in the first 8 KB, as WordPress reads them)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(size)
    except OSError as exc:
        raise ReadProblem(f"cannot read: {exc.strerror}") from exc
    return decode(raw)
