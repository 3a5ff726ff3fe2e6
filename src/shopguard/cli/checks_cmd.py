"""``shopguard checks``: what ShopGuard can check, by protocol."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from shopguard.checks import all_checks
from shopguard.findings import PROTOCOLS, protocol_of


def list_checks() -> None:
    """List every registered check and the protocol it belongs to."""
    checks = all_checks()
    t = Table(title=f"{len(checks)} checks")
    t.add_column("Protocol")
    t.add_column("Check id")
    t.add_column("What it checks")
    for c in sorted(checks, key=lambda c: (PROTOCOLS.index(protocol_of(c.id)), c.id)):
        t.add_row(protocol_of(c.id), c.id, c.title)
    Console().print(t)


def register(app: typer.Typer) -> None:
    app.command("checks")(list_checks)
