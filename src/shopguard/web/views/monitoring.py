"""Monitoring: every monitor's state and uptime, one monitor's charts, downtime incidents,
and maintenance windows (planned and ended here by owners and admins)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopguard.db.base import utcnow
from shopguard.monitoring import planned
from shopguard.monitoring.models import MaintenanceRecord, MonitorStateRecord
from shopguard.web import auditlog, nav
from shopguard.web import monitor_queries as mq
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, _stores, need
from shopguard.web.permissions import Perm, Principal
from shopguard.web.svg import Slot, line_chart, uptime_bar
from shopguard.web.ttlcache import TTLCache

router = APIRouter(include_in_schema=False)
nav.add("Monitoring", "/monitoring", Perm.MONITORING_READ, 30)


def _catalog(request: Request) -> dict[str, mq.Configured]:
    """The configured monitors, derived once per app (the config does not change while serving)."""
    cat = getattr(request.app.state, "monitor_catalog", None)
    if cat is None:
        cat = mq.configured(request.app.state.config)
        request.app.state.monitor_catalog = cat
    return cat


def _uptime_cache(request: Request) -> mq.UptimeCache:
    cache = getattr(request.app.state, "uptime_cache", None)
    if cache is None:
        cache = request.app.state.uptime_cache = mq.UptimeCache()
    return cache


def _store_monitors(request: Request, store: str) -> list[str] | None:
    """The store's monitor names when a config is loaded (None: cannot check names)."""
    if request.app.state.config is None:
        return None
    return sorted(c.name for c in _catalog(request).values() if c.store == store)


def _page(
    request: Request,
    me: Principal,
    flt: mq.MonitorFilter,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ctx = ctx_of(request)
    stores = _stores(ctx, request, me)
    errors = dict(errors or {})
    errors.update(flt.validate())
    if flt.store and not me.sees_store(flt.store):
        errors["store"] = "not a store you can see"
    now = utcnow()
    config = request.app.state.config
    with ctx.db() as s:
        if "store" in errors or "status" in errors:
            page = mq.MonitorPage([], 0, dict.fromkeys(mq.STATUSES, 0), 1)
        else:
            page = mq.monitor_page(
                s,
                _catalog(request),
                config,
                me.sees_store,
                flt,
                now,
                _uptime_cache(request),
                tuple(me.stores),
            )
        scope = list(me.stores) if me.stores else None
        incidents = mq.incidents(s, scope, now, limit=20)
        windows = planned.listed(s, scope, now)
    store_names = sorted({*stores, *(c.store for c in _catalog(request).values() if me.sees_store(c.store))})
    config_windows = []
    if config is not None:
        config_windows = [
            (st.name, w) for st in config.stores if me.sees_store(st.name) for w in st.monitors.maintenance
        ]
    return _render(
        request,
        "monitoring.html",
        {
            "page": page,
            "flt": flt,
            "errors": errors,
            "form": form or {},
            "stores": store_names,
            "statuses": mq.STATUSES,
            "incidents": incidents,
            "windows": windows,
            "config_windows": config_windows,
            "now": now,
        },
        400 if errors else status,
    )


@router.get("/monitoring")
def monitoring_page(
    request: Request,
    me: Annotated[Principal, need(Perm.MONITORING_READ)],
    store: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    return _page(request, me, mq.MonitorFilter(store, status, q, page))


@dataclass
class MonitorDetail:
    """What a monitor's page shows (and the API returns): one read for both."""

    key: str
    store: str
    name: str
    row: mq.MonitorRow
    """The monitor as the list shows it: display state, last latency, 24h/7d/30d uptime."""
    state: MonitorStateRecord | None
    conf: mq.Configured | None
    ups: dict[str, float | None]
    """Uptime over 24h, 7d, 30d and 90d."""
    lat: dict[str, float | None]
    """p50/p95/p99 response time over 24 hours."""
    day_bars: list[Slot]
    day_lat: list[float | None]
    """Mean response time of each half hour of the last 24 hours, oldest first."""
    month_bars: list[Slot]
    incidents: list[mq.IncidentRow]
    now: datetime


@dataclass(frozen=True)
class MonitorHistory:
    """A monitor's uptime, response times and bars: hundreds of rows to read and bin, and
    they barely move between two loads (a check a minute), so they are kept a few seconds."""

    ups: dict[str, float | None]
    lat: dict[str, float | None]
    day_bars: list[Slot]
    day_lat: list[float | None]
    month_bars: list[Slot]


HISTORY_CACHE_S = 15.0


def _history_cache(request: Request) -> TTLCache[MonitorHistory]:
    cache = getattr(request.app.state, "monitor_history", None)
    if cache is None:
        cache = request.app.state.monitor_history = TTLCache(HISTORY_CACHE_S, max_entries=512)
    return cache


def monitor_detail(request: Request, me: Principal, key: str) -> MonitorDetail:
    """One monitor (404 when unknown or in a store the caller does not see)."""
    from shopguard.monitoring.stats import WINDOWS, latency

    ctx = ctx_of(request)
    store = key.partition("/")[0]
    if not key or not me.sees_store(store):
        raise HTTPException(404, "no such monitor")
    now = utcnow()
    with ctx.db() as s:
        state = s.get(MonitorStateRecord, key)
        conf = _catalog(request).get(key)

        def history() -> MonitorHistory:
            ups = mq.uptimes(s, [key], now, WINDOWS).get(key, dict.fromkeys(WINDOWS))
            (day_bars, day_lat), (month_bars, _) = mq.slot_sets(
                s,
                key,
                now,
                [
                    mq.SlotSpec(timedelta(hours=24), 48, "%H:%M"),
                    mq.SlotSpec(timedelta(days=30), 30, "%Y-%m-%d"),
                ],
            )
            return MonitorHistory(ups, latency(ctx.db, key, "24h", now), day_bars, day_lat, month_bars)

        hist = _history_cache(request).get(key, history)
        ups = hist.ups
        listed = {w: ups[w] for w in mq.UPTIME_WINDOWS}
        row = mq.monitor_row(s, _catalog(request), request.app.state.config, key, now, uptime=listed)
        if (state is None and conf is None) or row is None:
            raise HTTPException(404, "no such monitor")
        incidents = mq.incidents(s, None, now, key=key, limit=50)
    lat, day_bars, day_lat, month_bars = hist.lat, hist.day_bars, hist.day_lat, hist.month_bars
    return MonitorDetail(
        key, store, key.partition("/")[2], row, state, conf, ups, lat, day_bars, day_lat, month_bars,
        incidents, now,
    )  # fmt: skip


@router.get("/monitoring/monitor")
def monitor_page(
    request: Request,
    me: Annotated[Principal, need(Perm.MONITORING_READ)],
    key: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    d = monitor_detail(request, me, key)
    now = d.now
    return _render(
        request,
        "monitor.html",
        {
            "key": key,
            "store": d.store,
            "name": d.name,
            "state": d.state,
            "conf": d.conf,
            "ups": d.ups,
            "lat": d.lat,
            "incidents": d.incidents,
            "bar_day": uptime_bar(d.day_bars, f"Uptime of {key}, last 24 hours (30-minute slots)"),
            "bar_month": uptime_bar(d.month_bars, f"Uptime of {key}, last 30 days (one bar a day)"),
            "latency_chart": line_chart(
                d.day_lat,
                f"Response time of {key}, last 24 hours (mean of each 30 minutes)",
                left=f"{now - timedelta(hours=24):%H:%M} UTC",
                right=f"{now:%H:%M} UTC",
            ),
        },
    )


def _parse_time(value: str, field: str) -> datetime:
    """A ``datetime-local`` value (no zone: the page says the times are UTC) or ISO 8601."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise planned.WindowError(field, "a date and time such as 2026-12-01T02:00 (UTC)") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def plan_window(
    request: Request,
    me: Principal,
    store: str,
    monitors: Sequence[str],
    begin: datetime | None,
    finish: datetime | None,
    reason: str,
    via: str = "",
) -> MaintenanceRecord:
    """Plan a window for one of the caller's stores, audit-logged. Raises WindowError."""
    ctx = ctx_of(request)
    known = set(_stores(ctx, request, me)) | {c.store for c in _catalog(request).values()}
    if not store or store not in known or not me.sees_store(store):
        raise planned.WindowError("store", "choose one of your stores")
    if finish is None:
        raise planned.WindowError("end", "say when the maintenance ends (UTC)")
    names = [m.strip() for m in monitors if m.strip()]
    with ctx.write() as s:
        rec = planned.plan(
            s, store, begin or utcnow(), finish, reason, me.email, names, _store_monitors(request, store)
        )
        data: dict[str, object] = {
            "start": rec.start_at,
            "end": rec.end_at,
            "monitors": rec.monitors,
            "reason": rec.reason,
        }
        if via:
            data["via"] = via
        auditlog.record(
            s, me.email, "maintenance.create", f"maintenance {rec.id} ({store})", client_ip(request), data
        )
    _uptime_cache(request).invalidate_states()  # the planned or ended window shows at once
    return rec


def end_window(request: Request, me: Principal, window_id: int, via: str = "") -> MaintenanceRecord:
    """End (or cancel) a window, audit-logged. 404 when unknown or not the caller's store;
    WindowError when it has already ended."""
    ctx = ctx_of(request)
    with ctx.write() as s:
        rec = s.get(MaintenanceRecord, window_id)
        if rec is None or not me.sees_store(rec.store):
            raise HTTPException(404, "no such maintenance window")
        planned.end(s, window_id, me.email)
        auditlog.record(
            s,
            me.email,
            "maintenance.end",
            f"maintenance {window_id} ({rec.store})",
            client_ip(request),
            {"via": via} if via else None,
        )
    _uptime_cache(request).invalidate_states()  # the planned or ended window shows at once
    return rec


@router.post("/monitoring/maintenance")
def maintenance_create(
    request: Request,
    me: Annotated[Principal, need(Perm.MONITORING_MANAGE)],
    store: Annotated[str, Form(max_length=200)] = "",
    monitors: Annotated[str, Form(max_length=4000)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    form = {"store": store, "monitors": monitors, "start": start, "end": end, "reason": reason}
    try:
        begin = _parse_time(start, "start") if start.strip() else None
        finish = _parse_time(end, "end") if end.strip() else None
        plan_window(request, me, store, monitors.split(","), begin, finish, reason)
    except planned.WindowError as exc:
        return _page(request, me, mq.MonitorFilter(), {f"mw_{exc.field}": exc.message}, form, 400)
    return RedirectResponse("/monitoring#maintenance", status_code=303)


@router.post("/monitoring/maintenance/end")
def maintenance_end(
    request: Request,
    me: Annotated[Principal, need(Perm.MONITORING_MANAGE)],
    window_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    try:
        end_window(request, me, window_id)
    except planned.WindowError as exc:
        raise HTTPException(400, exc.message) from None
    return RedirectResponse("/monitoring#maintenance", status_code=303)
