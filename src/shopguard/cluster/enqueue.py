"""Publishers' side: split an audit into tasks, route them, wait for their runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from celery import Celery
from celery.result import AsyncResult

from shopguard.checks import all_checks, matches, select
from shopguard.cluster.app import Publisher, make_app
from shopguard.cluster.payload import TaskPayload
from shopguard.cluster.settings import ClusterSettings
from shopguard.cluster.urls import settings_of
from shopguard.config import Config, Store


@dataclass(frozen=True)
class Enqueued:
    task_id: str
    store: str
    queue: str
    selectors: tuple[str, ...]


def split_heavy(cs: ClusterSettings, selectors: Sequence[str] | None) -> list[tuple[str, tuple[str, ...]]]:
    """``(queue, selectors)`` parts of a selection: heavy checks (file scans, browser) go to
    their own queue so they cannot starve the rest; the light part keeps the selectors."""
    chosen = select(all_checks(), list(selectors) if selectors else None)
    heavy = [c.id for c in chosen if any(matches(c.id, h) for h in cs.heavy_selectors)]
    if not heavy:
        return [(cs.queue("default"), tuple(selectors or ()))]
    light = [c.id for c in chosen if c.id not in heavy]
    parts = [(cs.queue("heavy"), tuple(heavy))]
    if light:
        parts.insert(0, (cs.queue("default"), tuple(light)))
    return parts


def enqueue_audit(
    config: Config,
    stores: Sequence[Store],
    selectors: Sequence[str] | None = None,
    *,
    app: Celery | None = None,
    on_retry: Callable[[int, float, Exception], None] | None = None,
    schema: int | None = None,
) -> list[Enqueued]:
    """One task per store (two when the selection holds heavy checks); returns them."""
    cs = settings_of(config)
    app = app or make_app(config)
    out: list[Enqueued] = []
    parts = split_heavy(cs, selectors)
    with Publisher(app, attempts=cs.publish_attempts, on_retry=on_retry) as pub:
        for store in stores:
            for queue, sels in parts:
                payload = TaskPayload.new("audit", [store.name], sels, schema or cs.task_schema)
                out.append(Enqueued(pub.send(payload, queue), store.name, queue, sels))
    return out


def enqueue_monitors(
    config: Config,
    stores: Sequence[Store],
    selectors: Sequence[str],
    *,
    app: Celery | None = None,
    on_retry: Callable[[int, float, Exception], None] | None = None,
) -> list[Enqueued]:
    """Monitor checks in batches of ``monitor_batch_size`` stores: one task runs a batch in one
    asyncio loop, so 10,000 stores' monitors are 50 tasks, not 10,000."""
    cs = settings_of(config)
    app = app or make_app(config)
    names = [s.name for s in stores]
    out: list[Enqueued] = []
    with Publisher(app, attempts=cs.publish_attempts, on_retry=on_retry) as pub:
        for i in range(0, len(names), cs.monitor_batch_size):
            batch = names[i : i + cs.monitor_batch_size]
            payload = TaskPayload.new("monitor", batch, tuple(selectors), cs.task_schema)
            tid = pub.send(payload, cs.queue("monitor"))
            out.append(Enqueued(tid, ",".join(batch), cs.queue("monitor"), tuple(selectors)))
    return out


class WaitTimeout(TimeoutError):
    pass


def wait_for(app: Celery, task_ids: Sequence[str], timeout: float) -> list[dict[str, object]]:
    """Wait for every task's result (``{"run_id", "status", ...}``); raises the task's error."""
    deadline = time.monotonic() + timeout
    results: list[dict[str, object]] = []
    for tid in task_ids:
        left = deadline - time.monotonic()
        if left <= 0:
            raise WaitTimeout(f"task {tid} did not finish within {timeout:g} s (it stays queued)")
        res = AsyncResult(tid, app=app)
        try:
            value = res.get(timeout=left, propagate=True, interval=0.2)
        except TimeoutError as exc:
            raise WaitTimeout(f"task {tid} did not finish within {timeout:g} s (it stays queued)") from exc
        result = dict(value)
        if result.get("status") == "duplicate":
            # A redelivery (its worker died after the run was stored, before the ack)
            # found the run already done: the caller waits for the run, so report how
            # that run ended.
            result["status"] = result.get("outcome") or "finished"
            result["redelivered"] = True
        results.append(result)
    return results
