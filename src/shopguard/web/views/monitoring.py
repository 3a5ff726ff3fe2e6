"""Monitoring: every monitor's state and uptime, one monitor's charts, downtime incidents,
and maintenance windows (planned and ended here by owners and admins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopguard.db.base import utcnow
from shopguard.monitoring import planned
from shopguard.monitoring.models import MonitorStateRecord
from shopguard.web import auditlog, nav
from shopguard.web import monitor_queries as mq
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, _stores, need
from shopguard.web.permissions import Perm, Principal
from shopguard.web.svg import line_chart, uptime_bar

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


@router.get("/monitoring/monitor")
def monitor_page(
    request: Request,
    me: Annotated[Principal, need(Perm.MONITORING_READ)],
    key: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    from shopguard.monitoring.stats import WINDOWS, latency

    ctx = ctx_of(request)
    store = key.partition("/")[0]
    if not key or not me.sees_store(store):
        raise HTTPException(404, "no such monitor")
    now = utcnow()
    with ctx.db() as s:
        state = s.get(MonitorStateRecord, key)
        conf = _catalog(request).get(key)
        if state is None and conf is None:
            raise HTTPException(404, "no such monitor")
        day_bars, day_lat = mq.slots(s, key, now, timedelta(hours=24), 48, "%H:%M")
        month_bars, _ = mq.slots(s, key, now, timedelta(days=30), 30, "%Y-%m-%d")
        incidents = mq.incidents(s, None, now, key=key, limit=50)
        ups = mq.uptimes(s, [key], now, WINDOWS).get(key, dict.fromkeys(WINDOWS))
    lat = latency(ctx.db, key, "24h", now)
    name = key.partition("/")[2]
    return _render(
        request,
        "monitor.html",
        {
            "key": key,
            "store": store,
            "name": name,
            "state": state,
            "conf": conf,
            "ups": ups,
            "lat": lat,
            "incidents": incidents,
            "bar_day": uptime_bar(day_bars, f"Uptime of {key}, last 24 hours (30-minute slots)"),
            "bar_month": uptime_bar(month_bars, f"Uptime of {key}, last 30 days (one bar a day)"),
            "latency_chart": line_chart(
                day_lat,
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
    ctx = ctx_of(request)
    try:
        known = set(_stores(ctx, request, me)) | {c.store for c in _catalog(request).values()}
        if not store or store not in known or not me.sees_store(store):
            raise planned.WindowError("store", "choose one of your stores")
        begin = _parse_time(start, "start") if start.strip() else utcnow()
        if not end.strip():
            raise planned.WindowError("end", "say when the maintenance ends (UTC)")
        finish = _parse_time(end, "end")
        names = [m.strip() for m in monitors.split(",") if m.strip()]
        with ctx.write() as s:
            rec = planned.plan(
                s, store, begin, finish, reason, me.email, names, _store_monitors(request, store)
            )
            auditlog.record(
                s,
                me.email,
                "maintenance.create",
                f"maintenance {rec.id} ({store})",
                client_ip(request),
                {"start": rec.start_at, "end": rec.end_at, "monitors": rec.monitors, "reason": rec.reason},
            )
    except planned.WindowError as exc:
        return _page(request, me, mq.MonitorFilter(), {f"mw_{exc.field}": exc.message}, form, 400)
    _uptime_cache(request).invalidate_states()  # the planned or ended window shows at once
    return RedirectResponse("/monitoring#maintenance", status_code=303)


@router.post("/monitoring/maintenance/end")
def maintenance_end(
    request: Request,
    me: Annotated[Principal, need(Perm.MONITORING_MANAGE)],
    window_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    from shopguard.monitoring.models import MaintenanceRecord

    ctx = ctx_of(request)
    with ctx.write() as s:
        rec = s.get(MaintenanceRecord, window_id)
        if rec is None or not me.sees_store(rec.store):
            raise HTTPException(404, "no such maintenance window")
        try:
            planned.end(s, window_id, me.email)
        except planned.WindowError as exc:
            raise HTTPException(400, exc.message) from None
        auditlog.record(
            s, me.email, "maintenance.end", f"maintenance {window_id} ({rec.store})", client_ip(request)
        )
    _uptime_cache(request).invalidate_states()  # the planned or ended window shows at once
    return RedirectResponse("/monitoring#maintenance", status_code=303)
