"""Import through the real sync path, atomic swap, and the range semantics of OSV records."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from shopguard.maintenance.model import Component, Owner, make_purl
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.vulndb.db import read_meta
from shopguard.maintenance.vulndb.sync import SyncError, sync

from .conftest import OSV_PYPI, RETIREJS


def comp(eco: str, name: str, version: str) -> Component:
    return Component(name, version, eco, make_purl(eco, name, version), Owner.LIBRARY, "test")


def ids(src: LocalSource, c: Component) -> set[str]:
    return {m.advisory.id for m in src.query([c]).get(c, [])}


def test_sync_imports_every_record(synced_db: Path) -> None:
    conn = sqlite3.connect(synced_db)
    by_source = dict(conn.execute("SELECT source, count(*) FROM advisory GROUP BY source"))
    assert by_source["osv"] == 2661
    assert by_source["friendsofphp"] == 1592  # every advisory file in the archive
    assert by_source["retirejs"] > 400
    # the index that makes matching one query per batch
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM affected WHERE ecosystem='PyPI' AND name IN ('django','jinja2')"
    ).fetchall()
    assert any("affected_by_name" in str(row) for row in plan)
    assert "synced_at" in read_meta(synced_db)


def test_withdrawn_records_never_match(synced_db: Path) -> None:
    # PYSEC-2023-73 (redis) is withdrawn in the export; its versions list includes 0.6.0
    with zipfile.ZipFile(OSV_PYPI) as zf:
        rec = json.loads(zf.read("PYSEC-2023-73.json"))
    assert rec.get("withdrawn")
    assert "0.6.0" in rec["affected"][0]["versions"]
    assert "PYSEC-2023-73" not in ids(LocalSource(synced_db), comp("PyPI", "redis", "0.6.0"))


def test_last_affected_is_inclusive(synced_db: Path) -> None:
    # PYSEC-2022-42969: py, introduced 0, last_affected 1.11.0 (no fix)
    src = LocalSource(synced_db)
    assert "PYSEC-2022-42969" in ids(src, comp("PyPI", "py", "1.11.0"))
    assert "PYSEC-2022-42969" not in ids(src, comp("PyPI", "py", "1.11.1"))


def _zip(path: Path, records: list[dict[str, object]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for r in records:
            zf.writestr(f"{r['id']}.json", json.dumps(r))
    return path


def test_semver_ranges_and_versions_lists(tmp_path: Path) -> None:
    """SEMVER ranges compare by semver even in another ecosystem; a versions list alone also matches."""
    recs = [
        {
            "id": "TEST-SEMVER-1",
            "modified": "2024-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "npm", "name": "left-pad"},
                    "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.3.0"}]}],
                }
            ],
        },
        {
            "id": "TEST-LIST-1",
            "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "Some_Pkg"}, "versions": ["0.9"]}],
        },
        {
            "id": "TEST-GIT-ONLY",
            "modified": "2024-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "gitonly"},
                    "ranges": [{"type": "GIT", "repo": "x", "events": [{"introduced": "0"}]}],
                }
            ],
        },
    ]
    db = tmp_path / "v.sqlite"
    sync([_zip(tmp_path / "all.zip", recs)], db_path=db, download=False, eol_url=None)
    src = LocalSource(db)
    assert ids(src, comp("npm", "left-pad", "1.2.9")) == {"TEST-SEMVER-1"}
    assert ids(src, comp("npm", "left-pad", "1.3.0")) == set()
    assert ids(src, comp("npm", "left-pad", "0.9.0")) == set()
    assert ids(src, comp("PyPI", "some-pkg", "0.9")) == {"TEST-LIST-1"}  # PEP 503 name normalisation
    assert ids(src, comp("PyPI", "some-pkg", "0.9.0")) == {"TEST-LIST-1"}  # PEP 440: 0.9.0 is 0.9
    assert ids(src, comp("PyPI", "some-pkg", "0.9.1")) == set()
    assert ids(src, comp("PyPI", "gitonly", "1.0")) == set()  # GIT ranges are commits, not versions


def test_interrupted_sync_keeps_previous_database(synced_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "vulndb.sqlite"
    sync([RETIREJS], db_path=db, download=False, eol_url=None)
    before = db.read_bytes()
    broken = tmp_path / "truncated.zip"
    broken.write_bytes(OSV_PYPI.read_bytes()[:50_000])  # a download cut off mid-way
    with pytest.raises(SyncError, match=r"truncated\.zip: damaged zip archive: .*truncated download"):
        sync([OSV_PYPI, broken], db_path=db, download=False, eol_url=None)
    assert db.read_bytes() == before
    assert not list(tmp_path.glob(".vulndb.sqlite.*"))  # the half-built file is gone
    jq = Component(
        "jquery",
        "1.12.4",
        "npm",
        "pkg:npm/jquery@1.12.4",
        Owner.LIBRARY,
        "x",
        match_keys=(("retirejs", "jquery"),),
    )
    assert LocalSource(db).query([jq])[jq]


def test_killed_sync_leftovers_are_cleaned(tmp_path: Path) -> None:
    import os

    db = tmp_path / "vulndb.sqlite"
    stale, fresh = tmp_path / ".vulndb.sqlite.999999.new", tmp_path / ".vulndb.sqlite.999998.new"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"running")
    os.utime(stale, (1, 1))  # from a sync killed long ago
    sync([RETIREJS], db_path=db, download=False, eol_url=None)
    assert not stale.exists()
    assert fresh.exists()  # may belong to a sync running right now
    assert db.exists()


def test_unknown_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "advisories.txt"
    bad.write_text("hello")
    with pytest.raises(SyncError, match=r"advisories.txt: not an OSV all.zip"):
        sync([bad], db_path=tmp_path / "v.sqlite", download=False, eol_url=None)
