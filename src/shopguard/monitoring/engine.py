"""The monitoring daemon: one asyncio loop, fixed-rate scheduling, alerts, storage.

Scheduling: every monitor fires at ``anchor + k * interval`` on the loop's
monotonic clock (``loop.call_at``), so start times do not drift or jitter and a
wall-clock jump does not move them. Each check runs in its own task with its own
timeout: a hung target never delays another. If a check is still running when
its next start comes, that start is skipped (counted), never queued.

Timestamps: the daemon's "now" is a steady wall clock (wall time at start plus
monotonic time since). When the system clock jumps, the jump is logged, the
steady clock re-anchors, and every remembered time is shifted by the jump so
durations (heartbeat age, reminder spacing) stay right.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gc
import logging
import math
import os
import socket
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, Store
from shopguard.monitoring import AlertEvent, emit
from shopguard.monitoring.channels import Delivery, notify_type, render, route, send
from shopguard.monitoring.defaults import monitors_for, target_of
from shopguard.monitoring.interface import ConfigProblem, ProbeContext, ProbeResult, Status
from shopguard.monitoring.maintenance import in_maintenance
from shopguard.monitoring.models import MonitorAlertRecord, MonitorStateRecord
from shopguard.monitoring.persist import Writer
from shopguard.monitoring.probes import Probe, probe_for
from shopguard.monitoring.settings import MaintenanceWindow, Monitor
from shopguard.monitoring.state import Announcement, MonitorState, Transition, new_id

log = logging.getLogger(__name__)

START_RATE = 200.0
PLANNED_REFRESH_S = 5.0
"""How often the daemon re-reads maintenance windows planned in the dashboard."""


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _ts(dt: datetime | None) -> float | None:
    return None if dt is None else dt.timestamp()


@dataclass
class Monitored:
    key: str
    store: Store
    spec: Monitor
    probe: Probe | None
    state: MonitorState
    confirm: int
    target: str
    config_error: str = ""
    running: bool = False
    skipped: int = 0
    persisted: bool = False
    last_down_since: float | None = None
    gauge: Any = None
    lat_gauge: Any = None


class Daemon:
    def __init__(
        self,
        config: Config,
        db: sessionmaker[Session] | None,
        stores: Sequence[Store] | None = None,
        *,
        listen: tuple[str, int] | None = None,
        flush_interval: float = 1.0,
        db_wait_s: float = 5.0,
        downsample_every_s: float = 3600.0,
        wall: Callable[[], float] = time.time,
        max_connections: int = 2000,
        blocking_threads: int = 8,
    ) -> None:
        self.config = config
        self.db = db
        self.stores = list(stores if stores is not None else config.stores)
        self.listen = listen
        self.flush_interval = flush_interval
        self.db_wait_s = db_wait_s
        self.downsample_every_s = downsample_every_s
        self._wall = wall
        self.max_connections = max_connections
        self.blocking_threads = blocking_threads
        self.monitors: dict[str, Monitored] = {}
        self.writer: Writer | None = Writer(db) if db is not None else None
        self.lateness: deque[float] = deque(maxlen=200_000)
        self.checks_done = 0
        self.alerts_sent: deque[AlertEvent] = deque(maxlen=1000)
        self.bound_port: int | None = None
        self._anchor_wall = wall()
        self._anchor_mono = time.monotonic()
        self.clock_jumps: list[float] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._alert_tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()
        self._started_at = 0.0
        self.metrics: Any = None
        self.planned: dict[str, tuple[MaintenanceWindow, ...]] = {}
        """Maintenance windows planned in the dashboard, per store (re-read every few seconds)."""
        self._build()

    # -- time --
    def now(self) -> float:
        return self._anchor_wall + (time.monotonic() - self._anchor_mono)

    def check_clock(self) -> float:
        """Detect a wall-clock jump (> 2 s); re-anchor and shift remembered times."""
        jump = self._wall() - self.now()
        if abs(jump) <= 2.0:
            return 0.0
        log.warning("system clock jumped by %+.0f s; schedules are unaffected, timestamps re-anchored", jump)
        self.clock_jumps.append(jump)
        self._anchor_wall = self._wall()
        self._anchor_mono = time.monotonic()
        self._started_at += jump
        for m in self.monitors.values():
            st = m.state
            for name in (
                "since",
                "first_fail_at",
                "last_check_at",
                "last_alert_at",
                "last_beat_at",
                "incident_started",
            ):
                val = getattr(st, name)
                if val is not None:
                    setattr(st, name, val + jump)
            st.changes = [t + jump for t in st.changes]
        return jump

    # -- setup --
    def _build(self) -> None:
        for store in self.stores:
            try:
                specs = monitors_for(store)
            except Exception as exc:  # pydantic re-validation of derived monitors
                log.error("store %s: cannot derive monitors: %s", store.name, exc)
                continue
            policy = store.monitors.alerting
            names = {s.name for s in specs}
            for spec in specs:
                key = f"{store.name}/{spec.name}"
                err = ""
                probe: Probe | None = None
                try:
                    probe = probe_for(spec.kind)
                except KeyError:
                    err = f"unknown monitor kind {spec.kind!r}"
                missing = [d for d in spec.depends_on if d not in names]
                if missing:
                    err = f"depends_on names unknown monitor(s): {', '.join(missing)}"
                self.monitors[key] = Monitored(
                    key=key,
                    store=store,
                    spec=spec,
                    probe=probe,
                    state=MonitorState(key),
                    confirm=spec.confirm or policy.confirm,
                    target=target_of(spec),
                    config_error=err,
                )

    def load_planned(self) -> None:
        """Re-read the dashboard's maintenance windows that have not ended yet."""
        from shopguard.monitoring.models import MaintenanceRecord

        if self.db is None:
            return
        now = _dt(self.now())
        found: dict[str, list[MaintenanceWindow]] = {}
        with self.db() as s:
            for r in s.scalars(select(MaintenanceRecord).where(MaintenanceRecord.end_at > now)):
                found.setdefault(r.store, []).append(
                    MaintenanceWindow(
                        start=r.start_at, end=r.end_at, monitors=tuple(r.monitors or ()), reason=r.reason
                    )
                )
        self.planned = {k: tuple(v) for k, v in found.items()}

    def _load(self) -> list[MonitorAlertRecord]:
        if self.db is None:
            return []
        try:
            self.load_planned()
        except Exception as exc:  # an old schema without the table: config windows still work
            log.warning("cannot read planned maintenance windows: %s", exc)
        with self.db() as s:
            rows = {r.key: r for r in s.scalars(select(MonitorStateRecord))}
            pending = list(s.scalars(select(MonitorAlertRecord).where(MonitorAlertRecord.sent_at.is_(None))))
        for key, m in self.monitors.items():
            r = rows.get(key)
            if r is None:
                continue
            st = m.state
            st.status = r.status
            st.announced = r.announced
            st.since = _ts(r.since)
            st.fails = r.fails
            st.oks = r.oks
            st.first_fail_at = _ts(r.first_fail_at)
            st.last_check_at = _ts(r.last_check_at)
            st.last_message = r.last_message
            st.last_alert_at = _ts(r.last_alert_at)
            st.reminders = r.reminders
            st.incident_id = r.incident_id
            st.changes = list(r.changes or [])
            st.data = dict(r.data or {})
            st.last_beat_at = _ts(r.last_beat_at)
            st.incident_started = st.since if st.status == "down" else None
            m.persisted = True
        return pending

    # -- persistence helpers --
    def _state_row(self, m: Monitored) -> dict[str, Any]:
        st = m.state
        return {
            "key": m.key,
            "store": m.store.name,
            "name": m.spec.name,
            "kind": m.spec.kind,
            "target": m.target[:500],
            "severity": m.spec.severity,
            "status": st.status,
            "announced": st.announced,
            "since": _dt(st.since),
            "fails": st.fails,
            "oks": min(st.oks, 1_000_000),
            "first_fail_at": _dt(st.first_fail_at),
            "last_check_at": _dt(st.last_check_at),
            "last_message": st.last_message[:2000],
            "last_alert_at": _dt(st.last_alert_at),
            "reminders": st.reminders,
            "incident_id": st.incident_id,
            "changes": st.changes[-50:],
            "data": st.data,
            "last_beat_at": _dt(st.last_beat_at),
            "updated_at": _dt(self.now()),
        }

    def _persist_state(self, m: Monitored, urgent: bool) -> int:
        m.persisted = True
        if self.writer is None:
            return 0
        return self.writer.put_state(self._state_row(m), urgent)

    # -- heartbeats --
    def last_beat(self, key: str) -> float | None:
        m = self.monitors.get(key)
        return None if m is None else m.state.last_beat_at

    def record_beat(self, store: str, name: str, token: str | None) -> tuple[int, str]:
        """Handle a push: (HTTP status, message). Never says why a token is wrong."""
        from shopguard.monitoring.secrets import resolve

        m = self.monitors.get(f"{store}/{name}")
        if m is None or m.spec.kind != "heartbeat":
            return 404, "no such heartbeat monitor"
        try:
            want = resolve(getattr(m.spec, "token", None), self.config.allow_inline_secrets, "token")
        except ConfigProblem:
            return 500, "heartbeat token is misconfigured"
        if want is not None:
            import hmac

            if token is None or not hmac.compare_digest(want.encode(), token.encode()):
                return 403, "wrong or missing token"
        m.state.last_beat_at = self.now()
        self._persist_state(m, urgent=False)
        if m.state.status == "down" and not m.running:
            self._start_check(m)
        return 200, "ok"

    # -- scheduling --
    def _schedule(self, m: Monitored, loop: asyncio.AbstractEventLoop) -> None:
        """Fixed phases spread evenly over each interval (deterministic, no jitter).

        Small setups also get one immediate check at start (ramped at START_RATE a
        second) so that ``--status`` has something to show at once; long-interval
        jobs (scheduled audits) keep their cadence across restarts."""
        now = loop.time()
        interval = m.spec.interval_s
        frac = (zlib.crc32(m.key.encode()) % 10_000) / 10_000.0
        last = m.state.last_check_at
        if last is not None and interval > 300:
            due = now + max(0.0, last + interval - self.now())
            loop.call_at(due, self._fire, m, due)
            return
        due = now + frac * interval
        loop.call_at(due, self._fire, m, due)
        ramp = len(self.monitors) / START_RATE
        if ramp <= 5.0 and frac * interval > ramp + 1.0:
            loop.call_at(now + frac * ramp, self._fire_once, m)

    def _fire_once(self, m: Monitored) -> None:
        if not self._stop.is_set() and not m.running:
            self._start_check(m)

    def _fire(self, m: Monitored, due: float) -> None:
        if self._stop.is_set():
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.lateness.append(now - due)
        if self.metrics is not None:
            self.metrics.lateness.observe(max(0.0, now - due))
        interval = m.spec.interval_s
        nxt = due + interval
        if nxt <= now:  # overloaded or suspended: skip the missed starts, keep the phase
            nxt = due + interval * (math.floor((now - due) / interval) + 1)
        loop.call_at(nxt, self._fire, m, nxt)
        if m.running:
            m.skipped += 1
            return
        self._start_check(m)

    def _start_check(self, m: Monitored) -> None:
        m.running = True
        task = asyncio.get_running_loop().create_task(self._check(m))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_probe(self, m: Monitored) -> ProbeResult:
        if m.config_error:
            return ProbeResult(Status.CONFIG_ERROR, m.config_error)
        assert m.probe is not None
        limit = m.spec.timeout_s + 1.0
        try:
            return await asyncio.wait_for(m.probe(m.spec, m.key, self.ctx), timeout=limit)
        except TimeoutError:
            return ProbeResult(Status.DOWN, f"no answer within {m.spec.timeout_s:g} s")
        except ConfigProblem as exc:
            return ProbeResult(Status.CONFIG_ERROR, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a target answering garbage must not kill the loop
            log.debug("probe %s failed", m.key, exc_info=True)
            return ProbeResult(Status.DOWN, f"check failed: {type(exc).__name__}: {str(exc)[:200]}")

    async def _check(self, m: Monitored) -> None:
        started = self.now()
        try:
            result = await self._run_probe(m)
        finally:
            m.running = False
        self.checks_done += 1
        self.handle(m, result, started)

    # -- decisions --
    def _maintenance(self, m: Monitored, now: float) -> str:
        try:
            windows = m.store.monitors.maintenance + self.planned.get(m.store.name, ())
            return in_maintenance(windows, m.spec.name, now)
        except ConfigProblem as exc:
            log.warning("store %s: %s", m.store.name, exc)
            return ""

    def suppression(self, m: Monitored, now: float) -> str:
        reason = self._maintenance(m, now)
        if reason:
            return f"maintenance: {reason}"
        for parent in m.spec.depends_on:
            p = self.monitors.get(f"{m.store.name}/{parent}")
            if p is None:
                continue
            if p.state.status == "down" or p.state.fails > 0:
                return f"dependency: {parent} is down"
            # Parent just came back: wait for this monitor's own next check before telling.
            if p.state.since is not None and (m.state.last_check_at or 0) < p.state.since:
                return f"dependency: {parent} just recovered"
        return ""

    def handle(self, m: Monitored, result: ProbeResult, started: float) -> None:
        now = self.now()
        st = m.state
        policy = m.store.monitors.alerting
        maint = bool(self._maintenance(m, now))
        if self.writer is not None:
            self.writer.add_result(
                {
                    "key": m.key,
                    "at": _dt(started),
                    "status": result.status.value,
                    "latency_ms": result.latency_ms,
                    "message": result.message[:300],
                    "maintenance": maint,
                }
            )
        before = (st.status, st.announced, st.fails, st.incident_id)
        old_data = dict(st.data)
        if "content_sha256" in result.data:
            st.data["content_sha256"] = result.data["content_sha256"]
        transition = st.observe(result, now, policy, m.confirm)
        if transition is not None:
            self._record_transition(m, transition)
        anns: list[Announcement] = []
        if "changed_from" in result.data and not maint:
            last = st.data.get("changed_alert_at")
            if not isinstance(last, float) or now - last >= policy.flap_window_s:  # no storm for busy pages
                st.data["changed_alert_at"] = now
                what = (
                    "scripts, frames or form targets"
                    if getattr(m.spec, "watch_scripts", False)
                    else "content"
                )
                anns.append(
                    Announcement("changed", now, f"the page {what} changed (hash differs)", st.incident_id)
                )
        ann = st.reconcile(now, policy, self.suppression(m, now))
        if ann is not None:
            anns.append(ann)
        if transition is not None and transition.to == "down":
            reason = self.suppression(m, now)
            if reason:
                st.data["incident_suppressed"] = reason[:32]
                self._incident_row(m, transition)
        urgent = transition is not None or bool(anns)
        changed = (st.status, st.announced, st.fails, st.incident_id) != before or st.data != old_data
        if urgent or changed or not m.persisted or st.status != "up" or m.spec.interval_s >= 300:
            gen = self._persist_state(m, urgent)
        else:
            gen = 0
        for a in anns:
            self._announce(m, a, gen)
        if self.metrics is not None:
            self.metrics.observe(m, result)

    def _incident_row(self, m: Monitored, t: Transition) -> None:
        if self.writer is None or t.incident_id is None:
            return
        self.writer.put_incident(
            {
                "id": t.incident_id,
                "key": m.key,
                "store": m.store.name,
                "monitor": m.spec.name,
                "started_at": _dt(t.started_at if t.started_at is not None else t.at),
                "ended_at": _dt(t.at) if t.to == "up" else None,
                "cause": m.state.last_message[:2000] if t.to == "down" else self._cause_of(m, t),
                "end_note": t.cause[:2000] if t.to == "up" else "",
                "suppressed": str(m.state.data.get("incident_suppressed", ""))[:32],
            }
        )

    def _cause_of(self, m: Monitored, t: Transition) -> str:
        return str(m.state.data.get("incident_cause", ""))

    def _record_transition(self, m: Monitored, t: Transition) -> None:
        if t.to == "down":
            m.state.data["incident_cause"] = t.cause[:500]
            self._incident_row(m, t)
        elif t.to == "up":
            m.last_down_since = t.started_at
            self._incident_row(m, t)
            m.state.data.pop("incident_cause", None)
            m.state.data.pop("incident_suppressed", None)

    def _announce(self, m: Monitored, ann: Announcement, gen: int) -> None:
        st = m.state
        down_since = st.since if ann.event in {"down", "reminder"} else None
        if ann.event == "up":
            down_since = m.last_down_since
        event = AlertEvent(
            store=m.store.name,
            monitor=m.spec.name,
            kind=m.spec.kind,
            event=ann.event,
            severity=m.spec.severity,
            cause=ann.cause,
            at=_dt(ann.at) or datetime.now(UTC),
            incident_id=ann.incident_id,
            down_since=_dt(down_since),
            target=m.target,
        )
        row: dict[str, Any] = {
            "id": new_id(),
            "key": m.key,
            "store": m.store.name,
            "monitor": m.spec.name,
            "event": ann.event,
            "severity": event.severity,
            "cause": ann.cause[:2000],
            "incident_id": ann.incident_id,
            "created_at": event.at,
            "sent_at": None,
            "delivered": [],
            "failed": [],
            "payload": {"target": m.target, "kind": m.spec.kind, "down_since": down_since},
        }
        if self.writer is not None:
            gen = max(gen, self.writer.put_alert(row))
        self._spawn_delivery(self._deliver(m, event, row, gen))

    def _spawn_delivery(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._alert_tasks.add(task)
        task.add_done_callback(self._alert_tasks.discard)

    async def _deliver(self, m: Monitored | None, event: AlertEvent, row: dict[str, Any], gen: int) -> None:
        # Outbox first: the alert (and the state change behind it) is durable before
        # it leaves, so a restart sends an alert that never left. Then an "attempted"
        # mark is stored before sending: a crash in the middle of a delivery is not
        # followed by a second copy (at most once; reminders cover a lost one).
        only = tuple(m.spec.channels) if m is not None else ()
        channels = route(self.config.alerts, event.severity, only)
        if self.writer is not None:
            if channels:
                payload = {**(row.get("payload") or {}), "attempted_at": datetime.now(UTC).isoformat()}
                row = {**row, "payload": payload}
                gen = max(gen, self.writer.put_alert(row))
            if not await self.writer.wait_committed(gen, self.db_wait_s):
                log.warning(
                    "database unavailable; sending alert for %s/%s before it is stored",
                    event.store,
                    event.monitor,
                )
        title, body = render(event)
        delivery = Delivery((), ())
        if channels:
            loop = asyncio.get_running_loop()
            delivery = await loop.run_in_executor(
                self._alert_pool, send, channels, title, body, notify_type(event.event)
            )
        self.alerts_sent.append(event)
        emit(event)
        if self.writer is not None:
            self.writer.put_alert(
                {
                    **row,
                    "sent_at": datetime.now(UTC),
                    "delivered": list(delivery.delivered),
                    "failed": list(delivery.failed),
                }
            )

    # -- the loop --
    def _make_ctx(self) -> ProbeContext:
        # A fresh connection per check, as a new customer would open: a kept-alive
        # connection can keep answering from a server whose listener is already gone.
        limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=0)
        headers = {"User-Agent": "ShopGuard-monitor", "Connection": "close"}
        ctx = ProbeContext(
            http=httpx.AsyncClient(limits=limits, headers=headers, trust_env=False),
            # verify=False only for monitors configured with verify_tls = false (self-signed staging)
            http_insecure=httpx.AsyncClient(limits=limits, headers=headers, verify=False, trust_env=False),  # noqa: S501
            blocking=concurrent.futures.ThreadPoolExecutor(
                self.blocking_threads, thread_name_prefix="shopguard-probe"
            ),
            last_beat=self.last_beat,
            started_wall=self.now(),
            wall=self.now,
            allow_inline_secrets=self.config.allow_inline_secrets,
        )
        if self.db is not None:
            ctx.extra["_audit_runner"] = self._run_audit
        return ctx

    def _run_audit(self, store: str, selectors: tuple[str, ...], timeout: float) -> Any:
        from shopguard.audit import run_audit

        assert self.db is not None
        stores = [s for s in self.stores if s.name == store]
        return run_audit(
            self.config, stores, self.db, selectors=list(selectors), kind="monitor", timeout=timeout
        )

    async def run(
        self, stop: asyncio.Event | None = None, ready: Callable[[Daemon], None] | None = None
    ) -> None:
        """Run until ``stop`` is set (or the task is cancelled)."""
        if stop is not None:
            self._stop = stop
        loop = asyncio.get_running_loop()
        pending = await loop.run_in_executor(None, self._load) if self.db is not None else []
        self.ctx = self._make_ctx()
        for m in self.monitors.values():  # page baselines survive a restart: a change made meanwhile is seen
            if "content_sha256" in m.state.data:
                self.ctx.extra[m.key] = {"content_sha256": m.state.data["content_sha256"]}
        self._alert_pool = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="shopguard-alert")
        self._started_at = self.now()
        from shopguard.monitoring.metrics import Metrics

        self.metrics = Metrics(self)
        server = None
        if self.listen is not None:
            from shopguard.monitoring.server import start_server

            server = await start_server(self, *self.listen)
            self.bound_port = server.sockets[0].getsockname()[1]
        background: list[asyncio.Task[Any]] = []
        if self.writer is not None:
            background.append(loop.create_task(self.writer.run(self.flush_interval, self._stop)))
            background.append(loop.create_task(self._housekeeping()))
        background.append(loop.create_task(self._clock_watch()))
        for row in pending:
            self._resend(row)
        for m in self.monitors.values():
            if not m.spec.enabled:
                continue
            self._schedule(m, loop)
        gc.freeze()  # thousands of long-lived monitor objects: keep them out of GC scans
        if not self.config.alerts:
            log.warning("no alert channel configured: outages are recorded but nobody is told")
        if ready is not None:
            ready(self)
        try:
            await self._stop.wait()
        finally:
            self._stop.set()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._alert_tasks:  # let alerts already decided go out (bounded)
                await asyncio.wait(list(self._alert_tasks), timeout=self.db_wait_s + 10.0)
                for t in list(self._alert_tasks):
                    t.cancel()
            if server is not None:
                server.close()
            if self.writer is not None:
                await self.writer.flush()
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.ctx.http.aclose()
            await self.ctx.http_insecure.aclose()
            self.ctx.blocking.shutdown(wait=False, cancel_futures=True)
            self._alert_pool.shutdown(wait=False)
            if self.writer is not None:
                self.writer.close()

    def _resend(self, row: MonitorAlertRecord) -> None:
        """An alert stored but not sent before a crash goes out now (if still recent)."""
        age = self.now() - row.created_at.timestamp()
        m = self.monitors.get(row.key)
        data = {c.name: getattr(row, c.name) for c in MonitorAlertRecord.__table__.columns}
        attempted = bool((row.payload or {}).get("attempted_at"))
        if age > 86400 or m is None or attempted:
            why = "delivery unknown: stopped while sending" if attempted else "expired before sending"
            if self.writer is not None:
                self.writer.put_alert({**data, "sent_at": datetime.now(UTC), "failed": [why]})
            return
        event = AlertEvent(
            store=row.store,
            monitor=row.monitor,
            kind=m.spec.kind,
            event=row.event,
            severity=row.severity,
            cause=row.cause,
            at=row.created_at,
            incident_id=row.incident_id,
            down_since=_dt((row.payload or {}).get("down_since")),
            target=m.target,
        )
        self._spawn_delivery(self._deliver(m, event, data, 0))

    async def _clock_watch(self) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(1.0)
            self.check_clock()

    async def _housekeeping(self) -> None:
        from shopguard.monitoring.stats import downsample

        assert self.writer is not None and self.db is not None
        host = socket.gethostname()
        started = _dt(self.now())
        last_ds = time.monotonic()
        raw_days = {f"{s.name}/": s.monitors.raw_retention_days for s in self.stores}
        roll_days = max([s.monitors.rollup_retention_days for s in self.stores] or [400.0])
        while not self._stop.is_set():
            self.writer.put_daemon(
                {
                    "hostname": host,
                    "pid": os.getpid(),
                    "started_at": started,
                    "last_seen": _dt(self.now()),
                    "monitors": len(self.monitors),
                    "stores": ",".join(s.name for s in self.stores)[:2000],
                }
            )
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.load_planned)
            except Exception as exc:
                log.warning("cannot read planned maintenance windows (will retry): %s", exc)
            if time.monotonic() - last_ds >= self.downsample_every_s:
                last_ds = time.monotonic()
                try:
                    await asyncio.get_running_loop().run_in_executor(
                        None,
                        lambda: downsample(self.db, raw_days, rollup_days=roll_days),  # type: ignore[arg-type]
                    )
                except Exception as exc:
                    log.warning("downsampling failed (will retry): %s", exc)
                keep = self.config.storage.keep_runs_days
                if keep is not None:  # [storage] keep_runs_days: prune old runs as well
                    from shopguard.db.retention import prune_runs

                    batch = self.config.storage.prune_batch_size
                    try:
                        await asyncio.get_running_loop().run_in_executor(
                            None, functools.partial(prune_runs, self.db, keep, batch=batch)
                        )
                    except Exception as exc:
                        log.warning("pruning old runs failed (will retry): %s", exc)
            await asyncio.sleep(min(PLANNED_REFRESH_S, self.downsample_every_s))
