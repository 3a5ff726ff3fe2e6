"""``shopguard worker``, ``shopguard scheduler``, ``shopguard cluster status``, and the
``[cluster]`` branch of ``shopguard audit`` (enqueue instead of running in-process)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from shopguard.cli.common import CONFIG_OPTION, ExitCode, err_console, fail, load
from shopguard.config import Config, ConfigError, Store

cluster_app = typer.Typer(help="Celery workers with PostgreSQL: status of the fleet.", no_args_is_help=True)


def _require_cluster(cfg: Config) -> None:
    if cfg.cluster is None:
        fail("the config has no [cluster] section; add one to run ShopGuard on Celery workers "
             "(see docs/cluster.md)")  # fmt: skip


def _app(cfg: Config) -> Any:
    from shopguard.cluster.app import make_app

    try:
        return make_app(cfg)
    except ConfigError as exc:
        fail(str(exc))


def cluster_sessions(cfg: Config) -> Any:
    """ShopGuard's records in the cluster's PostgreSQL (migrated)."""
    from shopguard.cluster.urls import resolve
    from shopguard.db import DatabaseError, open_database

    try:
        return open_database(resolve(cfg).database)
    except (DatabaseError, ConfigError) as exc:
        fail(str(exc), ExitCode.RUN_FAILED)


def worker(
    config: Path | None = CONFIG_OPTION,
    concurrency: int = typer.Option(2, "--concurrency", "-C", help="Tasks this worker runs at once."),
    pool: str = typer.Option(
        "prefork", "--pool", help="prefork (default; survives crashing tasks), threads, solo."
    ),
    queues: str = typer.Option(
        "default,heavy,monitor", "--queues", "-Q", help="Queues to consume (short names)."
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="Worker name (default: shopguard@host)."),
    loglevel: str = typer.Option("INFO", "--loglevel"),
) -> None:
    """Start a Celery worker that runs ShopGuard's checks (needs a \\[cluster] section)."""
    _, cfg = load(config)
    _require_cluster(cfg)
    assert cfg.cluster is not None
    cs = cfg.cluster
    app = _app(cfg)
    db = cluster_sessions(cfg)  # migrates PostgreSQL once, before any task
    db.kw["bind"].dispose()
    names = [cs.queue(q.strip()) for q in queues.split(",") if q.strip()]
    unknown = [q for q in names if q not in cs.queues]
    if unknown:
        fail(f"--queues: unknown {', '.join(unknown)}; expected some of default, heavy, monitor")
    if cs.metrics_port:
        from shopguard.cluster.status import start_exporter

        start_exporter(app, cs, db, cs.metrics_port)
    argv = ["worker", "-Q", ",".join(names), "-c", str(concurrency), "-P", pool, "--loglevel", loglevel,
            "-n", name or "shopguard@%h", "--without-mingle", "--without-gossip"]  # fmt: skip
    app.worker_main(argv)


def scheduler(
    config: Path | None = CONFIG_OPTION,
    once: bool = typer.Option(False, "--once", help="Publish what is due now, then exit."),
    tick: float = typer.Option(5.0, "--tick", help="Seconds between looks at the schedule."),
) -> None:
    """Enqueue each \\[\\[cluster.schedule]] entry for every store on its cadence."""
    from shopguard.cluster.app import BrokerUnavailable
    from shopguard.cluster.scheduler import run_scheduler
    from shopguard.cluster.scheduler import tick as tick_once

    _, cfg = load(config)
    _require_cluster(cfg)
    assert cfg.cluster is not None
    if not cfg.cluster.schedule:
        fail("[cluster] has no [[cluster.schedule]] entries: nothing to schedule")
    app = _app(cfg)

    def say(msg: str) -> None:
        err_console.print(msg, markup=False, highlight=False, soft_wrap=True)

    if once:
        import time

        from redis import Redis

        from shopguard.cluster.urls import resolve

        try:
            got = tick_once(cfg, app, Redis.from_url(resolve(cfg).redis), time.time(), say)
        except BrokerUnavailable as exc:
            fail(str(exc), ExitCode.RUN_FAILED)
        typer.echo(json.dumps([e.task_id for e in got]))
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_scheduler(cfg, app, say, stop, tick)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@cluster_app.command("status")
def status(
    config: Path | None = CONFIG_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Workers (celery inspect), queue depths (asked of the broker), task lag and failures."""
    from dataclasses import asdict

    from shopguard.cluster.status import fleet_status
    from shopguard.cluster.urls import safe

    _, cfg = load(config)
    _require_cluster(cfg)
    assert cfg.cluster is not None
    app = _app(cfg)
    db = cluster_sessions(cfg)
    try:
        st = fleet_status(app, cfg.cluster, db)
    except Exception as exc:
        fail(f"cannot read the fleet's status from the broker at {safe(cfg.cluster.broker_url)}: {exc}",
             ExitCode.RUN_FAILED)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(asdict(st), indent=2))
        return

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f} s"

    typer.echo(f"workers: {len(st.workers)}")
    for w, n in st.workers.items():
        typer.echo(f"  {w}: {n} task(s) running")
    typer.echo("queues:")
    for q, depth in st.queues.items():
        typer.echo(f"  {q}: {'not declared yet' if depth is None else f'{depth} waiting'}")
    typer.echo(f"lag (enqueue to start, last {st.window_minutes} min): p50 {fmt(st.lag_p50_s)}, "
               f"p99 {fmt(st.lag_p99_s)}")  # fmt: skip
    typer.echo(f"task run time: p50 {fmt(st.duration_p50_s)}, p99 {fmt(st.duration_p99_s)}")
    typer.echo(
        "tasks: " + (", ".join(f"{k} {v}" for k, v in sorted(st.tasks_by_status.items())) or "none yet")
    )


def audit_on_cluster(
    cfg: Config, stores: Sequence[Store], selectors: Sequence[str] | None, wait: bool, wait_timeout: float
) -> list[int] | None:
    """Enqueue the audit; with ``wait``, return the stored run ids once the workers are done."""
    from shopguard.cluster import enqueue_audit, wait_for_runs
    from shopguard.cluster.app import BrokerUnavailable
    from shopguard.cluster.enqueue import WaitTimeout

    def on_retry(attempt: int, delay: float, exc: Exception) -> None:
        err_console.print(
            f"broker unreachable ({type(exc).__name__}: {exc}); retry {attempt} in {delay:.1f} s",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip

    try:
        tasks = enqueue_audit(cfg, stores, selectors, on_retry=on_retry)
    except BrokerUnavailable as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except ConfigError as exc:
        fail(str(exc))
    for t in tasks:
        line = f"enqueued {t.task_id} store={t.store} queue={t.queue}"
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    if not wait:
        typer.echo(json.dumps([{"task_id": t.task_id, "store": t.store, "queue": t.queue} for t in tasks]))
        return None
    try:
        results = wait_for_runs(cfg, [t.task_id for t in tasks], wait_timeout)
    except WaitTimeout as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except Exception as exc:  # the task's own error, raised again by Celery
        fail(f"a task failed: {type(exc).__name__}: {exc}", ExitCode.RUN_FAILED)
    return [int(str(r["run_id"])) for r in results]


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.add_typer(cluster_app, name="cluster")
