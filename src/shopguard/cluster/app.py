"""The Celery app built from ``[cluster]``, its one task, and publishing with back-off.

Task options that make delivery safe: ``acks_late`` (the message is acknowledged only
after the work is stored) with ``reject_on_worker_lost`` (a worker killed mid-task
hands the message back to the broker), and a prefetch of one (a dying worker takes
no queued tasks down with it). The work itself is idempotent per task id
(:mod:`shopguard.cluster.execute`).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery, Task
from kombu import Queue
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import SelectorError
from shopguard.cluster.payload import PayloadError, SchemaTooNew, TaskPayload
from shopguard.cluster.settings import ClusterSettings
from shopguard.cluster.urls import ClusterUrls, resolve, safe, settings_of
from shopguard.config import Config, ConfigError

log = logging.getLogger("shopguard.cluster")

TASK_NAME = "shopguard.cluster.run"


class BrokerUnavailable(ConnectionError):
    """The broker did not accept the task after every retry."""


@dataclass
class _WorkerState:
    """Per-process state of a worker: made lazily after prefork's fork."""

    config: Config
    settings: ClusterSettings
    urls: ClusterUrls
    pid: int = 0
    db: sessionmaker[Session] | None = None

    def sessions(self) -> sessionmaker[Session]:
        if self.db is None or self.pid != os.getpid():
            from shopguard.db.session import make_engine

            self.db = sessionmaker(make_engine(self.urls.database), expire_on_commit=False)
            self.pid = os.getpid()
        return self.db


_STATE: _WorkerState | None = None


def backoff(attempt: int, first: float = 0.5, cap: float = 30.0) -> float:
    """Exponential back-off with jitter: 0.5, 1, 2, 4 ... seconds (capped)."""
    return float(min(cap, first * 2 ** max(0, attempt - 1)) * (0.8 + 0.4 * random.random()))


def make_app(config: Config) -> Celery:
    """A Celery app for this config; registers the task and remembers the config."""
    global _STATE
    cs = settings_of(config)
    urls = resolve(config)
    _STATE = _WorkerState(config=config, settings=cs, urls=urls)
    app = Celery("shopguard", broker=urls.broker, backend=urls.result_backend, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=cs.queue("default"),
        task_queues=[Queue(q, routing_key=q) for q in cs.queues],
        result_expires=7 * 24 * 3600,
        broker_connection_timeout=4,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
    )
    _register(app, cs)
    return app


def _register(app: Celery, cs: ClusterSettings) -> None:
    @app.task(bind=True, name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, max_retries=None)
    def run_task(self: Task, payload: dict[str, Any]) -> dict[str, object]:
        return _run(self, payload)

    del run_task


def _run(task: Task, raw: dict[str, Any]) -> dict[str, object]:
    from shopguard.cluster.execute import execute, give_up, note_error

    assert _STATE is not None, "worker state not set: create the app with make_app()"
    cs = _STATE.settings
    task_id = str(task.request.id)
    retries = int(task.request.retries or 0)
    try:
        payload = TaskPayload.from_dict(raw)
    except SchemaTooNew as exc:
        log.error("refusing task %s: %s", task_id, exc)
        if retries < cs.refuse_retries:  # a newer worker of the fleet may take it
            raise task.retry(exc=exc, countdown=backoff(retries + 1, 2.0), max_retries=None) from None
        raise
    except PayloadError as exc:
        log.error("refusing task %s: %s", task_id, exc)
        raise
    queue = str((task.request.delivery_info or {}).get("routing_key") or "")
    db = _STATE.sessions()
    worker = f"{task.request.hostname or socket.gethostname()}:{os.getpid()}"
    try:
        return execute(
            _STATE.config, cs, db, task_id, payload, queue, redis_url=_STATE.urls.redis, worker=worker,
            retries=retries,
        )  # fmt: skip
    except (ConfigError, SelectorError) as exc:
        # This worker's config does not know the store or selector: retrying cannot help.
        from shopguard.cluster.execute import claim

        got = claim(db, task_id, payload, queue, worker, retries)
        return give_up(db, _STATE.config, task_id, payload, got.run_id, str(exc), status="failed")
    except Exception as exc:
        msg = f"{type(exc).__name__}: {exc}"
        log.warning("task %s attempt %d failed, will retry: %s", task_id, retries + 1, msg)
        try:
            note_error(db, task_id, msg)
        except Exception:  # the database itself may be what is down
            log.debug("could not record the failed attempt", exc_info=True)
        if retries + 1 >= cs.max_attempts * 3:
            from shopguard.cluster.execute import claim

            try:
                got = claim(db, task_id, payload, queue, worker, retries)
                return give_up(
                    db, _STATE.config, task_id, payload, got.run_id,
                    f"gave up after {retries + 1} attempts; last error: {msg}", status="failed",
                )  # fmt: skip
            except Exception:
                log.error("task %s failed for good and could not be recorded: %s", task_id, msg)
                raise exc from None
        raise task.retry(exc=exc, countdown=backoff(retries + 1, 1.0), max_retries=None) from None


class Publisher:
    """Sends tasks over one broker connection (a connection per task costs the broker and
    the publisher more than the message: an audit of 10,000 stores is 10,000 tasks).
    Each send retries with back-off, reconnecting, and raises BrokerUnavailable naming
    the broker after ``attempts`` tries."""

    def __init__(
        self,
        app: Celery,
        *,
        attempts: int = 5,
        first_delay: float = 0.5,
        on_retry: Callable[[int, float, Exception], None] | None = None,
    ) -> None:
        self.app, self.attempts, self.first_delay, self.on_retry = app, attempts, first_delay, on_retry
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None:
            conn = self.app.connection_for_write()
            try:
                conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=4)
            except Exception:
                conn.release()
                raise
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # already broken: nothing left to release
                log.debug("closing the broker connection failed", exc_info=True)
            self._conn = None

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, payload: TaskPayload, queue: str) -> str:
        last: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                result = self.app.send_task(
                    TASK_NAME,
                    args=[payload.to_dict()],
                    queue=queue,
                    connection=self._connection(),
                    retry=False,
                )
                return str(result.id)
            except Exception as exc:  # kombu/amqp/redis/socket errors differ per transport
                last = exc
                self.close()
                if attempt == self.attempts:
                    break
                delay = backoff(attempt, self.first_delay)
                if self.on_retry is not None:
                    self.on_retry(attempt, delay, exc)
                time.sleep(delay)
        broker = safe(str(self.app.conf.broker_url))
        raise BrokerUnavailable(
            f"cannot reach the Celery broker at {broker} after {self.attempts} attempts "
            f"({type(last).__name__}: {last}); is RabbitMQ/Redis running and is [cluster] broker_url right? "
            "Nothing was enqueued for the remaining stores."
        )


def publish(
    app: Celery,
    payload: TaskPayload,
    queue: str,
    *,
    attempts: int = 5,
    first_delay: float = 0.5,
    on_retry: Callable[[int, float, Exception], None] | None = None,
) -> str:
    """Send one task; retries with back-off and raises BrokerUnavailable naming the broker."""
    with Publisher(app, attempts=attempts, first_delay=first_delay, on_retry=on_retry) as pub:
        return pub.send(payload, queue)
