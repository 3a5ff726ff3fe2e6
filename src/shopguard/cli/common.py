"""Helpers every command uses: config loading, the database, exit codes."""

from __future__ import annotations

import os
from enum import IntEnum
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, ConfigError, find_config, load_config
from shopguard.db import DatabaseError, open_database
from shopguard.paths import default_database_url


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    RUN_FAILED = 3


err_console = Console(stderr=True)

CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="Config file (default: ./shopguard.toml, then the user config folder)."
)
DB_OPTION = typer.Option(
    None, "--db", help="Database URL (default: $SHOPGUARD_DB or a SQLite file in the user data folder)."
)


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


def load(config_path: Path | None) -> tuple[Path, Config]:
    try:
        path = find_config(config_path)
        return path, load_config(path)
    except ConfigError as exc:
        fail(str(exc))


def database_url(explicit: str | None, config: Config | None = None) -> str:
    """``--db``, then $SHOPGUARD_DB, then the cluster's PostgreSQL when ``[cluster]`` is
    set (the workers write the runs there, so the dashboard and the CLI read them
    there), then the config's ``database_url``, then the per-user SQLite file."""
    if explicit:
        return explicit
    if os.environ.get("SHOPGUARD_DB"):
        return default_database_url()
    if config is not None and config.cluster is not None:
        from shopguard.cluster.urls import resolve

        return resolve(config).database
    if config is not None and config.database_url:
        return config.database_url
    return default_database_url()


def open_db(explicit: str | None, config: Config | None = None) -> sessionmaker[Session]:
    try:
        return open_database(database_url(explicit, config))
    except (DatabaseError, ConfigError) as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
