"""The streaming zip reader against Python's zipfile, on the real OSV export and writer variants."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from shopguard.maintenance.vulndb.osv import iter_zip
from shopguard.maintenance.vulndb.zipstream import ZipStreamError, ZipStreamUnsupported, iter_members

from .conftest import OSV_PYPI


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after each member, as Go's writer does."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        return self.buf.write(b)


def reference() -> dict[str, bytes]:
    with zipfile.ZipFile(OSV_PYPI) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_same_members_as_zipfile_on_the_real_export() -> None:
    with OSV_PYPI.open("rb") as fh:
        assert dict(iter_members(fh)) == reference()


def test_data_descriptors_and_stored_fallback(tmp_path: Path) -> None:
    ref = reference()
    sample = dict(list(ref.items())[:200])
    out = _Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zw:
        for n, d in sample.items():
            zw.writestr(n, d)
    raw = out.buf.getvalue()
    assert zipfile.ZipFile(io.BytesIO(raw)).infolist()[0].flag_bits & 0x8
    assert dict(iter_members(io.BytesIO(raw))) == sample
    # a stored member with a descriptor cannot be streamed: iter_zip falls back to zipfile
    out2 = _Unseekable()
    with zipfile.ZipFile(out2, "w", zipfile.ZIP_DEFLATED) as zw:
        zw.writestr("A.json", sample[next(iter(sample))])
        zw.writestr("B.json", b'{"id": "B"}', compress_type=zipfile.ZIP_STORED)
    with pytest.raises(ZipStreamUnsupported):
        list(iter_members(io.BytesIO(out2.buf.getvalue())))
    path = tmp_path / "mixed.zip"
    path.write_bytes(out2.buf.getvalue())
    assert [(n, (rec or {}).get("id")) for n, rec, _ in iter_zip(path)] == [
        ("A.json", next(iter(sample)).removesuffix(".json")),
        ("B.json", "B"),
    ]


def test_damage_is_detected() -> None:
    raw = bytearray(OSV_PYPI.read_bytes()[:200_000])
    with pytest.raises(ZipStreamError, match="truncated"):
        list(iter_members(io.BytesIO(bytes(raw))))
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zw:
        zw.writestr("X.json", b'{"id": "X", "affected": []}')
    damaged = bytearray(stored.getvalue())
    damaged[damaged.index(b'"X"')] ^= 0x01
    with pytest.raises(ZipStreamError, match="CRC mismatch"):
        list(iter_members(io.BytesIO(bytes(damaged))))
