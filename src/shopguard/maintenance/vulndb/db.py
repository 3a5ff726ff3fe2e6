"""The vulnerability database: one SQLite file in the user data folder.

A sync writes a brand-new file next to the live one and swaps it in with
``os.replace`` only when the import finished, so an interrupted sync leaves the
previous database usable. Rows are indexed by (ecosystem, name) so one query per
batch of names finds every candidate advisory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopguard.paths import user_data_dir

SCHEMA = """
CREATE TABLE advisory (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    aliases TEXT NOT NULL DEFAULT '[]',
    published TEXT,
    modified TEXT,
    withdrawn TEXT,
    severity TEXT NOT NULL DEFAULT '',
    score REAL,
    url TEXT NOT NULL DEFAULT ''
);
CREATE TABLE affected (
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    ranges TEXT NOT NULL DEFAULT '[]',
    versions TEXT NOT NULL DEFAULT '[]',
    fixed TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
INDEXES = "CREATE INDEX affected_by_name ON affected (ecosystem, name);"


def default_path() -> Path:
    return user_data_dir() / "vulndb" / "vulndb.sqlite"


@dataclass(frozen=True)
class Interval:
    """One affected span; ``lo``/``hi`` None means unbounded."""

    lo: str | None = None
    lo_incl: bool = True
    hi: str | None = None
    hi_incl: bool = False
    scheme: str = ""
    """Comparison scheme override (``SEMVER`` ranges); '' = the ecosystem's own."""

    def to_json(self) -> list[object]:
        return [self.lo, self.lo_incl, self.hi, self.hi_incl, self.scheme]

    @classmethod
    def from_json(cls, v: list[object]) -> Interval:
        lo, loi, hi, hii, sc = v
        return cls(lo, bool(loi), hi, bool(hii), str(sc))  # type: ignore[arg-type]


@dataclass(frozen=True)
class AdvisoryRecord:
    id: str
    source: str
    summary: str = ""
    aliases: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None
    withdrawn: str | None = None
    severity: str = ""
    score: float | None = None
    url: str = ""


@dataclass(frozen=True)
class AffectedRecord:
    advisory_id: str
    ecosystem: str
    name: str
    intervals: tuple[Interval, ...] = ()
    versions: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    """Fixed versions a source names apart from its ranges (Wordfence's ``patched_versions``, whose
    ranges end at the last vulnerable version)."""
    _compiled: Any = field(default=None, init=False, repr=False, compare=False, hash=False)
    """The ranges parsed for matching (matching.compiled), filled on first use."""


@dataclass
class ImportStats:
    advisories: int = 0
    affected: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)


class VulnDBWriter:
    """Writes a fresh database file; :meth:`commit` swaps it in atomically."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = target.with_name(f".{target.name}.{os.getpid()}.new")
        self.tmp.unlink(missing_ok=True)
        _remove_stale(target)
        self.conn = sqlite3.connect(self.tmp)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.executescript(SCHEMA)

    def add(self, adv: AdvisoryRecord, affected: list[AffectedRecord]) -> bool:
        """Insert one advisory; a repeated id (same advisory from two sources) adds its affected rows."""
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO advisory VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                adv.id,
                adv.source,
                adv.summary[:500],
                json.dumps(list(adv.aliases)),
                adv.published,
                adv.modified,
                adv.withdrawn,
                adv.severity,
                adv.score,
                adv.url,
            ),
        )
        new = cur.rowcount == 1
        self.conn.executemany(
            "INSERT INTO affected VALUES (?,?,?,?,?,?)",
            [
                (
                    a.advisory_id,
                    a.ecosystem,
                    a.name,
                    json.dumps([i.to_json() for i in a.intervals], separators=(",", ":")),
                    json.dumps(list(a.versions), separators=(",", ":")),
                    json.dumps(list(a.fixed), separators=(",", ":")),
                )
                for a in affected
            ],
        )
        return new

    def set_meta(self, key: str, value: object) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", (key, json.dumps(value)))

    def commit(self) -> None:
        self.conn.executescript(INDEXES)
        self.conn.commit()
        self.conn.close()
        os.replace(self.tmp, self.target)

    def abort(self) -> None:
        self.conn.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> VulnDBWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.abort()


STALE_AFTER_S = 6 * 3600


def _remove_stale(target: Path) -> None:
    """Half-built files left by a sync that was killed (kill -9, power loss) hours ago."""
    now = time.time()
    for old in target.parent.glob(f".{target.name}.*.new"):
        try:
            if now - old.stat().st_mtime > STALE_AFTER_S:
                old.unlink()
        except OSError:
            continue


class VulnDBMissing(FileNotFoundError):
    """No database yet: run ``shopguard vulndb sync``."""


@contextmanager
def open_readonly(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    p = path or default_path()
    if not p.exists():
        raise VulnDBMissing(
            f"no vulnerability database at {p}: run `shopguard vulndb sync` (or `--from FILE` offline)"
        )
    conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def read_meta(path: Path | None = None) -> dict[str, object]:
    with open_readonly(path) as conn:
        return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
