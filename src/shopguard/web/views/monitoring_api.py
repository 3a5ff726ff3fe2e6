"""JSON API for monitoring: monitors (list and one), maintenance windows (list, plan, end).

The same reads and writes as the Monitoring pages (``web.monitor_queries`` and the
helpers of ``views.monitoring``), the same permissions and the same audit-log entries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from shopguard.db.base import utcnow
from shopguard.monitoring import planned
from shopguard.monitoring.models import MaintenanceRecord
from shopguard.web import monitor_queries as mq
from shopguard.web.auth import Require, ctx_of
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal
from shopguard.web.views.monitoring import _catalog, _uptime_cache, end_window, monitor_detail, plan_window

router = APIRouter(prefix="/api/v1", tags=["v1"])

StatusFilter = Literal[
    "", "down", "config_error", "pending", "unknown", "maintenance", "paused", "skipped", "up"
]


class MonitorOut(BaseModel):
    key: str
    """``store/name``."""
    store: str
    name: str
    kind: str
    target: str
    status: str
    """down, config_error, pending, unknown, maintenance, paused, skipped or up."""
    since: datetime | None = None
    last_check_at: datetime | None = None
    last_message: str = ""
    maintenance: str = ""
    """Why it is in maintenance now (empty otherwise)."""
    latency_ms: float | None = None
    """The last check's response time."""
    uptime: dict[str, float | None] = Field(default_factory=dict)
    """Percent up over 24h, 7d and 30d (None: nothing was checked)."""


class MonitorPageOut(BaseModel):
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    """Monitors per state over every visible monitor (before the filters)."""
    items: list[MonitorOut]


class LatencySlotOut(BaseModel):
    start: datetime
    mean_ms: float | None
    """Mean response time of the successful checks in this half hour (None: none)."""


class IncidentOut(BaseModel):
    id: str
    started_at: datetime
    ended_at: datetime | None
    duration: str
    cause: str
    end_note: str


class MonitorDetailOut(MonitorOut):
    uptime_90d: float | None = None
    latency_24h: dict[str, float | None] = Field(default_factory=dict)
    """p50, p95 and p99 response time over 24 hours."""
    recent_latency: list[LatencySlotOut] = Field(default_factory=list)
    """The last 24 hours in 48 half-hour slots, oldest first."""
    incidents: list[IncidentOut] = Field(default_factory=list)


class WindowOut(BaseModel):
    id: int
    store: str
    monitors: list[str]
    """Empty: every monitor of the store."""
    start: datetime
    end: datetime
    reason: str
    state: Literal["planned", "active", "ended"]
    created_by: str
    ended_by: str = ""
    ended_at: datetime | None = None


class WindowIn(BaseModel):
    store: str = Field(min_length=1, max_length=200)
    monitors: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=200)
    start: datetime | None = Field(default=None, description="Default: now. Without a zone: UTC.")
    end: datetime = Field(description="At most 31 days after the start. Without a zone: UTC.")
    reason: str = Field(min_length=1, max_length=2000)


def _row_out(r: mq.MonitorRow) -> MonitorOut:
    return MonitorOut(
        key=r.key,
        store=r.store,
        name=r.name,
        kind=r.kind,
        target=r.target,
        status=r.status,
        since=r.since,
        last_check_at=r.last_check_at,
        last_message=r.last_message,
        maintenance=r.maintenance,
        latency_ms=r.latency_ms,
        uptime=dict(r.uptime or dict.fromkeys(mq.UPTIME_WINDOWS)),
    )


def _window_out(w: MaintenanceRecord, now: datetime) -> WindowOut:
    state: Literal["planned", "active", "ended"] = (
        "ended" if w.end_at <= now else "planned" if w.start_at > now else "active"
    )
    return WindowOut(
        id=w.id,
        store=w.store,
        monitors=list(w.monitors or ()),
        start=w.start_at,
        end=w.end_at,
        reason=w.reason,
        state=state,
        created_by=w.created_by,
        ended_by=w.ended_by,
        ended_at=w.ended_at,
    )


def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise HTTPException(422, {"field": field, "message": "a time out of range"}) from None


@router.get("/monitors", response_model=MonitorPageOut)
def monitors_endpoint(
    request: Request,
    me: Annotated[Principal, Depends(Require(Perm.MONITORING_READ))],
    store: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[StatusFilter, Query(description="Only monitors in this state.")] = "",
    q: Annotated[str, Query(max_length=200, description="A word of the name or target.")] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> MonitorPageOut:
    """Every monitor the caller may see, most urgent first, 50 a page (like the page)."""
    ctx = ctx_of(request)
    flt = mq.MonitorFilter(store, status, q, page)
    with ctx.db() as s:
        got = mq.monitor_page(
            s,
            _catalog(request),
            request.app.state.config,
            me.sees_store,
            flt,
            utcnow(),
            _uptime_cache(request),
        )
    return MonitorPageOut(
        total=got.total, page=page, pages=got.pages, counts=got.counts, items=[_row_out(r) for r in got.rows]
    )


@router.get("/monitors/{store}/{monitor}", response_model=MonitorDetailOut)
def monitor_endpoint(
    request: Request,
    store: Annotated[str, Path(max_length=200)],
    monitor: Annotated[str, Path(max_length=100)],
    me: Annotated[Principal, Depends(Require(Perm.MONITORING_READ))],
) -> MonitorDetailOut:
    """One monitor: state, uptime over 24h/7d/30d/90d, response times and its incidents."""
    if "/" in store:
        raise HTTPException(404, "no such monitor")
    d = monitor_detail(request, me, f"{store}/{monitor}")
    width = timedelta(hours=24) / len(d.day_lat)
    start = d.now - timedelta(hours=24)
    return MonitorDetailOut(
        **_row_out(d.row).model_dump(),
        uptime_90d=d.ups.get("90d"),
        latency_24h=d.lat,
        recent_latency=[LatencySlotOut(start=start + width * i, mean_ms=v) for i, v in enumerate(d.day_lat)],
        incidents=[
            IncidentOut(
                id=i.id,
                started_at=i.started_at,
                ended_at=i.ended_at,
                duration=i.duration,
                cause=i.cause,
                end_note=i.end_note,
            )
            for i in d.incidents
        ],
    )


@router.get("/maintenance", response_model=list[WindowOut])
def maintenance_list_endpoint(
    request: Request,
    me: Annotated[Principal, Depends(Require(Perm.MONITORING_READ))],
    store: Annotated[str, Query(max_length=200)] = "",
) -> list[WindowOut]:
    """Windows planned in the dashboard or the API: current and coming, then those that ended
    in the last 7 days. (Recurring windows of shopguard.toml are not listed here.)"""
    now = utcnow()
    scope = list(me.stores) if me.stores else None
    if store:
        scope = [store] if me.sees_store(store) else []
    with ctx_of(request).db() as s:
        rows = planned.listed(s, scope, now)
    return [_window_out(w, now) for w in rows]


@router.post("/maintenance", response_model=WindowOut, status_code=201)
def maintenance_plan_endpoint(
    request: Request, body: WindowIn, me: Annotated[Principal, Depends(Require(Perm.MONITORING_MANAGE))]
) -> WindowOut:
    """Plan a window (audit-logged as ``maintenance.create``). A bad field is a 422 naming it."""
    try:
        rec = plan_window(
            request,
            me,
            body.store,
            body.monitors,
            _utc(body.start, "start"),
            _utc(body.end, "end"),
            body.reason,
            via="api",
        )
    except planned.WindowError as exc:
        raise HTTPException(422, {"field": exc.field, "message": exc.message}) from None
    return _window_out(rec, utcnow())


@router.post("/maintenance/{window_id}/end", response_model=WindowOut)
def maintenance_end_endpoint(
    request: Request, window_id: RowId, me: Annotated[Principal, Depends(Require(Perm.MONITORING_MANAGE))]
) -> WindowOut:
    """End a window now, or cancel one that has not begun (``maintenance.end``). 409 if it has
    already ended."""
    try:
        rec = end_window(request, me, window_id, via="api")
    except planned.WindowError as exc:
        raise HTTPException(409, exc.message) from None
    return _window_out(rec, utcnow())


__all__ = ["router"]
