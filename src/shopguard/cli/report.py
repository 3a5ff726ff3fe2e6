"""``shopguard report``: render a stored run again."""

from __future__ import annotations

from pathlib import Path

import typer

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, load, open_db
from shopguard.cli.output import check_format, emit
from shopguard.config import ConfigError, find_config, load_config
from shopguard.db.repository import NotFound, load_run


def report(
    run_id: int | None = typer.Argument(None, help="Run id (default: the newest run)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Render a stored run in any format."""
    report_format = check_format(fmt)
    cfg = None
    if config is not None:
        _, cfg = load(config)
    else:
        try:
            cfg = load_config(find_config(None))
        except ConfigError:
            cfg = None  # no config is fine: the default database is used
    sessions = open_db(db, cfg)
    try:
        run = load_run(sessions, run_id)
    except NotFound as exc:
        fail(str(exc), ExitCode.USAGE)
    emit(run, report_format, output)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
