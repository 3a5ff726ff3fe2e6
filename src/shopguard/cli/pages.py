"""``shopguard pages``: the payment-page script inventory (PCI DSS 6.4.3, 11.6.1)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, load, open_db
from shopguard.config import Config, ConfigError, Store
from shopguard.scanning.pages.browser import inventory_pages
from shopguard.scanning.pages.csp import build_policy, server_lines
from shopguard.scanning.pages.inventory import approve, items_of, revoke
from shopguard.scanning.pages.models import PageApproval

pages_app = typer.Typer(
    name="pages", help="Payment-page script inventory and tamper detection.", no_args_is_help=True
)
STORE_OPTION = typer.Option(None, "--store", "-s", help="Store name (needed when the config has several).")


def _console() -> Console:
    """Full width when piped or captured, so URLs are not folded."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _one_store(config: Path | None, name: str | None) -> tuple[Store, Config]:
    _, cfg = load(config)
    try:
        stores = cfg.store(name)
    except ConfigError as exc:
        fail(str(exc))
    if len(stores) != 1:
        fail("the config has several stores; choose one with --store NAME")
    store = stores[0]
    if store.checkout_url is None and store.basket_url is None:
        fail(f"store {store.name!r} has no checkout_url or basket_url in the config; the monitor needs one")
    return store, cfg


@pages_app.command("approve")
def pages_approve(
    why: str = typer.Option(
        ..., "--why", help="Why these scripts are needed (kept as the PCI 6.4.3 justification)."
    ),
    item: list[str] = typer.Option([], "--item", help="Approve only this identifier (repeatable)."),
    by: str = typer.Option("", "--by", help="Who approves (default: the login name)."),
    config: Path | None = CONFIG_OPTION,
    store_name: str | None = STORE_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Load the basket and checkout in Chromium and authorise what runs there now."""
    store, cfg = _one_store(config, store_name)
    if len(why.strip()) < 10:
        fail("--why: give a real justification (at least 10 characters), e.g. 'NimbusPay card form iframe'")
    sessions = open_db(db, cfg)
    try:
        inventories = asyncio.run(inventory_pages(store))
    except Exception as exc:  # the browser failing is a run failure, not a usage error
        fail(f"could not run Chromium ({store.pages.chromium}): {exc}", ExitCode.RUN_FAILED)
    for inv in inventories:
        if inv.error:
            fail(f"{inv.url}: {inv.error}", ExitCode.RUN_FAILED)
    done = approve(sessions, store.name, inventories, why.strip(), by or getpass.getuser(), item)
    console = _console()
    table = Table(title=f"Payment-page inventory of {store.name}")
    for col in ("Page", "Kind", "Item", "Action"):
        table.add_column(col)
    approved = {(p, i.kind, i.identifier) for p, i, _ in done}
    for inv in inventories:
        for it in items_of(inv):
            action = next(
                (a for p, i, a in done if (p, i.kind, i.identifier) == (inv.label, it.kind, it.identifier)),
                "already approved" if (inv.label, it.kind, it.identifier) not in approved else "",
            )
            table.add_row(inv.label, it.kind, it.identifier, action)
    console.print(table)
    console.print(
        f"{len(done)} item(s) approved. The monitor (`shopguard audit --only scanning.pages`) now "
        "reports anything new or changed."
    )


@pages_app.command("list")
def pages_list(
    config: Path | None = CONFIG_OPTION, store_name: str | None = STORE_OPTION, db: str | None = DB_OPTION
) -> None:
    """Show the approved inventory with each item's justification."""
    store, cfg = _one_store(config, store_name)
    sessions = open_db(db, cfg)
    table = Table(title=f"Approved payment-page inventory of {store.name}")
    for col in ("Page", "Kind", "Item", "Why", "By", "When"):
        table.add_column(col)
    with sessions() as s:
        rows = s.scalars(
            select(PageApproval)
            .where(PageApproval.store == store.name)
            .order_by(PageApproval.page, PageApproval.kind, PageApproval.identifier)
        )
        for a in rows:
            table.add_row(
                a.page, a.kind, a.identifier, a.justification, a.approved_by, f"{a.approved_at:%Y-%m-%d}"
            )
    _console().print(table)


@pages_app.command("revoke")
def pages_revoke(
    identifier: str = typer.Argument(..., help="The item to remove from the approved inventory."),
    config: Path | None = CONFIG_OPTION,
    store_name: str | None = STORE_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Remove an item from the approved inventory."""
    store, cfg = _one_store(config, store_name)
    n = revoke(open_db(db, cfg), store.name, identifier)
    if n == 0:
        fail(f"{identifier!r} is not in the approved inventory of {store.name}")
    typer.echo(f"removed {n} approval(s)")


@pages_app.command("csp")
def pages_csp(
    enforce: bool = typer.Option(
        False, "--enforce", help="Print the enforcing header (default: report-only)."
    ),
    report_uri: str | None = typer.Option(
        None, "--report-uri", help="Where browsers send violation reports."
    ),
    config: Path | None = CONFIG_OPTION,
    store_name: str | None = STORE_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Print a Content-Security-Policy built from the approved inventory."""
    store, cfg = _one_store(config, store_name)
    sessions = open_db(db, cfg)
    with sessions() as s:
        approvals = list(s.scalars(select(PageApproval).where(PageApproval.store == store.name)))
    if not approvals:
        fail(f"no approved inventory for {store.name}: run `shopguard pages approve --why ...` first")
    lines = server_lines(build_policy(approvals, str(store.storefront_url), report_uri=report_uri), enforce)
    typer.echo(lines["header"])
    typer.echo("")
    typer.echo("nginx:  " + lines["nginx"])
    typer.echo("Apache: " + lines["apache"])


def register(app: typer.Typer) -> None:
    app.add_typer(pages_app, name="pages")
