"""``shopguard runs prune``: retention of old runs (see shopguard.db.retention)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, load, open_db

runs_app = typer.Typer(help="Stored runs: retention.", no_args_is_help=True)


@runs_app.command("prune")
def prune(
    config: Path | None = CONFIG_OPTION,
    keep_days: float | None = typer.Option(
        None, "--keep-days", help="Delete runs older than this (default: [storage] keep_runs_days)."
    ),
    db: str | None = DB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print what was deleted as JSON."),
) -> None:
    """Delete old runs with their check executions and run links; open and triaged
    findings, and the last run of every finding that stays, are kept."""
    from shopguard.db.retention import prune_runs

    _, cfg = load(config)
    days = keep_days if keep_days is not None else cfg.storage.keep_runs_days
    if days is None:
        fail("--keep-days: required (or set [storage] keep_runs_days in the config)")
    if days <= 0:
        fail(f"--keep-days: expected a positive number of days, got {days:g}")
    sessions = open_db(db, cfg)  # with [cluster]: the cluster's PostgreSQL
    try:
        result = prune_runs(sessions, days, batch=cfg.storage.prune_batch_size)
    except Exception as exc:
        fail(f"pruning failed: {type(exc).__name__}: {exc}", ExitCode.RUN_FAILED)
    finally:
        sessions.kw["bind"].dispose()
    if as_json:
        out = {"cutoff": result.cutoff.isoformat(), "runs": result.runs, "findings": result.findings,
               "rows": result.rows}  # fmt: skip
        typer.echo(json.dumps(out))
        return
    other = ", ".join(f"{n} {t}" for t, n in sorted(result.rows.items()))
    typer.echo(
        f"pruned {result.runs} run(s) and {result.findings} resolved finding(s) older than "
        f"{result.cutoff:%Y-%m-%d %H:%M} UTC" + (f" ({other})" if other else "")
    )


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
