"""What the fleet is doing: workers, queue depths, lag, failures; Prometheus export."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.cluster.models import ClusterTask
from shopguard.cluster.settings import ClusterSettings
from shopguard.db.base import utcnow


@dataclass(frozen=True)
class FleetStatus:
    workers: dict[str, int] = field(default_factory=dict)
    """worker name -> tasks active now"""
    queues: dict[str, int | None] = field(default_factory=dict)
    """queue -> messages waiting (None: the broker does not know the queue yet)"""
    tasks_by_status: dict[str, int] = field(default_factory=dict)
    lag_p50_s: float | None = None
    lag_p99_s: float | None = None
    """Time from enqueue to start, over tasks started in the window."""
    duration_p50_s: float | None = None
    duration_p99_s: float | None = None
    window_minutes: int = 15


def queue_depths(app: Celery, queues: tuple[str, ...]) -> dict[str, int | None]:
    """Messages waiting per queue, asked of the broker (RabbitMQ or Redis)."""
    out: dict[str, int | None] = {}
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=4)
        for q in queues:
            ch = conn.channel()
            try:
                out[q] = int(ch.queue_declare(queue=q, passive=True).message_count)
            except Exception:  # amqp: NOT_FOUND closes the channel; the queue does not exist yet
                out[q] = None
            finally:
                with contextlib.suppress(Exception):
                    ch.close()
    return out


def workers(app: Celery, timeout: float = 1.0) -> dict[str, int]:
    active = app.control.inspect(timeout=timeout).active() or {}
    return {name: len(tasks or []) for name, tasks in sorted(active.items())}


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def task_stats(db: sessionmaker[Session], window_minutes: int = 15) -> dict[str, object]:
    since = utcnow() - timedelta(minutes=window_minutes)
    with db() as s:
        by_status = dict(
            s.execute(select(ClusterTask.status, func.count()).group_by(ClusterTask.status)).all()
        )
        rows = s.execute(
            select(ClusterTask.enqueued_at, ClusterTask.started_at, ClusterTask.finished_at).where(
                ClusterTask.started_at >= since
            )
        ).all()
    lags = [(st - enq).total_seconds() for enq, st, _ in rows if enq is not None]
    durs = [(fin - st).total_seconds() for _, st, fin in rows if fin is not None]
    return {
        "tasks_by_status": {str(k): int(v) for k, v in by_status.items()},
        "lag_p50_s": _pct(lags, 50),
        "lag_p99_s": _pct(lags, 99),
        "duration_p50_s": _pct(durs, 50),
        "duration_p99_s": _pct(durs, 99),
    }


def fleet_status(app: Celery, cs: ClusterSettings, db: sessionmaker[Session]) -> FleetStatus:
    stats = task_stats(db)
    return FleetStatus(
        workers=workers(app),
        queues=queue_depths(app, cs.queues),
        tasks_by_status=stats["tasks_by_status"],  # type: ignore[arg-type]
        lag_p50_s=stats["lag_p50_s"],  # type: ignore[arg-type]
        lag_p99_s=stats["lag_p99_s"],  # type: ignore[arg-type]
        duration_p50_s=stats["duration_p50_s"],  # type: ignore[arg-type]
        duration_p99_s=stats["duration_p99_s"],  # type: ignore[arg-type]
    )


class FleetCollector:
    """Prometheus collector: reads the broker and the task table at scrape time, so it
    works with any worker pool (no multi-process metric files)."""

    def __init__(self, app: Celery, cs: ClusterSettings, db: sessionmaker[Session]) -> None:
        self.app, self.cs, self.db = app, cs, db

    def collect(self) -> Iterator[object]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        depth = GaugeMetricFamily("shopguard_queue_depth", "Tasks waiting in a queue", labels=["queue"])
        try:
            for q, n in queue_depths(self.app, self.cs.queues).items():
                depth.add_metric([q], float(n or 0))
            up = 1.0
        except Exception:
            up = 0.0
        yield depth
        yield GaugeMetricFamily("shopguard_broker_up", "1 when the broker answered the scrape", value=up)
        stats = task_stats(self.db)
        tasks = CounterMetricFamily("shopguard_tasks", "Tasks by final or current status", labels=["status"])
        for status, n in dict(stats["tasks_by_status"]).items():  # type: ignore[call-overload]
            tasks.add_metric([status], float(n))
        yield tasks
        failed = CounterMetricFamily("shopguard_task_failures", "Tasks that ended failed or poisoned")
        by = dict(stats["tasks_by_status"])  # type: ignore[call-overload]
        failed.add_metric([], float(by.get("failed", 0) + by.get("poisoned", 0)))
        yield failed
        for name, key, helptext in (
            ("shopguard_task_lag_p50_seconds", "lag_p50_s", "Enqueue-to-start lag, median, last 15 min"),
            ("shopguard_task_lag_p99_seconds", "lag_p99_s", "Enqueue-to-start lag, p99, last 15 min"),
            ("shopguard_task_duration_p50_seconds", "duration_p50_s", "Task run time, median, last 15 min"),
            ("shopguard_task_duration_p99_seconds", "duration_p99_s", "Task run time, p99, last 15 min"),
        ):
            v = stats[key]
            yield GaugeMetricFamily(name, helptext, value=float(v) if v is not None else float("nan"))  # type: ignore[arg-type]


def start_exporter(app: Celery, cs: ClusterSettings, db: sessionmaker[Session], port: int) -> None:
    from prometheus_client import REGISTRY, start_http_server

    REGISTRY.register(FleetCollector(app, cs, db))  # type: ignore[arg-type]
    start_http_server(port, addr="127.0.0.1")
