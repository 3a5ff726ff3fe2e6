"""Read models for the monitoring pages.

The monitor list is small per row (2,000 monitors are a few hundred kilobytes), so it is
read whole, merged with the configured monitors (paused ones never get a state row) and
paginated in Python; the expensive part, uptime over 30 days of results, is aggregated in
SQL for the page's monitors only.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from shopguard.config import Config
from shopguard.monitoring.maintenance import in_maintenance
from shopguard.monitoring.models import (
    MaintenanceRecord,
    MonitorIncidentRecord,
    MonitorResultRecord,
    MonitorRollupRecord,
    MonitorStateRecord,
)
from shopguard.monitoring.settings import MaintenanceWindow
from shopguard.web.svg import Slot
from shopguard.web.ttlcache import TTLCache

PAGE_SIZE = 50
UPTIME_CACHE_S = 30.0
LATEST_SLACK = timedelta(hours=1, minutes=5)
STATES_CACHE_S = 5.0
UPTIME_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
STATUSES = ("down", "config_error", "pending", "unknown", "maintenance", "paused", "skipped", "up")
"""Display states, most urgent first (the list is sorted this way)."""
_ORDER = {s: i for i, s in enumerate(STATUSES)}


@dataclass(frozen=True)
class Configured:
    key: str
    store: str
    name: str
    kind: str
    target: str
    enabled: bool


def configured(config: Config | None) -> dict[str, Configured]:
    """Every monitor the config defines (derived defaults included), paused ones too."""
    from shopguard.monitoring.defaults import monitors_for, target_of

    out: dict[str, Configured] = {}
    if config is None:
        return out
    for store in config.stores:
        try:
            active = monitors_for(store)
        except Exception:  # a store whose derived monitors do not validate: the daemon logs it
            active = []
        for spec in active:
            key = f"{store.name}/{spec.name}"
            out[key] = Configured(key, store.name, spec.name, spec.kind, target_of(spec), True)
        for spec in store.monitors.monitors:
            key = f"{store.name}/{spec.name}"
            if not spec.enabled or not store.monitors.enabled:
                out[key] = Configured(key, store.name, spec.name, spec.kind, target_of(spec), False)
    return out


def windows_by_store(s: Session, config: Config | None, now: datetime) -> dict[str, list[MaintenanceWindow]]:
    """Config windows plus the dashboard's planned ones that have not ended."""
    found: dict[str, list[MaintenanceWindow]] = defaultdict(list)
    if config is not None:
        for store in config.stores:
            found[store.name].extend(store.monitors.maintenance)
    for r in s.scalars(select(MaintenanceRecord).where(MaintenanceRecord.end_at > now)):
        found[r.store].append(
            MaintenanceWindow(
                start=r.start_at, end=r.end_at, monitors=tuple(r.monitors or ()), reason=r.reason
            )
        )
    return found


@dataclass
class MonitorRow:
    key: str
    store: str
    name: str
    kind: str
    target: str
    status: str
    """Display state: one of STATUSES."""
    since: datetime | None = None
    last_check_at: datetime | None = None
    maintenance: str = ""
    last_message: str = ""
    latency_ms: float | None = None
    uptime: dict[str, float | None] | None = None


@dataclass(frozen=True)
class MonitorFilter:
    store: str = ""
    status: str = ""
    q: str = ""
    page: int = 1

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.status and self.status not in STATUSES:
            errors["status"] = f"one of {', '.join(STATUSES)}"
        return errors


@dataclass
class MonitorPage:
    rows: list[MonitorRow]
    total: int
    counts: dict[str, int]
    pages: int


StateRow = tuple[str, str, str, str, str, str, datetime | None, datetime | None]


def read_states(s: Session, key: str | None = None) -> list[StateRow]:
    """Every monitor's light columns (key, store, name, kind, target, status, since, last check);
    only ``key``'s when given."""
    m = MonitorStateRecord
    q = select(m.key, m.store, m.name, m.kind, m.target, m.status, m.since, m.last_check_at)
    if key is not None:
        q = q.where(m.key == key)
    return [tuple(r) for r in s.execute(q)]  # type: ignore[misc]


def merged_rows(
    s: Session,
    light: Sequence[StateRow],
    catalog: dict[str, Configured],
    config: Config | None,
    visible: Any,
    now: datetime,
) -> dict[str, MonitorRow]:
    """State rows merged with the configured monitors (paused ones never get a state row),
    each with its display state (maintenance and paused included)."""
    rows: dict[str, MonitorRow] = {}
    for key, store, name, kind, target, status, since, last in light:
        if visible(store):
            rows[key] = MonitorRow(key, store, name, kind, target, status, since, last)
    for c in catalog.values():
        if not visible(c.store):
            continue
        row = rows.get(c.key)
        if row is None:
            rows[c.key] = row = MonitorRow(c.key, c.store, c.name, c.kind, c.target, "pending")
        if not c.enabled:
            row.status = "paused"
    windows = windows_by_store(s, config, now)
    now_ts = now.timestamp()
    for row in rows.values():
        ws = windows.get(row.store)
        if ws and row.status != "paused":
            reason = in_maintenance(ws, row.name, now_ts)
            if reason:
                row.maintenance = reason
                row.status = "maintenance"
        if row.status not in _ORDER:
            row.status = "unknown"
    return rows


def display_rows(
    s: Session,
    light: Sequence[StateRow],
    catalog: dict[str, Configured],
    config: Config | None,
    visible: Any,
    now: datetime,
) -> tuple[list[MonitorRow], dict[str, int]]:
    """Every visible monitor with its display state, most urgent first, and the count per state."""
    rows = merged_rows(s, light, catalog, config, visible, now)
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows.values():
        counts[row.status] += 1
    ordered = sorted(rows.values(), key=lambda r: (_ORDER[r.status], r.key))
    return ordered, counts


def monitor_page(
    s: Session,
    catalog: dict[str, Configured],
    config: Config | None,
    visible: Any,
    flt: MonitorFilter,
    now: datetime,
    cache: UptimeCache | None = None,
    scope: tuple[str, ...] | None = None,
) -> MonitorPage:
    """One page of monitors (most urgent first) with uptime and last latency.

    ``visible(store) -> bool`` says which stores the user sees; ``scope`` names that set (the
    user's store list, empty for all) so that, with ``cache``, users who see the same stores
    share the sorted list for a few seconds instead of rebuilding 2,000 rows per load."""
    if cache is not None and scope is not None:
        ordered, counts = cache.display(
            s, scope, lambda light: display_rows(s, light, catalog, config, visible, now)
        )
    else:
        light = cache.states(s) if cache is not None else read_states(s)
        ordered, counts = display_rows(s, light, catalog, config, visible, now)
    needle = flt.q.strip().lower()
    chosen = [
        r
        for r in ordered
        if (not flt.store or r.store == flt.store)
        and (not flt.status or r.status == flt.status)
        and (not needle or needle in r.key.lower() or needle in r.target.lower())
    ]
    total = len(chosen)
    pages = max(1, -(-total // PAGE_SIZE))
    # Copies: the page's rows get their uptime and latency filled in; the shared list stays as read.
    page = [replace(r) for r in chosen[(flt.page - 1) * PAGE_SIZE : flt.page * PAGE_SIZE]]
    _fill(s, page, now, cache)
    return MonitorPage(page, total, dict(counts), pages)


def monitor_row(
    s: Session,
    catalog: dict[str, Configured],
    config: Config | None,
    key: str,
    now: datetime,
    uptime: dict[str, float | None] | None = None,
) -> MonitorRow | None:
    """One monitor as the list shows it (display state, uptime, last latency), or None.
    ``uptime``: its 24h/7d/30d uptime when the caller has already computed it."""
    conf = {key: catalog[key]} if key in catalog else {}
    row = merged_rows(s, read_states(s, key), conf, config, lambda _store: True, now).get(key)
    if row is not None:
        _fill(s, [row], now, known={key: uptime} if uptime is not None else None)
    return row


class UptimeCache:
    """What the list reads for every load, kept briefly: uptime per monitor for ``ttl``
    seconds (30 days of results per monitor is the costly part, and it barely moves between
    two page loads) and the light state rows of every monitor for ``states_ttl`` seconds."""

    def __init__(self, ttl: float = UPTIME_CACHE_S, states_ttl: float = STATES_CACHE_S) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, dict[str, float | None]]] = {}
        self._states: TTLCache[tuple[float, list[StateRow]]] = TTLCache(states_ttl, background=True)
        self._display: dict[tuple[str, ...], tuple[float, tuple[list[MonitorRow], dict[str, int]]]] = {}

    def _read(self, s: Session) -> tuple[float, list[StateRow]]:
        def read() -> tuple[float, list[StateRow]]:
            with Session(s.get_bind()) as own:  # may run on the cache's refresh thread
                return time.monotonic(), read_states(own)

        return self._states.get("states", read)

    def states(self, s: Session) -> list[StateRow]:
        return self._read(s)[1]

    def display(
        self,
        s: Session,
        scope: tuple[str, ...],
        build: Callable[[list[StateRow]], tuple[list[MonitorRow], dict[str, int]]],
    ) -> tuple[list[MonitorRow], dict[str, int]]:
        """The sorted display rows for one scope, rebuilt when the state rows are re-read."""
        at, light = self._read(s)
        with self._lock:
            hit = self._display.get(scope)
        if hit is not None and hit[0] == at:
            return hit[1]
        value = build(light)
        with self._lock:
            if len(self._display) > 256:
                self._display.clear()
            self._display[scope] = (at, value)
        return value

    def invalidate_states(self) -> None:
        self._states.clear()
        with self._lock:
            self._display.clear()

    def get(self, s: Session, keys: Sequence[str], now: datetime) -> dict[str, dict[str, float | None]]:
        clock = time.monotonic()
        fresh: dict[str, dict[str, float | None]] = {}
        with self._lock:
            for k in keys:
                hit = self._values.get(k)
                if hit is not None and clock - hit[0] < self.ttl:
                    fresh[k] = hit[1]
        missing = [k for k in keys if k not in fresh]
        if missing:
            got = uptimes(s, missing, now)
            empty: dict[str, float | None] = dict.fromkeys(UPTIME_WINDOWS)
            with self._lock:
                if len(self._values) > 50_000:
                    self._values.clear()
                for k in missing:
                    fresh[k] = got.get(k, empty)
                    self._values[k] = (clock, fresh[k])
        return fresh


def _fill(
    s: Session,
    page: list[MonitorRow],
    now: datetime,
    cache: UptimeCache | None = None,
    known: dict[str, dict[str, float | None]] | None = None,
) -> None:
    """Uptime (24h/7d/30d), last message and last latency for one page of monitors
    (``known``: uptimes already computed, by key)."""
    keys = [r.key for r in page]
    if not keys:
        return
    if known is not None:
        ups = known
    else:
        ups = cache.get(s, keys, now) if cache is not None else uptimes(s, keys, now)
    for r in page:
        r.uptime = ups.get(r.key, dict.fromkeys(UPTIME_WINDOWS))
    msgs = dict(
        s.execute(
            select(MonitorStateRecord.key, MonitorStateRecord.last_message).where(
                MonitorStateRecord.key.in_(keys)
            )
        ).all()
    )
    checked = [r.last_check_at for r in page if r.last_check_at is not None]
    latest = last_latency(s, keys, min(checked) if checked else now)
    for r in page:
        r.last_message = msgs.get(r.key, "")
        r.latency_ms = latest.get(r.key)


def last_latency(s: Session, keys: Sequence[str], oldest_check: datetime) -> dict[str, float | None]:
    """The newest result's latency per monitor, in one query. ``oldest_check``: the oldest
    last-check time among ``keys`` (a result is stored with the time its check started, at
    most a check's timeout before it ended), so only the last hour or so is read."""
    r = MonitorResultRecord
    ranked = (
        select(
            r.key, r.latency_ms, func.row_number().over(partition_by=r.key, order_by=r.at.desc()).label("rn")
        )
        .where(r.key.in_(list(keys)), r.at >= oldest_check - LATEST_SLACK)
        .subquery()
    )
    return {k: lat for k, lat in s.execute(select(ranked.c.key, ranked.c.latency_ms).where(ranked.c.rn == 1))}


def uptimes(
    s: Session, keys: Sequence[str], now: datetime, windows: dict[str, timedelta] = UPTIME_WINDOWS
) -> dict[str, dict[str, float | None]]:
    """Uptime % per window for ``keys``: raw results and hourly rollups, one pass each."""
    since = {w: now - d for w, d in windows.items()}
    oldest = min(since.values())
    r = MonitorResultRecord
    cols: list[Any] = []
    for w in windows:
        cols.append(func.sum(case((and_(r.at >= since[w], r.status == "up"), 1), else_=0)))
        cols.append(func.sum(case((r.at >= since[w], 1), else_=0)))
    raw = s.execute(
        select(r.key, *cols)
        .where(r.key.in_(list(keys)), r.at >= oldest, r.maintenance.is_(False), r.status.in_(("up", "down")))
        .group_by(r.key)
    ).all()
    h = MonitorRollupRecord
    rcols: list[Any] = []
    for w in windows:
        rcols.append(func.sum(case((h.hour >= since[w], h.n_up), else_=0)))
        rcols.append(func.sum(case((h.hour >= since[w], h.n_up + h.n_down), else_=0)))
    rolled = s.execute(
        select(h.key, *rcols).where(h.key.in_(list(keys)), h.hour >= oldest).group_by(h.key)
    ).all()
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * (2 * len(windows)))
    for row in [*raw, *rolled]:
        acc = sums[row[0]]
        for i, v in enumerate(row[1:]):
            acc[i] += int(v or 0)
    out: dict[str, dict[str, float | None]] = {}
    for key, acc in sums.items():
        out[key] = {
            w: (100.0 * acc[2 * i] / acc[2 * i + 1] if acc[2 * i + 1] else None)
            for i, w in enumerate(windows)
        }
    return out


@dataclass(frozen=True)
class SlotSpec:
    """``n`` equal slots over the last ``span``, labelled with ``label_fmt``."""

    span: timedelta
    n: int
    label_fmt: str


def slot_sets(
    s: Session, key: str, now: datetime, specs: Sequence[SlotSpec]
) -> list[tuple[list[Slot], list[float | None]]]:
    """For each spec, an uptime bar and the mean latency of up checks per slot. The results
    and rollups are read once, over the longest span, and binned into every spec."""
    starts = [(now - sp.span).timestamp() for sp in specs]
    widths = [sp.span.total_seconds() / sp.n for sp in specs]
    up = [[0] * sp.n for sp in specs]
    down = [[0] * sp.n for sp in specs]
    excl = [[0] * sp.n for sp in specs]
    lat_sum = [[0.0] * sp.n for sp in specs]
    lat_n = [[0] * sp.n for sp in specs]
    oldest = now - max(sp.span for sp in specs)

    def bins(ts: float) -> list[tuple[int, int]]:
        out = []
        for j, sp in enumerate(specs):
            if ts >= starts[j]:
                out.append((j, min(sp.n - 1, max(0, int((ts - starts[j]) / widths[j])))))
        return out

    r = MonitorResultRecord
    for at, status, lat, maint in s.execute(
        select(r.at, r.status, r.latency_ms, r.maintenance).where(r.key == key, r.at >= oldest)
    ):
        for j, i in bins(at.timestamp()):
            if maint or status not in ("up", "down"):
                excl[j][i] += 1
            elif status == "up":
                up[j][i] += 1
                if lat is not None:
                    lat_sum[j][i] += float(lat)
                    lat_n[j][i] += 1
            else:
                down[j][i] += 1
    h = MonitorRollupRecord
    for hour, n_up, n_down, n_ex, ln, p50 in s.execute(
        select(h.hour, h.n_up, h.n_down, h.n_excluded, h.lat_n, h.lat_p50).where(
            h.key == key, h.hour >= oldest
        )
    ):
        for j, i in bins(hour.timestamp()):
            up[j][i] += n_up
            down[j][i] += n_down
            excl[j][i] += n_ex
            if ln and p50 is not None:  # only the hour's median survives downsampling
                lat_sum[j][i] += float(p50) * ln
                lat_n[j][i] += ln
    out = []
    for j, sp in enumerate(specs):
        start = now - sp.span
        width = sp.span / sp.n
        bars = [
            Slot(f"{(start + width * i):{sp.label_fmt}} UTC", up[j][i], down[j][i], excl[j][i])
            for i in range(sp.n)
        ]
        lats = [lat_sum[j][i] / lat_n[j][i] if lat_n[j][i] else None for i in range(sp.n)]
        out.append((bars, lats))
    return out


@dataclass(frozen=True)
class IncidentRow:
    id: str
    key: str
    store: str
    monitor: str
    started_at: datetime
    ended_at: datetime | None
    cause: str
    end_note: str
    suppressed: str
    duration: str


def duration_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m}m"
    if m:
        return f"{m}m {sec}s"
    return f"{sec}s"


def incidents(
    s: Session, stores: Sequence[str] | None, now: datetime, key: str | None = None, limit: int = 50
) -> list[IncidentRow]:
    """Newest downtime first, ongoing ones on top."""
    i = MonitorIncidentRecord
    q = select(i).order_by(i.ended_at.is_not(None), i.started_at.desc()).limit(limit)
    if stores is not None:
        q = q.where(i.store.in_(list(stores)))
    if key is not None:
        q = q.where(i.key == key)
    return [
        IncidentRow(
            r.id,
            r.key,
            r.store,
            r.monitor,
            r.started_at,
            r.ended_at,
            r.cause,
            r.end_note,
            r.suppressed,
            duration_text(((r.ended_at or now) - r.started_at).total_seconds()),
        )
        for r in s.scalars(q)
    ]
