"""``shopguard scan web URL``: the outside-in web scan of one store without a config file."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import typer
from pydantic import ValidationError

from shopguard.audit import AuditInterrupted, run_audit
from shopguard.cli.common import DB_OPTION, ExitCode, err_console, fail, open_db
from shopguard.cli.output import ProgressReporter, check_fail_on, check_format, emit, exit_code_for
from shopguard.cli.scan import scan_app
from shopguard.config import Config, Store, WebScan
from shopguard.db import DatabaseError


def _store_name(url: str) -> str:
    p = urlsplit(url)
    name = re.sub(
        r"[^A-Za-z0-9_.-]+", "-", f"{p.hostname or 'site'}-{p.port}" if p.port else p.hostname or "site"
    )
    return name.strip("-.") or "site"


def _check_url(option: str, url: str | None) -> str | None:
    if url is None:
        return None
    p = urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        fail(f"{option} {url!r}: expected an http:// or https:// URL such as https://shop.example.com/")
    return url


def scan_web(
    url: str = typer.Argument(..., help="The storefront URL, e.g. https://shop.example.com/"),
    checkout: str | None = typer.Option(None, "--checkout", help="The checkout page URL (payment page)."),
    basket: str | None = typer.Option(None, "--basket", help="The basket/cart page URL."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: str = typer.Option("high", "--fail-on", help="Exit 1 at or above this severity (or never)."),
    browser: bool | None = typer.Option(
        None,
        "--browser/--no-browser",
        help="Also inventory payment-page scripts in Chromium (default: on when --checkout is given).",
    ),
    allow_private: bool = typer.Option(
        False, "--allow-private", help="Allow hosts that resolve to private addresses (a shop on your LAN)."
    ),
    budget: int = typer.Option(600, "--budget", help="Maximum number of HTTP requests."),
    delay_ms: int = typer.Option(0, "--delay-ms", help="Pause between requests, in milliseconds."),
    db: str | None = DB_OPTION,
) -> None:
    """Scan one store from the outside, without a config file (scope: the URLs' hosts)."""
    report_format = check_format(fmt)
    threshold = check_fail_on(fail_on)
    _check_url("URL", url)
    _check_url("--checkout", checkout)
    _check_url("--basket", basket)
    try:
        store = Store.model_validate(
            {
                "name": _store_name(url),
                "storefront_url": url,
                "checkout_url": checkout,
                "basket_url": basket,
                "web": WebScan(
                    allow_private_addresses=allow_private, request_budget=budget, delay_ms=delay_ms
                ),
            }
        )
    except ValidationError as exc:
        fail(f"invalid scan settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
    use_browser = browser if browser is not None else (checkout is not None or basket is not None)
    selectors = ["scanning.web"] + (["scanning.pages"] if use_browser else [])
    cfg = Config(stores=(store,))
    sessions = open_db(db, cfg)
    try:
        with ProgressReporter(f"Scanning {url}") as progress:
            run = run_audit(
                cfg, [store], sessions, selectors=selectors, kind="scan-web", progress=progress.callback
            )
    except DatabaseError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except AuditInterrupted as stop:
        err_console.print(f"interrupted: run {stop.run_id} is stored as interrupted", markup=False)
        raise typer.Exit(130) from None
    emit(run, report_format, output)
    raise typer.Exit(int(exit_code_for(run, threshold)))


scan_app.command("web")(scan_web)
