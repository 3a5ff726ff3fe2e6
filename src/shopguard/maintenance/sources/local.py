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
        by_key: dict[tuple[str, str], list[Component]] = defaultdict(list)
        for c in components:
            if c.version:
                for key in c.keys:
                    by_key[key].append(c)
        by_eco: dict[str, list[str]] = defaultdict(list)
        for eco, name in by_key:
            by_eco[eco].append(name)
        found: dict[Component, list[Match]] = defaultdict(list)
        try:
            with open_readonly(self.path) as conn:
                for eco, names in by_eco.items():
                    for i in range(0, len(names), _CHUNK):
                        for adv, aff in _rows(conn, eco, names[i : i + _CHUNK]):
                            for comp in by_key[(eco, aff.name)]:
                                if is_affected(eco, comp.advisory_version, aff):
                                    found[comp].append(Match(adv, aff))
        except VulnDBMissing as exc:
            raise SourceError(str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise SourceError(
                f"vulnerability database unreadable: {exc}; run `shopguard vulndb sync`"
            ) from exc
        return {c: merge_duplicates(ms) for c, ms in found.items()}


def _rows(
    conn: sqlite3.Connection, eco: str, names: list[str]
) -> list[tuple[AdvisoryRecord, AffectedRecord]]:
    marks = ",".join("?" * len(names))
    # the only interpolation is a run of "?" placeholders
    sql = (
        "SELECT f.name, f.ranges, f.versions, a.id, a.source, a.summary, a.aliases, a.published, a.modified,"  # noqa: S608
        " a.severity, a.score, a.url FROM affected f JOIN advisory a ON a.id = f.advisory_id"
        f" WHERE f.ecosystem = ? AND f.name IN ({marks}) AND a.withdrawn IS NULL"
    )
    out = []
    for name, ranges, versions, vid, src, summary, aliases, pub, mod, sev, score, url in conn.execute(
        sql, (eco, *names)
    ):
        adv = AdvisoryRecord(vid, src, summary, tuple(json.loads(aliases)), pub, mod, None, sev, score, url)
        aff = AffectedRecord(
            vid,
            eco,
            name,
            tuple(Interval.from_json(v) for v in json.loads(ranges)),
            tuple(json.loads(versions)),
        )
        out.append((adv, aff))
    return out
