"""The ``shopguard`` command. Each module in this package adds its own commands
through a ``register(app)`` function, so command groups stay independent."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from shopguard import __version__

app = typer.Typer(
    name="shopguard",
    help="ShopGuard: the security program for online stores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shopguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Check a store against the seven protocols of e-commerce security."""


def _load_commands() -> None:
    import shopguard.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name in {"app", "common"} or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"shopguard.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_load_commands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
