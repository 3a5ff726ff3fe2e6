"""``shopguard scheduler``: publishes each ``[[cluster.schedule]]`` entry on its cadence.

Time is cut into slots of ``every_minutes``; a slot is claimed in Redis with SET NX
before publishing, so two schedulers running by mistake do not enqueue twice, and a
claim is released when the broker refused the tasks, so the next tick tries again
(nothing is silently dropped).

With ``[storage] keep_runs_days`` set, the scheduler also prunes old runs every
``prune_every_hours`` (one scheduler of the fleet per period, claimed in Redis).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from celery import Celery
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from shopguard.cluster.app import BrokerUnavailable
from shopguard.cluster.enqueue import Enqueued, enqueue_audit, enqueue_monitors
from shopguard.cluster.settings import ScheduleEntry
from shopguard.cluster.urls import resolve, settings_of
from shopguard.config import Config
from shopguard.db.retention import PruneResult, prune_runs
from shopguard.db.session import make_engine

Say = Callable[[str], None]


def _entry_key(prefix: str, entry: ScheduleEntry, slot: int) -> str:
    ident = hashlib.sha256(entry.model_dump_json().encode()).hexdigest()[:16]
    return f"{prefix}:sched:{ident}:{slot}"


def tick(config: Config, app: Celery, redis: Redis, now: float, say: Say) -> list[Enqueued]:
    """Publish every entry whose current slot nobody published yet."""
    cs = settings_of(config)
    out: list[Enqueued] = []

    def on_retry(attempt: int, delay: float, exc: Exception) -> None:
        say(f"broker unreachable ({type(exc).__name__}: {exc}); retry {attempt} in {delay:.1f} s")

    for entry in cs.schedule:
        period = entry.every_minutes * 60
        slot = int(now // period)
        key = _entry_key(cs.queue_prefix, entry, slot)
        if not redis.set(key, str(now), nx=True, ex=int(period * 2) + 60):
            continue
        try:
            if entry.kind == "monitor":
                got = enqueue_monitors(config, config.stores, entry.selectors, app=app, on_retry=on_retry)
            else:
                got = enqueue_audit(
                    config, config.stores, entry.selectors or None, app=app, on_retry=on_retry
                )
        except BrokerUnavailable:
            redis.delete(key)  # not published: the next tick tries this slot again
            raise
        say(f"enqueued {len(got)} {entry.kind} task(s) for {','.join(entry.selectors) or 'all checks'}")
        out.extend(got)
    return out


def maybe_prune(
    config: Config, redis: Redis, now: float, say: Say, db: sessionmaker[Session] | None = None
) -> PruneResult | None:
    """Prune old runs when ``[storage] keep_runs_days`` is set and this period's prune is
    not claimed yet; a failed prune gives the claim back so the next tick tries again."""
    st = config.storage
    if st.keep_runs_days is None:
        return None
    period = st.prune_every_hours * 3600
    key = f"{settings_of(config).queue_prefix}:prune:{int(now // period)}"
    if not redis.set(key, str(now), nx=True, ex=int(period * 2) + 60):
        return None
    own = db is None
    sessions = db or sessionmaker(make_engine(resolve(config).database), expire_on_commit=False)
    try:
        result = prune_runs(sessions, st.keep_runs_days, batch=st.prune_batch_size)
    except Exception as exc:
        redis.delete(key)
        say(f"error: pruning runs older than {st.keep_runs_days:g} days failed: {type(exc).__name__}: {exc}")
        return None
    finally:
        if own:
            sessions.kw["bind"].dispose()
    say(f"pruned {result.runs} run(s) and {result.findings} resolved finding(s) older than "
        f"{st.keep_runs_days:g} days")  # fmt: skip
    return result


def run_scheduler(
    config: Config, app: Celery, say: Say, stop: threading.Event | None = None, tick_seconds: float = 5.0
) -> None:
    """Tick until ``stop`` is set; a broker outage is reported and retried, never fatal."""
    stop = stop or threading.Event()
    redis = Redis.from_url(resolve(config).redis)
    failures = 0
    while not stop.is_set():
        try:
            tick(config, app, redis, time.time(), say)
            maybe_prune(config, redis, time.time(), say)
            failures = 0
            wait = tick_seconds
        except BrokerUnavailable as exc:
            failures += 1
            wait = min(300.0, tick_seconds * 2**failures)
            say(f"error: {exc}; trying again in {wait:.0f} s")
        stop.wait(wait)
