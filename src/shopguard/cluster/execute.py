"""The work of one task, without Celery: claim, run, store; idempotent per task id.

The first delivery of a task creates its run and a ``cluster_tasks`` row in one
transaction. A redelivery (the worker was killed, the database restarted) clears
what the earlier attempt had written into that run and runs it again, so every task
ends as exactly one run; findings are upserted by (store, fingerprint) and never
duplicated. A delivery of a task already finished does nothing. A task whose
deliveries keep killing the worker is recorded as a check error (``poisoned``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shopguard import __version__
from shopguard.checks import Check, CheckRun, Outcome, all_checks, run_checks
from shopguard.checks import select as select_checks
from shopguard.cluster.limits import Slots
from shopguard.cluster.models import ClusterTask
from shopguard.cluster.payload import TaskPayload
from shopguard.cluster.settings import ClusterSettings
from shopguard.config import Config, Store
from shopguard.db.base import utcnow
from shopguard.db.models import CheckExecution, FindingRecord, RunFinding, RunRecord
from shopguard.db.repository import finish_run, finish_run_in, load_run, record_check

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    run_id: int
    attempts: int
    done: bool
    """The task had already finished (or was given up): nothing to do."""
    outcome: str = ""
    """For a task already done: how it ended (finished, poisoned, failed)."""
    crashes: int = 0
    """Earlier deliveries that stopped the worker (killed, crashed): every delivery is
    counted in ``attempts``, and Celery counts those that ended in a Python error (and
    were retried) in ``retries``; the others never came back."""


def _netloc(store: Store) -> str:
    parts = urlsplit(str(store.storefront_url))
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def claim(
    db: sessionmaker[Session], task_id: str, payload: TaskPayload, queue: str, worker: str, retries: int = 0
) -> Claim:
    """Start (or restart) the run of ``task_id``; counts this delivery. ``retries`` is
    Celery's count of earlier deliveries that ended in a Python error."""
    for _ in range(2):
        try:
            with db.begin() as s:
                row = s.get(ClusterTask, task_id, with_for_update=True)
                if row is not None and row.status in ("finished", "poisoned", "failed"):
                    return Claim(row.run_id or 0, row.attempts, True, row.status)
                if row is None:
                    run = _new_run(payload)
                    s.add(run)
                    s.flush()
                    row = ClusterTask(
                        task_id=task_id,
                        run_id=run.id,
                        kind=payload.kind,
                        stores=",".join(payload.stores),
                        selector=",".join(payload.selectors),
                        queue=queue,
                        status="started",
                        attempts=0,
                        worker=worker,
                        message="",
                        enqueued_at=datetime.fromtimestamp(payload.enqueued_at, UTC),
                        started_at=utcnow(),
                    )
                    s.add(row)
                elif row.run_id is None:
                    run = _new_run(payload)
                    s.add(run)
                    s.flush()
                    row.run_id = run.id
                else:
                    _reset_run(s, row.run_id)
                row.attempts += 1
                row.worker = worker
                row.started_at = utcnow()
                assert row.run_id is not None
                return Claim(row.run_id, row.attempts, False, crashes=max(0, row.attempts - 1 - retries))
        except IntegrityError:  # two deliveries raced to insert the row: the second sees it
            continue
    raise RuntimeError(f"task {task_id}: could not claim its run")


def _new_run(payload: TaskPayload) -> RunRecord:
    return RunRecord(
        kind=payload.kind,
        selector=",".join(payload.selectors),
        stores=",".join(payload.stores),
        status="running",
        tool_version=__version__,
        pid=os.getpid(),
        hostname=socket.gethostname(),
    )


def _reset_run(s: Session, run_id: int) -> None:
    """Forget what an interrupted attempt wrote into the run (it is redone whole)."""
    s.execute(delete(CheckExecution).where(CheckExecution.run_id == run_id))
    s.execute(delete(RunFinding).where(RunFinding.run_id == run_id))
    # Findings first seen by the interrupted attempt are seen anew by the redo ("new", not "open").
    s.execute(delete(FindingRecord).where(FindingRecord.first_run_id == run_id))
    run = s.get(RunRecord, run_id)
    if run is not None:
        run.status = "running"
        run.finished_at = None
        run.pid = os.getpid()
        run.hostname = socket.gethostname()


def note_error(db: sessionmaker[Session], task_id: str, message: str) -> None:
    """Remember why a delivery failed with a Python error (it is retried). Such a
    delivery is no crash; Claim.crashes tells them apart with Celery's retry count, so
    this note may be lost (the database itself may be down) without harm."""
    with db.begin() as s:
        row = s.get(ClusterTask, task_id, with_for_update=True)
        if row is not None and row.status == "started":
            row.message = message[:4000]


def plan(config: Config, payload: TaskPayload) -> tuple[list[Store], list[Check]]:
    stores = [s for name in payload.stores for s in config.store(name)]
    chosen = select_checks(all_checks(), list(payload.selectors) or None)
    return stores, chosen


def give_up(
    db: sessionmaker[Session],
    config: Config,
    task_id: str,
    payload: TaskPayload,
    run_id: int,
    message: str,
    status: str = "poisoned",
) -> dict[str, object]:
    """Record every planned check as an error and close the run as failed."""
    try:
        stores, chosen = plan(config, payload)
    except Exception as exc:  # an unknown store or selector: still close the run
        stores, chosen = [], []
        message = f"{message}; {exc}"
    for store in stores:
        for check in chosen:
            if check.applies(store):
                record_check(db, run_id, CheckRun(check.id, store.name, Outcome.ERROR, [], message))
    finish_run(db, run_id, "failed")
    with db.begin() as s:
        row = s.get(ClusterTask, task_id)
        if row is not None:
            row.status = status
            row.message = message[:4000]
            row.finished_at = utcnow()
    log.error("task %s %s: %s", task_id, status, message)
    return {"task_id": task_id, "run_id": run_id, "status": status, "message": message}


async def _run_store(
    config: Config,
    cs: ClusterSettings,
    slots: Slots | None,
    store: Store,
    chosen: Sequence[Check],
    db: sessionmaker[Session],
    run_id: int,
) -> None:
    def store_result(result: CheckRun) -> None:
        record_check(db, run_id, result)

    async def go() -> None:
        await run_checks(config, [store], chosen, timeout=cs.check_timeout, on_result=store_result, db=db)

    if slots is None:
        await go()
        return
    limits = [
        (slots.key("store", store.name), cs.per_store_concurrency),
        (slots.key("host", _netloc(store)), cs.per_host_concurrency),
    ]
    async with slots.hold(limits, cs.slot_wait_seconds):
        await go()


async def run_payload(
    config: Config,
    cs: ClusterSettings,
    payload: TaskPayload,
    db: sessionmaker[Session],
    run_id: int,
    redis: Redis | None,
) -> None:
    """All stores of the payload in one asyncio loop, each under its fleet-wide slots."""
    stores, chosen = plan(config, payload)
    slots = Slots(redis, cs.queue_prefix, cs.lease_seconds) if redis is not None else None
    gate = asyncio.Semaphore(cs.batch_concurrency)

    async def one(store: Store) -> None:
        async with gate:
            await _run_store(config, cs, slots, store, chosen, db, run_id)

    async with asyncio.TaskGroup() as tg:
        for store in stores:
            tg.create_task(one(store))


@dataclass
class _ProcessLoop:
    """One event loop per worker process, reused by every task it runs, and the Redis
    client of the fleet-wide slots on it. Their connections stay open between tasks:
    a new loop and new Redis connections per task cost more CPU than a light check."""

    pid: int
    runner: asyncio.Runner
    redis: dict[str, Redis]

    def redis_for(self, url: str, cs: ClusterSettings) -> Redis:
        if url not in self.redis:
            from redis.asyncio import BlockingConnectionPool

            pool = BlockingConnectionPool.from_url(url, max_connections=cs.batch_concurrency * 2, timeout=60)
            self.redis[url] = Redis(connection_pool=pool)
        return self.redis[url]


_LOOP: _ProcessLoop | None = None


def process_loop() -> _ProcessLoop:
    """This process's loop (a forked child makes its own: loops do not survive a fork)."""
    global _LOOP
    if _LOOP is None or _LOOP.pid != os.getpid():
        _LOOP = _ProcessLoop(os.getpid(), asyncio.Runner(), {})
    return _LOOP


def execute(
    config: Config,
    cs: ClusterSettings,
    db: sessionmaker[Session],
    task_id: str,
    payload: TaskPayload,
    queue: str,
    *,
    redis_url: str | None,
    worker: str = "",
    retries: int = 0,
) -> dict[str, object]:
    """Run one task to its single stored run; safe to call again for the same task id."""
    got = claim(db, task_id, payload, queue, worker or socket.gethostname(), retries)
    if got.done:
        log.info("task %s already done (run %s); redelivery ignored", task_id, got.run_id)
        return {"task_id": task_id, "run_id": got.run_id, "status": "duplicate", "outcome": got.outcome}
    if got.crashes >= cs.max_attempts:
        return give_up(
            db,
            config,
            task_id,
            payload,
            got.run_id,
            f"gave up after {got.crashes} deliveries that each stopped the worker "
            "(killed or crashed) before the task finished",
        )
    started = time.time()
    loop = process_loop()
    redis = loop.redis_for(redis_url, cs) if redis_url is not None else None
    loop.runner.run(run_payload(config, cs, payload, db, got.run_id, redis))
    with db.begin() as s:  # the run and its task end in one commit
        finish_run_in(s, got.run_id, "finished")
        row = s.get(ClusterTask, task_id)
        assert row is not None
        row.status = "finished"
        row.finished_at = utcnow()
        row.message = ""
    stored = load_run(db, got.run_id)
    from shopguard.response import after_run
    from shopguard.scanning.pages.tamper import alert_page_changes

    after_run(db, stored, config)
    alert_page_changes(db, stored, config)
    return {
        "task_id": task_id,
        "run_id": got.run_id,
        "status": "finished",
        "seconds": round(time.time() - started, 3),
        "lag_s": round(started - payload.enqueued_at, 3),
    }


def finished_task(db: sessionmaker[Session], task_id: str) -> ClusterTask | None:
    with db() as s:
        return s.scalar(select(ClusterTask).where(ClusterTask.task_id == task_id))
