"""Buffered, batched writes to ShopGuard's database, with retry.

Results, state rows, incidents and alert outbox rows are queued in memory and
written in one transaction per flush (every second, or at once when a state
changes). When the database is locked or gone the batch stays queued and the
flush is retried with back-off: nothing is lost while the process lives (the
raw-result buffer is bounded; overflow drops the oldest results and counts them).
Writes happen in one dedicated thread so a slow database never blocks the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections import deque
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from shopguard.monitoring.models import (
    MonitorAlertRecord,
    MonitorDaemonRecord,
    MonitorIncidentRecord,
    MonitorResultRecord,
    MonitorStateRecord,
)

log = logging.getLogger(__name__)


def upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    ins: Any = sqlite.insert if dialect == "sqlite" else postgresql.insert
    stmt = ins(model)
    cols = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols})
    session.execute(stmt, rows)


class Writer:
    def __init__(self, db: sessionmaker[Session], max_buffer: int = 500_000) -> None:
        self.db = db
        self.max_buffer = max_buffer
        self.results: deque[dict[str, Any]] = deque()
        self.states: dict[str, dict[str, Any]] = {}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.alerts: dict[str, dict[str, Any]] = {}
        self.daemon: dict[str, Any] | None = None
        self.generation = 0
        """Bumped by every change that must be durable before alerts go out."""
        self.committed = 0
        self.dropped = 0
        self.rows_written = 0
        self.flushes = 0
        self.failures = 0
        self.last_error = ""
        self._wake = asyncio.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="shopguard-db")
        self._lock = asyncio.Lock()

    # -- queueing (loop thread) --
    def add_result(self, row: dict[str, Any]) -> None:
        self.results.append(row)
        if len(self.results) > self.max_buffer:
            self.results.popleft()
            self.dropped += 1

    def put_state(self, row: dict[str, Any], urgent: bool = False) -> int:
        self.states[row["key"]] = row
        return self._bump(urgent)

    def put_incident(self, row: dict[str, Any]) -> int:
        self.incidents[row["id"]] = row
        return self._bump(True)

    def put_alert(self, row: dict[str, Any]) -> int:
        self.alerts[row["id"]] = row
        return self._bump(True)

    def put_daemon(self, row: dict[str, Any]) -> None:
        self.daemon = row

    def _bump(self, urgent: bool) -> int:
        self.generation += 1
        if urgent:
            self._wake.set()
        return self.generation

    @property
    def pending(self) -> int:
        return len(self.results) + len(self.states) + len(self.incidents) + len(self.alerts)

    # -- flushing --
    async def flush(self) -> bool:
        """Write everything queued; False (and everything still queued) on failure."""
        async with self._lock:
            gen = self.generation
            results = list(self.results)
            self.results.clear()
            states, self.states = self.states, {}
            incidents, self.incidents = self.incidents, {}
            alerts, self.alerts = self.alerts, {}
            daemon, self.daemon = self.daemon, None
            if not (results or states or incidents or alerts or daemon):
                self.committed = gen
                return True
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(
                    self._pool, self._write, results, states, incidents, alerts, daemon
                )
            except Exception as exc:
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                # Put back, keeping newer queued versions of the same rows.
                self.results.extendleft(reversed(results))
                while len(self.results) > self.max_buffer:
                    self.results.popleft()
                    self.dropped += 1
                self.states = {**states, **self.states}
                self.incidents = {**incidents, **self.incidents}
                self.alerts = {**alerts, **self.alerts}
                if self.daemon is None:
                    self.daemon = daemon
                return False
            self.committed = gen
            self.flushes += 1
            self.rows_written += len(results) + len(states) + len(incidents) + len(alerts)
            return True

    def _write(
        self,
        results: list[dict[str, Any]],
        states: dict[str, dict[str, Any]],
        incidents: dict[str, dict[str, Any]],
        alerts: dict[str, dict[str, Any]],
        daemon: dict[str, Any] | None,
    ) -> None:
        with self.db.begin() as s:
            if results:
                s.execute(insert(MonitorResultRecord), results)
            upsert(s, MonitorStateRecord, list(states.values()), ["key"])
            upsert(s, MonitorIncidentRecord, list(incidents.values()), ["id"])
            upsert(s, MonitorAlertRecord, list(alerts.values()), ["id"])
            if daemon:
                upsert(s, MonitorDaemonRecord, [daemon], ["hostname"])

    async def run(self, interval: float = 1.0, stop: asyncio.Event | None = None) -> None:
        """Flush every ``interval`` (or when woken); back off while the DB fails."""
        backoff = interval
        while stop is None or not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            ok = await self.flush()
            if ok:
                if backoff > interval:
                    log.warning("database writable again; %d queued rows written", self.rows_written)
                backoff = interval
            else:
                if backoff == interval:
                    log.warning("cannot write to the database (%s); buffering and retrying", self.last_error)
                backoff = min(backoff * 2, 30.0)

    async def wait_committed(self, gen: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while self.committed < gen:
            if time.monotonic() >= end:
                return False
            self._wake.set()
            await asyncio.sleep(0.02)
        return True

    def close(self) -> None:
        self._pool.shutdown(wait=True)
