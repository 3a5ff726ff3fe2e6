"""``shopguard serve`` (the dashboard) and ``shopguard users`` (dashboard accounts)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, open_db

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session, sessionmaker

    from shopguard.monitoring.background import DaemonThread

users_app = typer.Typer(help="Dashboard accounts.", no_args_is_help=True)


def _config_if_any(config_path: Path | None) -> object | None:
    from shopguard.config import ConfigError, find_config, load_config

    try:
        return load_config(find_config(config_path))
    except ConfigError:
        if config_path is not None:
            raise
        return None


def _tls_files(cert: Path | None, key: Path | None) -> dict[str, str]:
    """uvicorn's TLS arguments, after checking the files. The private key must be readable by its
    owner only, like the dashboard's secret key file: anyone who can read it can impersonate the
    dashboard and read its sessions."""
    import ssl
    import stat

    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        fail("--tls-cert and --tls-key go together (the certificate chain and its private key, PEM)")
    for label, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            fail(f"{label} {path}: no such file (expected a PEM file)")
    if stat.S_IMODE(key.stat().st_mode) & 0o077:
        fail(f"--tls-key {key}: the private key must be readable by its owner only (chmod 600 {key})")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        fail(f"--tls-cert {cert} / --tls-key {key}: not a PEM certificate and its matching key ({exc})")
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8470, "--port", min=1, max=65535),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
    cookie_secure: str = typer.Option(
        "auto", "--cookie-secure", help="auto (Secure when served over HTTPS), always or never."
    ),
    proxy: bool = typer.Option(False, "--behind-proxy", help="Trust X-Forwarded-* from a proxy on loopback."),
    totp_admins: bool = typer.Option(
        False, "--require-totp-for-admins", help="Owners and admins must set up two-factor sign-in first."
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (more than one needs PostgreSQL)."
    ),
    tls_cert: Path | None = typer.Option(
        None, "--tls-cert", help="Serve HTTPS with this certificate (PEM, with its chain)."
    ),
    tls_key: Path | None = typer.Option(
        None, "--tls-key", help="The certificate's private key (PEM, chmod 600)."
    ),
    no_monitoring: bool = typer.Option(
        False, "--no-monitoring", help="Do not run the monitoring daemon in this process."
    ),
    monitoring_listen: str = typer.Option(
        "off",
        "--monitoring-listen",
        help="Loopback HOST:PORT for the daemon's /metrics and heartbeat pushes ('off' by default).",
    ),
) -> None:
    """Start the web dashboard (and, with a config, the monitoring daemon in the same process)."""
    from shopguard.config import Config, ConfigError
    from shopguard.web import create_app
    from shopguard.web.settings import WebSettings
    from shopguard.web.vault import VaultError

    if cookie_secure not in ("auto", "always", "never"):
        fail("--cookie-secure: expected auto, always or never")
    tls = _tls_files(tls_cert, tls_key)
    scheme = "https" if tls else "http"
    try:
        cfg = _config_if_any(config)
    except ConfigError as exc:
        fail(str(exc))
    sessions = open_db(db, cfg if isinstance(cfg, Config) else None)
    try:
        app = create_app(
            sessions,
            WebSettings(cookie_secure=cookie_secure, require_totp_for_admins=totp_admins),  # type: ignore[arg-type]
            cfg if isinstance(cfg, Config) else None,
        )
    except VaultError as exc:
        fail(str(exc), ExitCode.RUN_FAILED)
    if host not in ("127.0.0.1", "localhost", "::1") and not tls:
        typer.echo(
            f"warning: listening on {host} over plain HTTP; use --tls-cert/--tls-key or put it "
            "behind an HTTPS proxy (--behind-proxy --cookie-secure always)",
            err=True,
        )
    shown = f"[{host}]" if ":" in host else host
    monitor = None if no_monitoring else _start_monitoring(cfg, sessions, monitoring_listen)
    typer.echo(f"ShopGuard dashboard on {scheme}://{shown}:{port}/ (Ctrl-C to stop)")
    try:
        _keep_signals_for_shutdown()
        _serve(app, host, port, proxy, workers, tls, db, cfg, config, cookie_secure, totp_admins)
    finally:
        if monitor is not None and not monitor.stop():
            typer.echo("warning: the monitoring daemon did not stop within 30 s", err=True)


def _keep_signals_for_shutdown() -> None:
    """uvicorn stops on SIGINT/SIGTERM and then raises the signal again for the handler that
    was there before it; with Python's defaults that kills the process (or raises
    KeyboardInterrupt) before the monitoring daemon could finish writing. A handler that only
    takes note lets ``uvicorn.run`` return, so everything stops in order and the exit is 0."""
    import signal

    def noted(signum: int, frame: object) -> None:
        return None

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, noted)


def _start_monitoring(cfg: object, sessions: sessionmaker[Session], listen: str) -> DaemonThread | None:
    """The monitoring daemon in a thread of this process, when the config has monitors."""
    from shopguard.cli.monitor import _parse_listen
    from shopguard.config import Config
    from shopguard.monitoring.background import DaemonThread
    from shopguard.monitoring.engine import Daemon

    if not isinstance(cfg, Config):
        typer.echo(
            "monitoring: off (no config; start with --config shopguard.toml to monitor stores)", err=True
        )
        return None
    daemon = Daemon(cfg, sessions, cfg.stores, listen=_parse_listen(listen))
    if not daemon.monitors:
        typer.echo("monitoring: off (no monitors configured)", err=True)
        return None
    thread = DaemonThread(daemon)
    try:
        thread.start()
    except OSError as exc:
        fail(f"monitoring could not start: {exc.strerror or exc} (--monitoring-listen {listen})")
    except Exception as exc:
        fail(f"monitoring could not start: {exc}")
    typer.echo(
        f"monitoring: {len(daemon.monitors)} monitors in this process (--no-monitoring to leave it out)"
    )
    return thread


def _serve(
    app: FastAPI,
    host: str,
    port: int,
    proxy: bool,
    workers: int,
    tls: dict[str, str],
    db: str | None,
    cfg: object,
    config: Path | None,
    cookie_secure: str,
    totp_admins: bool,
) -> None:
    import uvicorn

    from shopguard.config import Config

    if workers > 1:
        import os

        from shopguard.cli.common import database_url
        from shopguard.web import factory

        url = database_url(db, cfg if isinstance(cfg, Config) else None)
        if not url.startswith("postgresql"):
            fail("--workers above 1 needs PostgreSQL (SQLite allows one writer process)")
        os.environ[factory.ENV_DB] = url
        if cfg is not None:
            from shopguard.config import find_config

            os.environ[factory.ENV_CONFIG] = str(find_config(config))
        os.environ[factory.ENV_COOKIE] = cookie_secure
        os.environ[factory.ENV_TOTP] = "1" if totp_admins else "0"
        uvicorn.run(
            "shopguard.web.factory:from_env", factory=True, workers=workers, host=host, port=port,
            log_level="warning", proxy_headers=proxy, forwarded_allow_ips="127.0.0.1", server_header=False,
            **tls,  # type: ignore[arg-type]
        )  # fmt: skip
        return
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=proxy,
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        **tls,  # type: ignore[arg-type]
    )


@users_app.command("create-admin")
def create_admin(
    email: str = typer.Argument(..., help="The administrator's email (their login)."),
    name: str = typer.Option("", "--name"),
    owner: bool = typer.Option(True, "--owner/--admin", help="Create an owner (default) or an admin."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Create the first (or another) administrator. There is never a default password."""
    from shopguard.config import Config
    from shopguard.web import auditlog
    from shopguard.web.permissions import Role
    from shopguard.web.users import UserError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("Again: ") != password:
            fail("the passwords differ")
    try:
        cfg = _config_if_any(config)
    except Exception as exc:
        fail(str(exc))
    sessions = open_db(db, cfg if isinstance(cfg, Config) else None)
    role = Role.OWNER if owner else Role.ADMIN
    try:
        with sessions.begin() as s:
            user = create_user(s, email, name, role, password)
            auditlog.record(s, "cli", "user.create", user.email, "", {"role": role.value})
    except UserError as exc:
        fail(str(exc))
    typer.echo(f"created {role.value} {user.email}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(users_app, name="users")
