"""Uptime %, latency percentiles, incidents, and downsampling of old raw results."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.monitoring.models import MonitorIncidentRecord, MonitorResultRecord, MonitorRollupRecord
from shopguard.monitoring.persist import upsert

WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
COUNTED = ("up", "down")


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    idx = max(0, min(len(sorted_values) - 1, round(q / 100.0 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[idx])


@dataclass(frozen=True)
class Uptime:
    window: str
    up: int
    total: int

    @property
    def percent(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.up / self.total


def uptime(db: sessionmaker[Session], key: str, window: str, now: datetime | None = None) -> Uptime:
    """Share of counted checks (up/down, outside maintenance) that were up."""
    now = now or utcnow()
    since = now - WINDOWS[window]
    with db() as s:
        rows = s.execute(
            select(MonitorResultRecord.status, func.count())
            .where(
                MonitorResultRecord.key == key,
                MonitorResultRecord.at >= since,
                MonitorResultRecord.maintenance.is_(False),
                MonitorResultRecord.status.in_(COUNTED),
            )
            .group_by(MonitorResultRecord.status)
        ).all()
        counts = dict(rows)
        roll = s.execute(
            select(
                func.coalesce(func.sum(MonitorRollupRecord.n_up), 0),
                func.coalesce(func.sum(MonitorRollupRecord.n_down), 0),
            ).where(MonitorRollupRecord.key == key, MonitorRollupRecord.hour >= since)
        ).one()
    up = int(counts.get("up", 0)) + int(roll[0])
    down = int(counts.get("down", 0)) + int(roll[1])
    return Uptime(window, up, up + down)


def latency(
    db: sessionmaker[Session], key: str, window: str = "24h", now: datetime | None = None
) -> dict[str, float | None]:
    """p50/p95/p99 of successful checks' latency (raw rows, plus hourly rollups for older hours)."""
    now = now or utcnow()
    since = now - WINDOWS[window]
    with db() as s:
        vals: list[float] = sorted(
            float(v or 0.0)
            for (v,) in s.execute(
                select(MonitorResultRecord.latency_ms).where(
                    MonitorResultRecord.key == key,
                    MonitorResultRecord.at >= since,
                    MonitorResultRecord.status == "up",
                    MonitorResultRecord.latency_ms.is_not(None),
                )
            )
        )
        rolls = s.execute(
            select(
                MonitorRollupRecord.lat_n,
                MonitorRollupRecord.lat_p50,
                MonitorRollupRecord.lat_p95,
                MonitorRollupRecord.lat_p99,
            ).where(
                MonitorRollupRecord.key == key,
                MonitorRollupRecord.hour >= since,
                MonitorRollupRecord.lat_n > 0,
            )
        ).all()
    out: dict[str, float | None] = {}
    for i, q in enumerate((50, 95, 99), start=1):
        raw = percentile(vals, q)
        # Older hours only exist as percentiles: combine by weight (an approximation, documented).
        weight = len(vals)
        total = (raw or 0.0) * weight
        for r in rolls:
            val = r[i]
            if val is not None:
                total += float(val) * r[0]
                weight += r[0]
        out[f"p{q}"] = None if weight == 0 else total / weight
    return out


def incidents(
    db: sessionmaker[Session], key: str | None = None, limit: int = 50
) -> list[MonitorIncidentRecord]:
    with db() as s:
        q = select(MonitorIncidentRecord).order_by(MonitorIncidentRecord.started_at.desc()).limit(limit)
        if key is not None:
            q = q.where(MonitorIncidentRecord.key == key)
        return list(s.scalars(q))


def downsample(
    db: sessionmaker[Session],
    raw_days: dict[str, float],
    default_days: float = 7.0,
    rollup_days: float = 400.0,
    now: datetime | None = None,
    max_hours: int = 48,
) -> int:
    """Roll raw results older than their store's retention into hourly rows; delete them.

    ``raw_days`` maps a key prefix (``store/``) to days. Works an hour at a time
    (bounded memory) and at most ``max_hours`` per call. Returns raw rows removed."""
    now = now or utcnow()
    oldest_cutoff = now - timedelta(days=min([default_days, *raw_days.values()]))
    removed = 0
    for _ in range(max_hours):
        with db.begin() as s:
            first = s.scalar(
                select(func.min(MonitorResultRecord.at)).where(MonitorResultRecord.at < oldest_cutoff)
            )
            if first is None:
                break
            hour = first.replace(minute=0, second=0, microsecond=0)
            end = hour + timedelta(hours=1)
            rows = s.execute(
                select(
                    MonitorResultRecord.id,
                    MonitorResultRecord.key,
                    MonitorResultRecord.status,
                    MonitorResultRecord.latency_ms,
                    MonitorResultRecord.maintenance,
                    MonitorResultRecord.at,
                ).where(MonitorResultRecord.at >= hour, MonitorResultRecord.at < min(end, oldest_cutoff))
            ).all()
            groups: dict[str, list[tuple[str, float | None, bool]]] = defaultdict(list)
            ids: list[int] = []
            for rid, key, status, lat, maint, at in rows:
                days = next((d for p, d in raw_days.items() if key.startswith(p)), default_days)
                if at >= now - timedelta(days=days):
                    continue
                groups[key].append((status, lat, maint))
                ids.append(rid)
            if not ids:
                # Everything in this hour belongs to stores with longer retention.
                oldest_cutoff = hour
                continue
            existing = {
                r.key: r
                for r in s.scalars(
                    select(MonitorRollupRecord).where(
                        MonitorRollupRecord.hour == hour, MonitorRollupRecord.key.in_(list(groups))
                    )
                )
            }
            out = []
            for key, items in groups.items():
                ups = sum(1 for st, _l, m in items if st == "up" and not m)
                downs = sum(1 for st, _l, m in items if st == "down" and not m)
                lats: list[float] = sorted(
                    float(lat) for st, lat, _m in items if st == "up" and lat is not None
                )
                prev = existing.get(key)
                row = {
                    "key": key,
                    "hour": hour,
                    "n": len(items) + (prev.n if prev else 0),
                    "n_up": ups + (prev.n_up if prev else 0),
                    "n_down": downs + (prev.n_down if prev else 0),
                    "n_excluded": len(items) - ups - downs + (prev.n_excluded if prev else 0),
                    "lat_n": len(lats) + (prev.lat_n if prev else 0),
                    "lat_p50": percentile(lats, 50) if lats else (prev.lat_p50 if prev else None),
                    "lat_p95": percentile(lats, 95) if lats else (prev.lat_p95 if prev else None),
                    "lat_p99": percentile(lats, 99) if lats else (prev.lat_p99 if prev else None),
                    "lat_max": lats[-1] if lats else (prev.lat_max if prev else None),
                }
                out.append(row)
            upsert(s, MonitorRollupRecord, out, ["key", "hour"])
            for i in range(0, len(ids), 500):
                s.execute(delete(MonitorResultRecord).where(MonitorResultRecord.id.in_(ids[i : i + 500])))
            removed += len(ids)
    with db.begin() as s:
        s.execute(
            delete(MonitorRollupRecord).where(MonitorRollupRecord.hour < now - timedelta(days=rollup_days))
        )
    return removed
