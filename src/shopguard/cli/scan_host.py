"""``shopguard scan host [ssh://user@host:port]``: the hosting audit of one machine,
and ``shopguard hosts trust ssh://...``: confirm and record an SSH host key."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import typer

from shopguard.audit import AuditInterrupted, run_audit
from shopguard.checks import DEFAULT_TIMEOUT_S, SelectorError, all_checks, select
from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, err_console, fail, open_db
from shopguard.cli.output import ProgressReporter, check_fail_on, check_format, emit, exit_code_for
from shopguard.cli.scan import scan_app
from shopguard.config import Config, ConfigError, Store, find_config, load_config
from shopguard.db import DatabaseError
from shopguard.db.repository import StoredRun
from shopguard.hosting.score import HardeningScore, hardening_score
from shopguard.reports import ReportFormat


def _group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The existing sub-command group ``name`` (another package may have made it), or a new one."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def _adhoc_store(target: str, ssh_key: Path | None, known_hosts: Path | None) -> Store:
    label = "local-" + socket.gethostname() if target == "local" else target.removeprefix("ssh://")
    safe = "".join(c if c.isalnum() or c in "_.-" else "-" for c in label).strip("-.") or "host"
    return Store(
        name=f"host-{safe}"[:100],
        storefront_url="http://localhost/",  # type: ignore[arg-type]
        host=target,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
    )


def score_of(run: StoredRun) -> HardeningScore:
    findings = [sf.finding for sf in run.findings if sf.counts_as_open]
    errors = sum(
        1 for _, check_id, outcome, _ in run.executions if check_id.startswith("hosting.") and outcome != "ok"
    )
    return hardening_score(findings, errors)


def scan_host(
    target: str = typer.Argument("local", help="ssh://user@host:port, or omit for this machine."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    store_name: str | None = typer.Option(
        None, "--store", "-s", help="Use this store's host, keys, databases and [stores.hosting] settings."
    ),
    ssh_key: Path | None = typer.Option(None, "--ssh-key", help="Private key for SSH (default: ssh-agent)."),
    known_hosts: Path | None = typer.Option(None, "--known-hosts", help="Default: ~/.ssh/known_hosts."),
    only: str | None = typer.Option(
        None,
        "--only",
        help="Only these hosting check-id prefixes, comma-separated (e.g. hosting.ssh,hosting.nginx).",
    ),
    fail_on: str = typer.Option(
        "high", "--fail-on", help="Exit 1 at/above: critical/high/medium/low/info/never."
    ),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
    timeout: float = typer.Option(DEFAULT_TIMEOUT_S, "--timeout", help="Seconds each check may take."),
) -> None:
    """Audit a server's hardening (OS, SSH, firewall, nginx, PHP, files, databases, caches, logs)."""
    report_format = check_format(fmt)
    threshold = check_fail_on(fail_on)
    selectors = [x.strip() for x in (only or "hosting").split(",") if x.strip()]
    for sel in selectors:
        if sel != "hosting" and not sel.startswith("hosting."):
            fail(f"--only {sel!r}: scan host runs hosting checks only; use a prefix such as hosting.ssh")
    try:
        select(all_checks(), selectors)
    except SelectorError as exc:
        fail(str(exc))
    cfg = Config()
    try:
        cfg = load_config(find_config(config))
    except ConfigError as exc:
        if config is not None or store_name is not None:
            fail(str(exc))
    try:
        if store_name is not None:
            store = cfg.store(store_name)[0]
            if target != "local":
                store = store.model_copy(
                    update={
                        "host": Store.model_validate(
                            {"name": "x", "storefront_url": "http://localhost/", "host": target}
                        ).host
                    }
                )
        else:
            store = _adhoc_store(target, ssh_key, known_hosts)
    except (ConfigError, ValueError) as exc:
        fail(f"{target!r}: {exc}".replace("\n", " "))
    if ssh_key is not None or known_hosts is not None:
        store = store.model_copy(
            update={k: v for k, v in (("ssh_key", ssh_key), ("known_hosts", known_hosts)) if v}
        )
    sessions = open_db(db, cfg)
    try:
        with ProgressReporter(f"Auditing {store.host}") as progress:
            run = run_audit(
                cfg,
                [store],
                sessions,
                selectors=selectors,
                kind="scan-host",
                timeout=timeout,
                progress=progress.callback,
            )
    except DatabaseError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    except AuditInterrupted as stop:
        err_console.print(f"interrupted: run {stop.run_id} is stored as interrupted", markup=False)
        raise typer.Exit(130) from None
    emit(run, report_format, output)
    line = score_of(run).describe()
    if report_format is ReportFormat.TABLE and output is None:
        typer.echo(line)
    else:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    hosting_runs = [e for e in run.executions if e[1].startswith("hosting.")]
    if hosting_runs and all(e[2] != "ok" for e in hosting_runs):
        err_console.print(
            f"error: no hosting check could run on {store.host}: {hosting_runs[0][3]}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(int(ExitCode.RUN_FAILED))
    raise typer.Exit(int(exit_code_for(run, threshold)))


def trust(
    target: str = typer.Argument(..., help="ssh://user@host:port"),
    known_hosts: Path | None = typer.Option(None, "--known-hosts", help="Default: ~/.ssh/known_hosts."),
    fingerprint: str | None = typer.Option(
        None,
        "--fingerprint",
        help="Expected SHA256:... fingerprint (from the hosting provider); skips the prompt "
        "when it matches, refuses when it does not.",
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Record without asking (only after checking the fingerprint!)."
    ),
) -> None:
    """Confirm a server's SSH host key and record it in known_hosts (first use)."""
    from shopguard.hosting.transport.interface import TransportError
    from shopguard.hosting.transport.ssh import default_known_hosts, fetch_host_key, record_host_key

    path = known_hosts or default_known_hosts()
    try:
        key = asyncio.run(fetch_host_key(target))
    except ValueError as exc:
        fail(str(exc))
    except TransportError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    seen = key.get_fingerprint("sha256")
    typer.echo(f"{target} presents a {key.get_algorithm()} key with fingerprint {seen}")
    if fingerprint is not None:
        if fingerprint.strip() != seen:
            fail(
                f"fingerprint mismatch: expected {fingerprint}, the server sent {seen}; NOT recorded "
                "(someone may be intercepting the connection)",
                ExitCode.RUN_FAILED,
            )
    elif not yes and not typer.confirm(
        "Is this the fingerprint your hosting provider shows for this server?"
    ):
        fail("not recorded", ExitCode.USAGE)
    line = record_host_key(target, key, path)
    typer.echo(f"Recorded in {path}: {line.split()[0]} {key.get_algorithm()}")


def register(app: typer.Typer) -> None:
    scan_app.command("host")(scan_host)  # the shared group; cli/scan.py adds it to the app
    _group(app, "hosts", "Servers ShopGuard audits over SSH.").command("trust")(trust)
