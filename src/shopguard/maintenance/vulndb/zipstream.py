"""Read a zip archive member by member from the front, in constant memory.

``zipfile`` loads the whole central directory first: about half a kilobyte per
member, so an OSV export with hundreds of thousands of advisories would cost
hundreds of megabytes before the first record is read. This reader walks the
local file headers instead (deflated or stored members, with or without a
trailing data descriptor, as Go's and Python's zip writers produce them) and
checks each member's CRC.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

LOCAL = b"PK\x03\x04"
DESCRIPTOR = b"PK\x07\x08"
CHUNK = 1 << 16


class ZipStreamError(ValueError):
    """Damaged or truncated archive (the message says which member)."""


class ZipStreamUnsupported(ZipStreamError):
    """A member this reader cannot stream; the caller can fall back to ``zipfile``."""


def _read_exact(fh: BinaryIO, n: int, what: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ZipStreamError(f"archive ends inside {what} (truncated download?)")
    return data


def _zip64_sizes(extra: bytes, csize: int, usize: int) -> tuple[int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        if tag == 1:
            vals = list(struct.unpack_from(f"<{len(body) // 8}Q", body))
            if usize == 0xFFFFFFFF and vals:
                usize = vals.pop(0)
            if csize == 0xFFFFFFFF and vals:
                csize = vals.pop(0)
        i += 4 + size
    return csize, usize


def iter_members(fh: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """Yield (name, content) of each file member, in archive order."""
    while True:
        sig = fh.read(4)
        if sig != LOCAL:
            if len(sig) < 4 and sig:
                raise ZipStreamError("archive ends inside a header (truncated download?)")
            return  # central directory (or an empty file): no more members
        (_, flags, method, _, _, crc, csize, usize, nlen, xlen) = struct.unpack(
            "<HHHHHIIIHH", _read_exact(fh, 26, "a header")
        )
        name = _read_exact(fh, nlen, "a member name").decode("utf-8" if flags & 0x800 else "cp437")
        extra = _read_exact(fh, xlen, f"{name}'s header")
        if flags & 0x1:
            raise ZipStreamUnsupported(f"{name}: encrypted members are not supported")
        csize, usize = _zip64_sizes(extra, csize, usize)
        if method == 8:
            data = _inflate(fh, name, None if flags & 0x8 else csize)
        elif method == 0:
            if flags & 0x8:
                raise ZipStreamUnsupported(f"{name}: stored member without sizes is not supported")
            data = _read_exact(fh, csize, name)
        else:
            raise ZipStreamUnsupported(f"{name}: compression method {method} is not supported")
        if flags & 0x8:
            head = _read_exact(fh, 4, f"{name}'s data descriptor")
            if head == DESCRIPTOR:
                head = _read_exact(fh, 4, f"{name}'s data descriptor")
            crc = struct.unpack("<I", head)[0]
            _read_exact(fh, 8 if len(data) < 0xFFFFFFFF else 16, f"{name}'s data descriptor")
        if zlib.crc32(data) != crc:
            raise ZipStreamError(f"{name}: CRC mismatch (damaged archive)")
        if not name.endswith("/"):
            yield name, data


def _inflate(fh: BinaryIO, name: str, size: int | None) -> bytes:
    d = zlib.decompressobj(-15)
    out = []
    remaining = size
    while True:
        want = CHUNK if remaining is None else min(CHUNK, remaining)
        chunk = fh.read(want) if want else b""
        if not chunk and not d.eof:
            raise ZipStreamError(f"archive ends inside {name} (truncated download?)")
        if remaining is not None:
            remaining -= len(chunk)
        try:
            out.append(d.decompress(chunk))
        except zlib.error as exc:
            raise ZipStreamError(f"{name}: damaged compressed data ({exc})") from None
        if d.eof:
            if d.unused_data:
                fh.seek(-len(d.unused_data), 1)
            return b"".join(out)
