"""``shopguard monitor`` (the daemon) and ``shopguard alerts test CHANNEL``."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, database_url, fail, load, open_db

alerts_app = typer.Typer(
    help="Alert channels: the apprise URLs listed under alerts in shopguard.toml.", no_args_is_help=True
)


def _parse_listen(text: str) -> tuple[str, int] | None:
    if text.lower() in {"", "off", "none"}:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--listen {text!r}: expected HOST:PORT such as 127.0.0.1:9464, or 'off'")
    return host.strip("[]"), int(port)


def monitor_command(
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
    store: str | None = typer.Option(None, "--store", help="Only this store's monitors."),
    listen: str = typer.Option(
        "127.0.0.1:9464",
        "--listen",
        help="Loopback HOST:PORT for /metrics and heartbeat pushes ('off' to disable).",
    ),
    install_service: Path | None = typer.Option(
        None, "--install-service", help="Write a systemd unit file to this path (not enabled) and exit."
    ),
    status: bool = typer.Option(False, "--status", help="Print each monitor's state and uptime, then exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run the monitoring daemon in the foreground (Ctrl-C stops it)."""
    cfg_path, cfg = load(config)
    if install_service is not None:
        from shopguard.monitoring.service import unit_text

        try:
            install_service.write_text(
                unit_text(cfg_path, database_url(db, cfg), listen=listen), encoding="utf-8"
            )
        except OSError as exc:
            fail(f"cannot write {install_service}: {exc.strerror}")
        typer.echo(f"wrote {install_service}; enable it with: systemctl enable --now {install_service.stem}")
        return
    try:
        stores = cfg.store(store)
    except Exception as exc:
        fail(str(exc))
    sm = open_db(db, cfg)
    if status:
        _print_status(sm, [s.name for s in stores])
        return
    from shopguard.monitoring.engine import Daemon
    from shopguard.web.channels import with_dashboard_channels
    from shopguard.web.vault import VaultError

    try:
        cfg = with_dashboard_channels(cfg, sm)  # channels added in the dashboard, decrypted
    except VaultError as exc:
        fail(f"alert channels added in the dashboard cannot be read: {exc}")

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    daemon = Daemon(cfg, sm, stores, listen=_parse_listen(listen))
    if not daemon.monitors:
        fail("no monitors configured (all stores have [stores.monitors] enabled = false?)")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready(d: Daemon) -> None:
            host = listen.rpartition(":")[0]
            where = f" (metrics and heartbeats on {host}:{d.bound_port})" if d.bound_port else ""
            logging.getLogger("shopguard.monitor").info("monitoring %d monitors%s", len(d.monitors), where)

        await daemon.run(stop, ready)

    try:
        asyncio.run(main())
    except OSError as exc:  # e.g. the metrics/heartbeat port is taken
        fail(
            f"monitor could not start: {exc.strerror or exc} "
            f"(listen address {listen}; change it with --listen)"
        )


def _print_status(sm: object, stores: list[str]) -> None:
    from sqlalchemy import select

    from shopguard.monitoring.models import MonitorStateRecord
    from shopguard.monitoring.stats import latency, uptime

    console = Console(width=None if Console().is_terminal else 200)
    table = Table("monitor", "state", "since", "24h", "7d", "30d", "90d", "p95 ms", "last result")
    with sm() as s:  # type: ignore[operator]
        rows = list(s.scalars(select(MonitorStateRecord).where(MonitorStateRecord.store.in_(stores))))
    for r in sorted(rows, key=lambda r: r.key):
        ups = []
        for w in ("24h", "7d", "30d", "90d"):
            pct = uptime(sm, r.key, w).percent  # type: ignore[arg-type]
            ups.append("-" if pct is None else f"{pct:.2f}%")
        p95 = latency(sm, r.key, "24h")["p95"]  # type: ignore[arg-type]
        since = r.since.strftime("%Y-%m-%d %H:%M") if r.since else "-"
        table.add_row(r.key, r.status, since, *ups, "-" if p95 is None else f"{p95:.0f}", r.last_message[:60])
    console.print(table)


@alerts_app.command("test")
def alerts_test(
    channel: str = typer.Argument(..., help="Name of an [[alerts]] channel."),
    config: Path | None = CONFIG_OPTION,
) -> None:
    """Send a test message through one alert channel."""
    from datetime import UTC, datetime

    from shopguard.monitoring import AlertEvent
    from shopguard.monitoring.channels import render, send

    _path, cfg = load(config)
    chosen = [c for c in cfg.alerts if c.name == channel]
    if not chosen:
        known = ", ".join(c.name for c in cfg.alerts) or "none configured"
        fail(f"no alert channel named {channel!r} (channels: {known})")
    event = AlertEvent(
        store=cfg.stores[0].name if cfg.stores else "-",
        monitor="test",
        kind="test",
        event="test",
        severity=chosen[0].min_severity.value,
        cause="This is a test message from `shopguard alerts test`. If you read it, the channel works.",
        at=datetime.now(UTC),
    )
    title, body = render(event)
    result = send(chosen, title, body)
    if result.delivered:
        typer.echo(f"sent a test message through {channel}")
        return
    fail(f"could not deliver through {channel}: {'; '.join(result.failed)}", ExitCode.RUN_FAILED)


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor_command)
    app.add_typer(alerts_app, name="alerts")
