"""``shopguard audit``: every applicable check, the findings, the litmus test."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from shopguard.audit import AuditInterrupted, run_audit
from shopguard.checks import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_S, SelectorError, all_checks, select
from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, err_console, fail, load, open_db
from shopguard.cli.output import ProgressReporter, check_fail_on, check_format, emit, exit_code_for
from shopguard.config import Config, ConfigError, Store
from shopguard.db import DatabaseError
from shopguard.findings import Severity
from shopguard.reports import ReportFormat


def audit(
    config: Path | None = CONFIG_OPTION,
    store: str | None = typer.Option(None, "--store", "-s", help="Only this store (default: all)."),
    only: str | None = typer.Option(
        None, "--only", help="Protocols or check-id prefixes, comma-separated (e.g. scanning,hosting.ssh)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: str = typer.Option(
        "high",
        "--fail-on",
        help="Exit 1 when an open finding is at or above: critical/high/medium/low/info/never.",
    ),
    db: str | None = DB_OPTION,
    timeout: float = typer.Option(DEFAULT_TIMEOUT_S, "--timeout", help="Seconds each check may take."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", help="Checks run at once."),
    wait: bool = typer.Option(
        False, "--wait", help="With [cluster]: wait for the workers and print the report."
    ),
    wait_timeout: float = typer.Option(
        3600.0, "--wait-timeout", help="With --wait: seconds to wait at most."
    ),
) -> None:
    """Check the configured store(s) against the seven protocols."""
    report_format = check_format(fmt)
    threshold = check_fail_on(fail_on)
    _, cfg = load(config)
    if not cfg.stores:
        fail("the config defines no [[stores]]; add one (see `shopguard init`)")
    try:
        stores = cfg.store(store)
    except ConfigError as exc:
        fail(str(exc))
    selectors = [s.strip() for s in only.split(",") if s.strip()] if only else None
    try:
        select(all_checks(), selectors)
    except SelectorError as exc:
        fail(str(exc))
    if cfg.cluster is not None:  # [cluster]: the workers run the checks
        _audit_on_cluster(cfg, stores, selectors, wait, wait_timeout, report_format, output, threshold)
    sessions = open_db(db, cfg)
    try:
        with ProgressReporter("Auditing") as progress:
            run = run_audit(
                cfg,
                stores,
                sessions,
                selectors=selectors,
                timeout=timeout,
                concurrency=concurrency,
                progress=progress.callback,
            )
    except DatabaseError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except AuditInterrupted as stop:
        err_console.print(
            f"interrupted: run {stop.run_id} is stored as interrupted with the results finished so far",
            markup=False,
        )
        raise typer.Exit(130) from None
    emit(run, report_format, output)
    raise typer.Exit(int(exit_code_for(run, threshold)))


def _audit_on_cluster(
    cfg: Config,
    stores: list[Store],
    selectors: list[str] | None,
    wait: bool,
    wait_timeout: float,
    report_format: ReportFormat,
    output: Path | None,
    threshold: Severity | None,
) -> NoReturn:
    from shopguard.cli.cluster import audit_on_cluster, cluster_sessions
    from shopguard.db.repository import load_run

    run_ids = audit_on_cluster(cfg, stores, selectors, wait, wait_timeout)
    if run_ids is None:
        raise typer.Exit(0)
    if output is not None and len(run_ids) > 1:
        fail(
            f"--output: the audit ran as {len(run_ids)} tasks (runs {run_ids}); omit --output or pass --store"
        )
    sessions = cluster_sessions(cfg)
    code = ExitCode.OK
    for run_id in run_ids:
        run = load_run(sessions, run_id)
        emit(run, report_format, output)
        code = max(code, exit_code_for(run, threshold))
    raise typer.Exit(int(code))


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
