"""Runs started from the dashboard: an audit of one store, in a background thread of the
server (the same ``run_audit`` the CLI uses), or enqueued for the workers when the config
has a ``[cluster]`` section.

One store is never audited twice at once: a second start is refused while this server
has a run of that store going (or queued), and while the database shows a live run of it
started elsewhere (``shopguard audit`` in a terminal, a worker).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, Store
from shopguard.db.base import utcnow
from shopguard.db.models import RunRecord

log = logging.getLogger(__name__)
QUEUED_FOR_AT_MOST = timedelta(hours=6)
"""A queued run that no worker picked up in this long no longer blocks a new start."""
KEEP = 50


class RunRefused(Exception):
    """The start was refused; the message says why, in words for the page. ``status``: 409
    while the store is busy, 400 for a bad request, 503 when the workers' queue is unreachable."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Launch:
    id: int
    store: str
    by: str
    mode: str
    """thread (in this process) or cluster (enqueued)"""
    selectors: tuple[str, ...] = ()
    status: str = "running"
    """running, queued, finished, failed, interrupted"""
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    run_id: int | None = None
    message: str = ""
    task_ids: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.status in ("running", "queued")


def _db_running(db: sessionmaker[Session], store: str) -> int | None:
    """A live run of ``store`` recorded by any process (stale ones are marked first)."""
    from shopguard.db.repository import mark_stale_runs

    mark_stale_runs(db)
    with db() as s:
        for rid, stores in s.execute(
            select(RunRecord.id, RunRecord.stores).where(RunRecord.status == "running")
        ):
            if store in stores.split(","):
                return int(rid)
    return None


class Launcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.launches: dict[int, Launch] = {}
        self.threads: dict[int, threading.Thread] = {}

    def recent(self, visible: Sequence[str] | None = None) -> list[Launch]:
        with self._lock:  # copies: a page renders one consistent moment of each launch
            items = [dataclasses.replace(x) for x in self.launches.values()]
        return sorted(
            (x for x in items if visible is None or x.store in visible), key=lambda x: x.id, reverse=True
        )

    def _busy(self, store: str) -> Launch | None:
        return next((x for x in self.launches.values() if x.store == store and x.active), None)

    def start(
        self,
        config: Config,
        db: sessionmaker[Session],
        store: Store,
        by: str,
        selectors: Sequence[str] = (),
    ) -> Launch:
        """Start (or enqueue) an audit of ``store``; :class:`RunRefused` if one is going."""
        from shopguard.checks import SelectorError, all_checks
        from shopguard.checks import select as select_checks

        try:
            select_checks(all_checks(), list(selectors) or None)
        except SelectorError as exc:
            raise RunRefused(str(exc).replace("--only ", "checks "), 400) from None
        with self._lock:
            self.refresh(db)
            busy = self._busy(store.name)
            if busy is not None:
                raise RunRefused(
                    f"{store.name} is already being audited (started {busy.started_at:%H:%M:%S} UTC "
                    f"by {busy.by}); wait for it to finish"
                )
            other = _db_running(db, store.name)
            if other is not None:
                raise RunRefused(
                    f"{store.name} is already being audited by run #{other}; wait for it to finish"
                )
            mode = "cluster" if config.cluster is not None else "thread"
            launch = Launch(next(self._ids), store.name, by, mode, tuple(selectors))
            if mode == "cluster":
                from shopguard.cluster.enqueue import enqueue_audit

                try:
                    queued = enqueue_audit(config, [store], list(selectors) or None)
                except Exception as exc:
                    raise RunRefused(f"could not queue the run for the workers: {exc}", 503) from None
                launch.status = "queued"
                launch.task_ids = tuple(q.task_id for q in queued)
                launch.message = f"queued as {len(queued)} task(s) for the workers"
            self.launches[launch.id] = launch
            for old in sorted(self.launches)[:-KEEP]:
                if not self.launches[old].active:
                    del self.launches[old]
        if mode == "thread":
            t = threading.Thread(
                target=self._run,
                args=(launch, config, db, store),
                name=f"shopguard-run-{store.name}",
                daemon=True,
            )
            self.threads[launch.id] = t
            t.start()
        return launch

    def _run(self, launch: Launch, config: Config, db: sessionmaker[Session], store: Store) -> None:
        from shopguard.audit import AuditInterrupted, run_audit

        run_id: int | None = None
        message = ""
        try:
            run = run_audit(config, [store], db, selectors=list(launch.selectors) or None)
            run_id = run.id
            errors = sum(1 for e in run.executions if e[2] != "ok")
            message = f"{len(run.findings)} finding(s), {errors} check error(s)"
            status = "finished"
        except AuditInterrupted as exc:
            run_id = exc.run_id
            status = "interrupted"
        except Exception as exc:
            log.exception("dashboard run of %s failed", store.name)
            status = "failed"
            message = f"{type(exc).__name__}: {str(exc)[:300]}"
        # One step under the lock, so a page never shows a finished run without its outcome.
        with self._lock:
            launch.run_id = run_id if run_id is not None else launch.run_id
            launch.message = message
            launch.finished_at = utcnow()
            launch.status = status

    def refresh(self, db: sessionmaker[Session]) -> None:
        """Queued runs: pick up their run ids and outcomes from the workers' task records."""
        queued = [x for x in self.launches.values() if x.status == "queued"]
        if not queued:
            return
        from shopguard.cluster.models import ClusterTask

        now = utcnow()
        with db() as s:
            for launch in queued:
                tasks = list(s.scalars(select(ClusterTask).where(ClusterTask.task_id.in_(launch.task_ids))))
                if tasks and launch.run_id is None:
                    launch.run_id = next((t.run_id for t in tasks if t.run_id is not None), None)
                done = len(tasks) == len(launch.task_ids) and all(t.status != "started" for t in tasks)
                if done:
                    launch.status = "failed" if any(t.status == "poisoned" for t in tasks) else "finished"
                    launch.finished_at = max((t.finished_at for t in tasks if t.finished_at), default=now)
                elif now - launch.started_at > QUEUED_FOR_AT_MOST:
                    launch.status = "failed"
                    launch.message = "no worker took the task"
                    launch.finished_at = now

    def join(self, timeout: float = 30.0) -> None:
        """Wait for in-process runs (tests; a server stopping)."""
        for t in list(self.threads.values()):
            t.join(timeout)
