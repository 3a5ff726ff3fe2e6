"""The ``shopguard scan`` group. Each scanner adds its own command to
:data:`scan_app` from its own module (``scan files``, ``scan web`` ...)."""

from __future__ import annotations

import typer

scan_app = typer.Typer(
    name="scan",
    help="Run one kind of scan (files, web, host, deps); findings are stored like an audit's.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(scan_app, name="scan")
