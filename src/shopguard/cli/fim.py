"""``shopguard fim baseline|check|accept``: file integrity monitoring of the web roots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from shopguard.audit import AuditInterrupted, run_audit
from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, err_console, fail, load, open_db
from shopguard.cli.output import ProgressReporter, check_fail_on, check_format, emit, exit_code_for
from shopguard.config import Config, ConfigError, Store
from shopguard.db import DatabaseError

if TYPE_CHECKING:
    from shopguard.hosting import HostTransport
    from shopguard.scanning.files.fim import Baseline, Comparison
    from shopguard.scanning.files.walker import WalkStats

T = TypeVar("T")

fim_app = typer.Typer(
    name="fim",
    help="File integrity monitoring (PCI DSS 11.5.2): baseline, check, accept changes.",
    no_args_is_help=True,
)
out = Console(highlight=False, markup=False)


def _stores(config: Path | None, store: str | None) -> tuple[Config, list[Store]]:
    cfg = load(config)[1]
    try:
        stores = [s for s in cfg.store(store) if s.web_roots]
    except ConfigError as exc:
        fail(str(exc))
    if not stores:
        fail("no store has web_roots in the config; add web_roots to the store to monitor")
    return cfg, stores


def _on_host(store: Store, work: Callable[[HostTransport], Awaitable[T]]) -> T:
    """Run ``work`` with the store's SSH transport (the hosting protocol's, read-only)."""
    from shopguard.hosting import TransportError, open_transport

    async def main() -> T:
        transport = open_transport(store)
        try:
            return await work(transport)
        finally:
            await transport.aclose()

    try:
        return asyncio.run(main())
    except (TransportError, OSError) as exc:
        fail(
            f"store {store.name!r}: could not read the web roots on {store.host}: {exc}", ExitCode.RUN_FAILED
        )


@fim_app.command("baseline")
def baseline(
    config: Path | None = CONFIG_OPTION,
    store: str | None = typer.Option(None, "--store", "-s", help="Only this store (default: all)."),
    hash_name: str | None = typer.Option(None, "--hash", help="blake3 (default) or sha256."),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing baseline (changes are not reviewed)."
    ),
) -> None:
    """Record every file of the web roots (path, size, times, inode, mode, owner, hash), signed."""
    from shopguard.scanning.files import fim

    _, stores = _stores(config, store)
    for s in stores:
        if fim.baseline_path(s.name).exists() and not force:
            fail(
                f"store {s.name!r} already has a baseline; record reviewed changes with "
                "`shopguard fim accept --reason ...`, or start over with --force"
            )
        start = time.monotonic()
        try:
            if s.is_local_host:
                base, stats = fim.build(
                    s.name, s.web_roots, hash_name or s.files.fim_hash, exclude=s.files.trusted_folders
                )
            else:
                base, stats = _remote_baseline(s, hash_name)
            path = fim.save(base)
        except (fim.BaselineError, ValueError) as exc:
            fail(str(exc))
        out.print(
            f"{s.name}: baseline of {base.count} files ({base.algorithm}) written to {path} "
            f"in {time.monotonic() - start:.1f} s"
            + (f"; {stats.unreadable} unreadable files were left out" if stats.unreadable else "")
        )


@fim_app.command("check")
def check(
    config: Path | None = CONFIG_OPTION,
    store: str | None = typer.Option(None, "--store", "-s", help="Only this store (default: all)."),
    paranoid: bool = typer.Option(
        False, "--paranoid", help="Re-hash every file, even with unchanged metadata."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    fail_on: str = typer.Option("high", "--fail-on", help="Exit 1 at or above this severity (or never)."),
    db: str | None = DB_OPTION,
) -> None:
    """Report files added, removed or changed since the baseline (stored like an audit)."""
    report_format = check_format(fmt)
    threshold = check_fail_on(fail_on)
    cfg, stores = _stores(config, store)
    if paranoid:
        stores = [
            s.model_copy(update={"files": s.files.model_copy(update={"fim_paranoid": True})}) for s in stores
        ]
        cfg = cfg.model_copy(update={"stores": tuple(stores)})
    sessions = open_db(db, cfg)
    try:
        with ProgressReporter("Checking file integrity") as progress:
            run = run_audit(
                cfg, stores, sessions, selectors=["scanning.files.integrity"], kind="fim-check",
                timeout=1800.0, progress=progress.callback,
            )  # fmt: skip
    except DatabaseError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except AuditInterrupted as stop:
        err_console.print(f"interrupted: run {stop.run_id} is stored as interrupted", markup=False)
        raise typer.Exit(130) from None
    emit(run, report_format, output)
    if run.check_errors:
        raise typer.Exit(int(ExitCode.RUN_FAILED))
    raise typer.Exit(int(exit_code_for(run, threshold)))


@fim_app.command("accept")
def accept(
    paths: list[Path] = typer.Argument(None, help="Only accept changes below these paths (default: all)."),
    reason: str = typer.Option(..., "--reason", "-r", help="Why (e.g. 'deploy of release 2.4.1')."),
    by: str | None = typer.Option(None, "--by", help="Who accepts (default: your user name)."),
    config: Path | None = CONFIG_OPTION,
    store: str | None = typer.Option(None, "--store", "-s", help="Only this store (default: all)."),
) -> None:
    """Accept the current state (a deploy) into the baseline, recording who and why."""
    from shopguard.scanning.files import fim

    _, stores = _stores(config, store)
    for s in stores:
        try:
            if s.is_local_host:
                _, accepted = fim.accept(
                    s.name, reason, by=by, paths=paths or (), exclude=s.files.trusted_folders
                )
            else:
                _, accepted = _remote_accept(s, reason, by, paths or [])
        except (fim.BaselineError, ValueError) as exc:
            fail(str(exc))
        counts: dict[str, int] = {}
        for c in accepted.changes:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no changes"
        out.print(f"{s.name}: accepted {summary} into the baseline")


def _remote_baseline(s: Store, hash_name: str | None) -> tuple[Baseline, WalkStats]:
    from shopguard.scanning.files.fim_remote import REMOTE_ALGORITHM, build_remote

    if hash_name not in (None, REMOTE_ALGORITHM):
        fail(f"store {s.name!r} is on a remote host: its files are hashed there with sha256 (--hash sha256)")
    roots = [str(r) for r in s.web_roots]
    excluded = [str(p) for p in s.files.trusted_folders]
    return _on_host(s, lambda t: build_remote(s.name, t, roots, exclude=excluded))


def _remote_accept(s: Store, reason: str, by: str | None, paths: list[Path]) -> tuple[Baseline, Comparison]:
    from shopguard.scanning.files import fim
    from shopguard.scanning.files.fim_remote import compare_remote

    old = fim.load(s.name)
    excluded = [str(p) for p in s.files.trusted_folders]
    holder: dict[str, str] = {}

    async def compared(t: HostTransport) -> Comparison:
        holder["name"] = t.name
        return await compare_remote(old, t, exclude=excluded, keep_current=True)

    comparison = _on_host(s, compared)
    return fim.accept(
        s.name,
        reason,
        by=by,
        paths=paths,
        compared=lambda _b: comparison,
        location_prefix=holder["name"] + ":",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(fim_app, name="fim")
