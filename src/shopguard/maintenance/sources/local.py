"""The offline source: the synced SQLite database, one query per batch of names."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from shopguard.maintenance.matching import Match, is_affected, merge_duplicates
from shopguard.maintenance.model import Component
from shopguard.maintenance.sources.interface import SourceError
from shopguard.maintenance.vulndb.db import (
    AdvisoryRecord,
    AffectedRecord,
    Interval,
    VulnDBMissing,
    open_readonly,
)

_CHUNK = 500


class LocalSource:
    name = "local"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def query(self, components: Sequence[Component]) -> dict[Component, list[Match]]:
        """Advisories per component. Each database row is checked once per distinct version of its
        package (a shop lists the same library in many lockfiles), and components that share every
        (key, version) share one merged answer."""
        versions: dict[tuple[str, str], set[str]] = defaultdict(set)
        keys_of: dict[int, tuple[tuple[str, str], ...]] = {}
        for n, c in enumerate(components):
            if c.version:
                keys = keys_of[n] = tuple(dict.fromkeys(c.keys))
                for key in keys:
                    versions[key].add(c.advisory_version)
        by_eco: dict[str, list[str]] = defaultdict(list)
        for eco, name in versions:
            by_eco[eco].append(name)
        # (key, version) -> [(row number, match)]: the row number keeps the order a per-component
        # scan would give, so merging duplicates picks the same record either way
        hits: dict[tuple[tuple[str, str], str], list[tuple[int, Match]]] = defaultdict(list)
        seq = 0
        try:
            with open_readonly(self.path) as conn:
                has_fixed = _has_fixed_column(conn)
                for eco, names in by_eco.items():
                    for i in range(0, len(names), _CHUNK):
                        for adv, aff in _rows(conn, eco, names[i : i + _CHUNK], has_fixed):
                            seq += 1
                            key = (eco, aff.name)
                            match: Match | None = None
                            for version in versions[key]:
                                if is_affected(eco, version, aff):
                                    match = match or Match(adv, aff)
                                    hits[(key, version)].append((seq, match))
        except VulnDBMissing as exc:
            raise SourceError(str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise SourceError(
                f"vulnerability database unreadable: {exc}; run `shopguard vulndb sync`"
            ) from exc
        merged: dict[tuple[tuple[str, str], ...], list[Match]] = {}
        out: dict[Component, list[Match]] = {}
        for n, c in enumerate(components):
            if not c.version:
                continue
            keys = keys_of[n]
            sig = (*keys, ("", c.advisory_version))
            ms = merged.get(sig)
            if ms is None:
                lists = [hits.get((k, c.advisory_version), []) for k in keys]
                ordered = lists[0] if len(lists) == 1 else sorted(x for lst in lists for x in lst)
                ms = merged[sig] = merge_duplicates(m for _, m in ordered)
            if ms:
                out[c] = list(ms)
        return out


def _has_fixed_column(conn: sqlite3.Connection) -> bool:
    """Databases synced by an earlier release have no ``fixed`` column; they still match."""
    return any(row[1] == "fixed" for row in conn.execute("PRAGMA table_info(affected)"))


def _rows(
    conn: sqlite3.Connection, eco: str, names: list[str], has_fixed: bool = True
) -> list[tuple[AdvisoryRecord, AffectedRecord]]:
    marks = ",".join("?" * len(names))
    fixed = "f.fixed" if has_fixed else "'[]'"
    # the only interpolations are a run of "?" placeholders and one of two fixed column expressions
    sql = (
        f"SELECT f.name, f.ranges, f.versions, {fixed}, a.id, a.source, a.summary, a.aliases,"  # noqa: S608
        " a.published, a.modified,"
        " a.severity, a.score, a.url FROM affected f JOIN advisory a ON a.id = f.advisory_id"
        f" WHERE f.ecosystem = ? AND f.name IN ({marks}) AND a.withdrawn IS NULL"
    )
    out = []
    for name, ranges, versions, fixed, vid, src, summary, aliases, pub, mod, sev, score, url in conn.execute(
        sql, (eco, *names)
    ):
        adv = AdvisoryRecord(vid, src, summary, tuple(json.loads(aliases)), pub, mod, None, sev, score, url)
        aff = AffectedRecord(
            vid,
            eco,
            name,
            tuple(Interval.from_json(v) for v in json.loads(ranges)),
            tuple(json.loads(versions)) if versions != "[]" else (),
            tuple(json.loads(fixed)) if fixed != "[]" else (),
        )
        out.append((adv, aff))
    return out
