"""``shopguard scan files`` and ``shopguard files allow``: malicious code in web roots."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import typer

from shopguard.audit import AuditInterrupted, run_audit
from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, err_console, fail, load, open_db
from shopguard.cli.output import ProgressReporter, check_fail_on, check_format, emit, exit_code_for
from shopguard.cli.scan import scan_app
from shopguard.config import Config, ConfigError, Store
from shopguard.db import DatabaseError
from shopguard.findings import Severity

files_app = typer.Typer(
    name="files", help="File-scan helpers: allow-lists of known-good files.", no_args_is_help=True
)


def adhoc_store(paths: list[Path], base: Store | None = None) -> Store:
    """A store for ``scan files PATH...``: named after the paths so that rescans of
    the same paths update the same findings, and other paths do not resolve them."""
    roots = tuple(p.resolve() for p in paths)
    digest = hashlib.sha256("\0".join(sorted(str(r) for r in roots)).encode()).hexdigest()[:10]
    if base is not None:
        return base.model_copy(update={"name": f"{base.name}-paths-{digest}", "web_roots": roots})
    return Store.model_validate(
        {"name": f"paths-{digest}", "storefront_url": "http://localhost/", "web_roots": roots}
    )


def _with_rules(store: Store, rules: list[Path], third_party: bool) -> Store:
    if not rules and not third_party:
        return store
    files = store.files.model_copy(
        update={
            "rule_folders": store.files.rule_folders + tuple(r.resolve() for r in rules),
            "third_party_rules": third_party or store.files.third_party_rules,
        }
    )
    return store.model_copy(update={"files": files})


@scan_app.command("files")
def scan_files(
    paths: list[Path] = typer.Argument(
        None, help="Folders or files to scan (default: the stores' web roots)."
    ),
    config: Path | None = CONFIG_OPTION,
    store: str | None = typer.Option(None, "--store", "-s", help="Only this store (default: all)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    quarantine_dir: Path | None = typer.Option(
        None,
        "--quarantine",
        help="Copy flagged files (medium or worse) here with their sha256; moves nothing.",
    ),
    rules: list[Path] = typer.Option(
        [],
        "--rules",
        help="Extra YARA rule folder or file (repeatable); a rule with an error stops the scan.",
    ),
    third_party: bool = typer.Option(
        False,
        "--third-party-rules",
        help="Define the variables public rule sets expect (filename, filepath ...).",
    ),
    fail_on: str = typer.Option(
        "high",
        "--fail-on",
        help="Exit 1 when an open finding is at or above: critical/high/medium/low/info/never.",
    ),
    db: str | None = DB_OPTION,
    timeout: float = typer.Option(3600.0, "--timeout", help="Seconds the scan may take."),
) -> None:
    """Scan files for card skimmers, backdoors and injected code (content-based, not by extension)."""
    from shopguard.scanning.files.rules import RuleError
    from shopguard.scanning.files.scan import CHECK_ID, spec_for

    report_format = check_format(fmt)
    threshold = check_fail_on(fail_on)
    cfg: Config
    if paths:
        cfg = load(config)[1] if config is not None else Config()
        base = cfg.store(store)[0] if (store and cfg.stores) else None
        if base is not None and not base.is_local_host:  # paths on the store's SSH host
            relative = [p for p in paths if not p.is_absolute()]
            if relative:
                fail(f"{relative[0]}: give absolute paths on the store's host ({base.host})")
            digest = hashlib.sha256("\0".join(sorted(map(str, paths))).encode()).hexdigest()[:10]
            stores = [
                base.model_copy(update={"name": f"{base.name}-paths-{digest}", "web_roots": tuple(paths)})
            ]
        else:
            missing = [p for p in paths if not os.path.lexists(p)]
            if missing:
                fail(f"{missing[0]}: no such file or folder")
            stores = [adhoc_store(paths, base)]
    else:
        cfg = load(config)[1]
        try:
            stores = [s for s in cfg.store(store) if s.web_roots]
        except ConfigError as exc:
            fail(str(exc))
        if not stores:
            fail("no store has web_roots in the config; add web_roots or give the paths to scan")
    stores = [_with_rules(s, rules, third_party) for s in stores]
    for s in stores:  # refuse to start on a broken rule file or allow-list
        try:
            spec_for(s)
        except (RuleError, ValueError) as exc:
            fail(str(exc))
    cfg = cfg.model_copy(update={"stores": tuple(stores)})
    sessions = open_db(db, cfg)
    try:
        with ProgressReporter("Scanning files") as progress:
            run = run_audit(
                cfg,
                stores,
                sessions,
                selectors=[CHECK_ID],
                kind="scan-files",
                timeout=timeout,
                concurrency=1,
                progress=progress.callback,
            )
    except DatabaseError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except AuditInterrupted as stop:
        err_console.print(f"interrupted: run {stop.run_id} is stored as interrupted", markup=False)
        raise typer.Exit(130) from None
    emit(run, report_format, output)
    if quarantine_dir is not None:
        _quarantine(run, quarantine_dir)
    if run.check_errors:
        for _store, check_id, outcome, message in run.executions:
            if outcome != "ok":
                err_console.print(f"{check_id}: {outcome}: {message}", markup=False, highlight=False)
        raise typer.Exit(int(ExitCode.RUN_FAILED))
    raise typer.Exit(int(exit_code_for(run, threshold)))


def _quarantine(run: object, dest: Path) -> None:
    from shopguard.scanning.files.quarantine import quarantine
    from shopguard.scanning.files.scan import CHECK_ID

    items = [
        (sf.finding.location, sf.finding.title)
        for sf in getattr(run, "findings", ())
        if sf.finding.check_id == CHECK_ID and sf.counts_as_open and sf.finding.severity >= Severity.MEDIUM
    ]
    if not items:
        err_console.print("Nothing to quarantine.", markup=False)
        return
    folder, done, errors = quarantine(items, dest)
    err_console.print(
        f"Copied {len(done)} file(s) to {folder} (manifest.json lists their sha256).", markup=False
    )
    for q in done:
        err_console.print(f"  after restoring a clean copy, delete or replace: {q.original}", markup=False)
    for e in errors:
        err_console.print(f"  not copied: {e}", markup=False, highlight=False)


@files_app.command("allow")
def allow(
    paths: list[Path] = typer.Argument(None, help="Known-good files or folders."),
    from_release: list[str] = typer.Option(
        [],
        "--from-release",
        help="An official release of your platform: an unpacked folder, its .zip, or the word 'store' "
        "(the release each store's web roots run, found by the inventory and downloaded). Repeatable.",
    ),
    checksums: bool = typer.Option(
        False,
        "--checksums",
        help="With --from-release store on WordPress: use the official checksums API (MD5 per file) "
        "instead of the release archive; only local files that match are allowed.",
    ),
    locale: str = typer.Option("en_US", "--locale", help="WordPress locale for --checksums."),
    config: Path | None = CONFIG_OPTION,
    store: str | None = typer.Option(None, "--store", "-s", help="Only this store (default: all)."),
    allow_list: Path | None = typer.Option(
        None,
        "--list",
        help="Allow-list file to append to (default: allowlist.sha256 in the user data folder).",
    ),
) -> None:
    """Add the sha256 of known-good files to the hash allow-list (files with these exact
    contents are never reported). Point it at an official release of your platform."""
    from shopguard.scanning.files.release import ReleaseError
    from shopguard.scanning.files.scan import default_allow_list

    from_stores = [v for v in from_release if v == "store" and not Path(v).exists()]
    given = [*(paths or []), *(Path(v) for v in from_release if v not in from_stores)]
    if not given and not from_stores:
        fail("give the known-good files or folders, or --from-release DIR|ZIP|store")
    if checksums and not from_stores:
        fail("--checksums works with --from-release store (WordPress)")
    missing = [p for p in given if not p.exists()]
    if missing:
        fail(f"{missing[0]}: no such file or folder (for the store's own release: --from-release store)")
    lines: list[str] = []
    try:
        for p in given:
            lines.extend(_release_zip_lines(p) if zipfile.is_zipfile(p) and p.is_file() else _tree_lines(p))
        if from_stores:
            lines.extend(_store_release_lines(config, store, checksums, locale))
    except ReleaseError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    if not lines:
        fail("no readable files found in the given paths")
    target = allow_list or default_allow_list()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as f:
        f.writelines(lines)
    err_console.print(f"Added {len(lines)} hashes to {target}", markup=False)


def _tree_lines(path: Path) -> list[str]:
    from shopguard.scanning.files.walker import WalkStats, display_path, walk

    out: list[str] = []
    for file, _ in walk([path], WalkStats()):
        h = hashlib.sha256()
        try:
            with open(file, "rb") as f:
                while chunk := f.read(1024 * 1024):
                    h.update(chunk)
        except OSError as exc:
            err_console.print(f"skipped {display_path(file)}: {exc.strerror}", markup=False)
            continue
        out.append(f"{h.hexdigest()}  {display_path(file)}\n")
    return out


def _release_zip_lines(archive: Path, label: str | None = None) -> list[str]:
    from shopguard.scanning.files.release import ReleaseSource, zip_hashes

    return _release_lines(zip_hashes(archive, ReleaseSource(), label))


def _store_release_lines(config: Path | None, store: str | None, checksums: bool, locale: str) -> list[str]:
    """Hashes from the official release of each store's platform, at the version found."""
    from shopguard.scanning.files.release import (
        DEFAULT_RELEASE_URLS,
        ReleaseError,
        ReleaseSource,
        fetch_archive,
        match_checksums,
        platforms_in,
        release_url,
        wordpress_checksums,
        zip_hashes,
    )

    cfg = load(config)[1]
    try:
        stores = [s for s in cfg.store(store) if s.web_roots]
    except ConfigError as exc:
        fail(str(exc))
    if not stores:
        fail("no store has web_roots in the config; add web_roots, or give --from-release DIR|ZIP")
    remote = [s.name for s in stores if not s.is_local_host]
    if remote:
        fail(f"store {remote[0]!r} is on a remote host: run `shopguard files allow` on that host")
    lines: list[str] = []
    for s in stores:
        settings = s.files
        source = ReleaseSource(
            urls={**DEFAULT_RELEASE_URLS, **settings.release_urls},
            checksums_url=settings.wordpress_checksums_url,
            cache_dir=settings.release_cache,
            max_bytes=settings.release_max_mb * 1024 * 1024,
        )
        found, notes = platforms_in([Path(r) for r in s.web_roots])
        for note in notes:
            err_console.print(f"{s.name}: {note}", markup=False, highlight=False)
        for platform in found:
            what = f"{platform.name} {platform.version}"
            if checksums:
                if platform.name != "wordpress":
                    raise ReleaseError(f"{platform.root}: --checksums only exists for WordPress, not {what}")
                result = match_checksums(platform.root, wordpress_checksums(platform.version, source, locale))
                lines.extend(f"{h}  {path}\n" for h, path in result.allowed)
                err_console.print(
                    f"{s.name}: {what} in {platform.root}: {len(result.allowed)} files match the official "
                    f"checksums, {result.missing} not present",
                    markup=False,
                    highlight=False,
                )
                for path in result.differ:
                    err_console.print(
                        f"  differs from the official release (not allowed; check it): {path}",
                        markup=False,
                        highlight=False,
                    )
                continue
            url = release_url(platform, source)
            archive = fetch_archive(url, source)
            before = len(lines)
            lines.extend(_release_lines(zip_hashes(archive, source, f"{platform.name}-{platform.version}")))
            err_console.print(
                f"{s.name}: {what} in {platform.root}: {len(lines) - before} files from {url}",
                markup=False,
                highlight=False,
            )
    if not lines:
        raise ReleaseError("no official release found for the stores' web roots (see the notes above)")
    return lines


def _release_lines(hashes: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{h}  release:{name}\n" for h, name in hashes]


def register(app: typer.Typer) -> None:
    app.add_typer(files_app, name="files")
