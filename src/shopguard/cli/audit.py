"""``shopguard audit``: every applicable check, the findings, the litmus test."""

from __future__ import annotations

from pathlib import Path

import typer

from shopguard.audit import AuditInterrupted, run_audit
from shopguard.checks import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_S, SelectorError, all_checks, select
from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, err_console, fail, load, open_db
from shopguard.cli.output import ProgressReporter, check_fail_on, check_format, emit, exit_code_for
from shopguard.config import ConfigError
from shopguard.db import DatabaseError


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


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
