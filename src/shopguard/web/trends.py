"""Open findings by severity over each store's last runs (the overview's trend column).

A run records every finding it saw with the status it had (``run_findings``); counting the
ones not resolved per run and severity gives the trend. The runs table is small (one row
per run), so "the last N runs of each store" is picked in Python from the newest runs,
and the counts are one grouped query. The result is cached until a newer run finishes.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopguard.db.models import FindingRecord, RunFinding, RunRecord
from shopguard.findings import FindingStatus

RUNS_PER_STORE = 10
SCAN_RUNS = 5000
"""How many of the newest runs are looked at to find each store's last runs."""
SHOWN = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Trend:
    store: str
    run_ids: tuple[int, ...]
    """Oldest first."""
    series: dict[str, list[int]]
    """Severity -> open findings in each of ``run_ids``."""

    def label(self) -> str:
        if not self.run_ids:
            return f"{self.store}: no finished run yet"
        last = {sev: vals[-1] for sev, vals in self.series.items()}
        counts = ", ".join(f"{n} {sev}" for sev, n in last.items())
        return f"{self.store}: open findings over the last {len(self.run_ids)} run(s); now {counts}"


def last_runs(s: Session, per_store: int = RUNS_PER_STORE) -> dict[str, list[int]]:
    """Each store's newest finished runs (newest first)."""
    out: dict[str, list[int]] = defaultdict(list)
    q = (
        select(RunRecord.id, RunRecord.stores)
        .where(RunRecord.status == "finished")
        .order_by(RunRecord.id.desc())
        .limit(SCAN_RUNS)
    )
    for rid, stores in s.execute(q):
        for name in stores.split(","):
            if name and len(out[name]) < per_store:
                out[name].append(int(rid))
    return out


def trends(s: Session, per_store: int = RUNS_PER_STORE) -> dict[str, Trend]:
    runs = last_runs(s, per_store)
    ids = sorted({rid for rids in runs.values() for rid in rids})
    counts: dict[tuple[str, int, str], int] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        q = (
            select(FindingRecord.store, RunFinding.run_id, RunFinding.severity, func.count())
            .join(FindingRecord, FindingRecord.id == RunFinding.finding_id)
            .where(RunFinding.run_id.in_(chunk), RunFinding.status != FindingStatus.RESOLVED.value)
            .group_by(FindingRecord.store, RunFinding.run_id, RunFinding.severity)
        )
        for store, rid, sev, n in s.execute(q):
            counts[(store, int(rid), sev)] = int(n)
    out: dict[str, Trend] = {}
    for store, rids in runs.items():
        order = list(reversed(rids))
        series = {sev: [counts.get((store, rid, sev), 0) for rid in order] for sev in SHOWN}
        out[store] = Trend(store, tuple(order), series)
    return out


class TrendCache:
    """Trends recomputed only when a newer run has finished."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mark: tuple[object, int] = (None, -1)
        self._value: dict[str, Trend] = {}

    def get(self, s: Session) -> dict[str, Trend]:
        mark = (
            s.scalar(select(func.max(RunRecord.finished_at)).where(RunRecord.status == "finished")),
            int(
                s.scalar(select(func.count()).select_from(RunRecord).where(RunRecord.status == "finished"))
                or 0
            ),
        )
        with self._lock:
            if mark == self._mark:
                return self._value
        value = trends(s)
        with self._lock:
            self._mark = mark
            self._value = value
        return value

    @property
    def mark(self) -> tuple[object, int]:
        """What the cached trends were computed from (the newest finished run and the count)."""
        with self._lock:
            return self._mark


def for_stores(cache: TrendCache, s: Session, stores: Sequence[str]) -> dict[str, Trend]:
    every = cache.get(s)
    return {name: every[name] for name in stores if name in every}
