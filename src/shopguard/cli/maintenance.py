"""Maintenance commands: ``inventory``, ``vulndb sync|status``, ``maintenance plan``, ``scan deps``."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shopguard.audit import AuditInterrupted, run_audit
from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, err_console, fail, load, open_db
from shopguard.cli.output import check_fail_on, check_format, emit, exit_code_for
from shopguard.cli.scan import scan_app
from shopguard.config import Config, ConfigError, Store, find_config
from shopguard.db import DatabaseError
from shopguard.maintenance.model import Inventory

vulndb_app = typer.Typer(help="The local vulnerability and end-of-life database.", no_args_is_help=True)
maintenance_app = typer.Typer(help="Keeping the shop's software up to date.", no_args_is_help=True)

PATHS_ARG = typer.Argument(
    None, help="Web roots, project folders or lockfiles (default: the store's web roots)."
)
HOST_OPTION = typer.Option(
    False,
    "--host",
    help="Also list the OS, packages and server software: of this machine, or with --store of the "
    "store's host (over SSH for host = ssh://...).",
)
STORE_OPTION = typer.Option(
    None, "--store", "-s", help="Use this store's web roots and host from the config."
)
ONLINE_OPTION = typer.Option(False, "--online", help="Ask the OSV API instead of the local database.")


def _roots(paths: list[Path] | None, config: Path | None, store: str | None) -> tuple[list[Path], str]:
    if paths:
        missing = [p for p in paths if not p.exists()]
        if missing:
            fail(f"{missing[0]}: no such file or folder")
        return list(paths), "shop"
    try:
        cfg_path = find_config(config)
    except ConfigError:
        fail("give one or more PATHs (web roots or lockfiles), or a config with [[stores]] web_roots")
    _, cfg = load(cfg_path)
    try:
        stores = cfg.store(store)
    except ConfigError as exc:
        fail(str(exc))
    roots = [r for s in stores for r in s.web_roots]
    if not roots:
        fail("the selected store(s) have no web_roots; give PATHs or add web_roots to the config")
    return roots, stores[0].name if len(stores) == 1 else "shops"


def _gather(
    paths: list[Path] | None, host: bool, config: Path | None, store: str | None
) -> tuple[Inventory, str]:
    """The inventory the command asked for. Without --store, --host means this machine; with
    --store, the store's host (local or SSH) and, unless PATHs are given, its web roots."""
    from shopguard.maintenance.inventory.host import HostUnavailable
    from shopguard.maintenance.service import collect, store_inventory

    if store is None:
        roots, name = _roots(paths, config, None) if paths or not host else ([], "host")
        return collect(roots, host=host), name
    inv = collect(_roots(paths, config, store)[0]) if paths else Inventory()
    _, cfg = load(config)
    try:
        stores = cfg.store(store)
    except ConfigError as exc:
        fail(str(exc))
    if not paths and not host and not any(s.web_roots for s in stores):
        fail(
            "the selected store(s) have no web_roots; give PATHs, add web_roots to the config, or use --host"
        )
    for s in stores:
        try:
            inv.extend(store_inventory(s, host=host, web_roots=not paths))
        except HostUnavailable as exc:
            fail(str(exc), ExitCode.RUN_FAILED)
    return inv, stores[0].name if len(stores) == 1 else "shops"


def _print_warnings(inv: Inventory) -> None:
    for w in inv.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", markup=True, highlight=False, soft_wrap=True)


def inventory_cmd(
    paths: list[Path] | None = PATHS_ARG,
    host: bool = HOST_OPTION,
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or cyclonedx (CycloneDX 1.6 SBOM)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    store: str | None = STORE_OPTION,
    config: Path | None = CONFIG_OPTION,
) -> None:
    """List every component the shop runs, each with its Package URL."""
    from shopguard.maintenance.sbom import render_cyclonedx

    if fmt not in ("table", "json", "cyclonedx"):
        fail(f"--format {fmt!r}: expected table, json or cyclonedx")
    inv, name = _gather(paths, host, config, store)
    _print_warnings(inv)
    comps = inv.unique()
    if fmt == "cyclonedx":
        text = render_cyclonedx(comps, name)
    elif fmt == "json":
        text = json.dumps(
            {
                "components": [
                    {
                        "name": c.name,
                        "version": c.version,
                        "ecosystem": c.ecosystem,
                        "purl": c.purl,
                        "owner": c.owner.value,
                        "kind": c.kind,
                        "location": c.location,
                        "direct": c.direct,
                    }
                    for c in comps
                ],
                "warnings": [{"location": w.location, "message": w.message} for w in inv.warnings],
            },
            indent=2,
        )
    else:
        table = Table(
            "component", "version", "kind", "owner", "purl", "found in", title=f"{len(comps)} components"
        )
        for c in comps:
            table.add_row(c.name, c.version or "?", c.kind, c.owner.value, c.purl, c.location)
        if output is None:
            Console(width=200).print(table)
            return
        buf = io.StringIO()
        Console(file=buf, width=200, color_system=None).print(table)
        text = buf.getvalue().rstrip("\n")
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


def sync_cmd(
    sources: list[Path] | None = typer.Option(
        None,
        "--from",
        help="Import this file instead of downloading: an OSV all.zip, a FriendsOfPHP "
        "tar.gz or folder, or a retire.js jsrepository.json (repeatable).",
    ),
    osv_url: str = typer.Option("https://osv-vulnerabilities.storage.googleapis.com", "--osv-url"),
    ecosystems: str = typer.Option("PyPI,npm,Packagist", "--ecosystems", help="OSV exports to download."),
    friendsofphp_url: str = typer.Option(
        "https://github.com/FriendsOfPHP/security-advisories/archive/refs/heads/master.tar.gz",
        "--friendsofphp-url",
    ),
    retire_url: str = typer.Option(
        "https://raw.githubusercontent.com/RetireJS/retire.js/master/repository/jsrepository.json",
        "--retire-url",
    ),
    wordfence_from: list[Path] | None = typer.Option(
        None,
        "--wordfence-from",
        help="Import this Wordfence Intelligence feed file (WordPress plugins, themes and core; "
        "the production or scanner feed, v2 or v3) instead of downloading (repeatable).",
    ),
    wordfence_url: str = typer.Option(
        "https://www.wordfence.com/api/intelligence/v2/vulnerabilities/production",
        "--wordfence-url",
        help="Wordfence feed to download (the v3 feeds need --wordfence-key).",
    ),
    wordfence_key: str | None = typer.Option(
        None, "--wordfence-key", envvar="SHOPGUARD_WORDFENCE_API_KEY", help="Wordfence Intelligence API key."
    ),
    no_wordfence: bool = typer.Option(False, "--no-wordfence", help="Do not download the Wordfence feed."),
    eol_url: str = typer.Option("https://endoflife.date/api", "--eol-url", help="endoflife.date API base."),
    no_eol: bool = typer.Option(False, "--no-eol", help="Do not refresh end-of-life data."),
) -> None:
    """Download (or import with --from) advisories and end-of-life data; swap the database in when done."""
    from shopguard.maintenance.vulndb.sync import SyncError, sync

    for s in sources or ():
        if not s.exists():
            fail(f"--from {s}: no such file or folder")
    for s in wordfence_from or ():
        if not s.is_file():
            fail(f"--wordfence-from {s}: no such file")
    try:
        report = sync(
            list(sources or ()),
            download=not sources and not wordfence_from,
            wordfence_feeds=list(wordfence_from or ()),
            wordfence_url=None if no_wordfence else wordfence_url,
            wordfence_key=wordfence_key,
            osv_url=osv_url,
            ecosystems=[e.strip() for e in ecosystems.split(",") if e.strip()],
            friendsofphp_url=friendsofphp_url,
            retire_url=retire_url,
            eol_url=None if no_eol else eol_url,
            progress=lambda msg: err_console.print(msg, markup=False, highlight=False),
        )
    except SyncError as exc:
        fail(f"{exc}; the previous database (if any) is unchanged", ExitCode.RUN_FAILED)
    for name, st in report.stats.items():
        typer.echo(
            f"{name}: {st.advisories} advisories, {st.affected} affected packages, {st.skipped} skipped"
        )
        for w in st.warnings[:10]:
            err_console.print(f"warning: {w}", markup=False, highlight=False)
    if not no_eol:
        typer.echo(f"end-of-life: {report.eol_products} products refreshed")
        for e in report.eol_errors[:10]:
            err_console.print(f"warning: {e} (kept the previous data)", markup=False, highlight=False)
    typer.echo(f"database: {report.database}")


def status_cmd() -> None:
    """When the vulnerability database was last synced, and from what."""
    from shopguard.maintenance.vulndb.db import VulnDBMissing, default_path, read_meta

    try:
        meta = read_meta()
    except VulnDBMissing as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    typer.echo(f"database: {default_path()}")
    typer.echo(f"synced at: {meta.get('synced_at')}")
    for s in meta.get("sources") or []:  # type: ignore[attr-defined]
        typer.echo(f"source: {s}")


def plan_cmd(
    paths: list[Path] | None = PATHS_ARG,
    host: bool = HOST_OPTION,
    online: bool = ONLINE_OPTION,
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    store: str | None = STORE_OPTION,
    config: Path | None = CONFIG_OPTION,
) -> None:
    """One ordered list of upgrades that closes the most risk first, grouped by who upgrades what."""
    from shopguard.maintenance.assess import eol_findings, vulnerability_findings
    from shopguard.maintenance.plan import build_plan, grouped
    from shopguard.maintenance.service import find_vulnerabilities
    from shopguard.maintenance.sources.interface import SourceError
    from shopguard.maintenance.sources.local import LocalSource
    from shopguard.maintenance.sources.osv_api import OsvApiSource

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: expected table or json")
    inv, _ = _gather(paths, host, config, store)
    _print_warnings(inv)
    comps = inv.unique()
    today = dt.date.today()
    source = OsvApiSource() if online else LocalSource()
    try:
        found = find_vulnerabilities(comps, source)
    except SourceError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    plan = build_plan([*vulnerability_findings(found, today, source.name), *eol_findings(comps, today)])
    if fmt == "json":
        typer.echo(json.dumps([{"rank": n, **i.to_dict()} for n, i in enumerate(plan, 1)], indent=2))
        return
    if not plan:
        typer.echo("Nothing to upgrade: no known vulnerabilities or end-of-life software found.")
        return
    console = Console(width=200)
    for title, rows in grouped(plan):
        table = Table("#", "component", "now", "upgrade to", "why", "how", title=title, title_justify="left")
        for n, item in rows:
            table.add_row(
                str(n),
                item.component,
                item.version,
                item.target or "newest",
                "\n".join(item.reasons),
                item.command,
            )
        console.print(table)


def scan_deps(
    paths: list[Path] = typer.Argument(..., help="Web roots, project folders or lockfiles."),
    host: bool = HOST_OPTION,
    online: bool = ONLINE_OPTION,
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: str = typer.Option(
        "high", "--fail-on", help="Exit 1 at or above: critical/high/medium/low/info/never."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Known vulnerabilities and end-of-life software in these folders (stored like an audit)."""
    from shopguard.maintenance.settings import MaintenanceSettings

    report_format = check_format(fmt)
    threshold = check_fail_on(fail_on)
    for p in paths:
        if not p.exists():
            fail(f"{p}: no such file or folder")
    store = Store(
        name="deps",
        storefront_url="http://localhost/",  # type: ignore[arg-type]
        web_roots=tuple(p.resolve() for p in paths),
        maintenance=MaintenanceSettings(
            inventory_host=host, vulnerability_source="osv-api" if online else "local"
        ),
    )
    cfg = Config(stores=(store,))
    sessions = open_db(db, None)
    try:
        run = run_audit(cfg, [store], sessions, selectors=["maintenance"], kind="scan-deps")
    except DatabaseError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except AuditInterrupted:
        raise typer.Exit(130) from None
    for _, check_id, outcome, message in run.executions:
        if outcome != "ok":
            err_console.print(f"error: {check_id}: {message}", markup=False, highlight=False, soft_wrap=True)
    emit(run, report_format, output)
    if run.check_errors:
        raise typer.Exit(int(ExitCode.RUN_FAILED))
    raise typer.Exit(int(exit_code_for(run, threshold)))


def register(app: typer.Typer) -> None:
    app.command("inventory")(inventory_cmd)
    vulndb_app.command("sync")(sync_cmd)
    vulndb_app.command("status")(status_cmd)
    app.add_typer(vulndb_app, name="vulndb")
    maintenance_app.command("plan")(plan_cmd)
    app.add_typer(maintenance_app, name="maintenance")
    scan_app.command("deps")(scan_deps)
