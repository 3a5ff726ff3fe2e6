"""Shared harness for dashboard browser tests: `shopguard serve` as a subprocess on a free
loopback port over a temp SQLite database, Debian's chromium through Playwright, screenshots
into tests/e2e/screenshots/ (git-ignored; a CI artifact).

Each section's browser test starts its own server with ``dashboard_server(tmp_path, seed)``,
where ``seed(db, config)`` puts that section's data in the database before the server starts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, Playwright
from sqlalchemy.orm import Session, sessionmaker
from tests.web.conftest import PASSWORD, ROLE_EMAIL, make_config, seed_run

from shopguard.config import Config
from shopguard.db import open_database
from shopguard.web.permissions import Role
from shopguard.web.users import create_user

SHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
Seed = Callable[[sessionmaker[Session], Config], None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def dashboard_server(
    tmp_path: Path,
    seed: Seed | None = None,
    roles: tuple[Role, ...] = (Role.OWNER, Role.EMPLOYEE),
    extra_env: Mapping[str, str] | None = None,
    serve_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Seed a database (one run, a user per role in ``roles``), start ``shopguard serve``,
    yield its base URL, stop it."""
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    db = open_database(url)
    seed_run(db)
    with db.begin() as s:
        for role in roles:
            create_user(s, ROLE_EMAIL[role], role.value.title(), role, PASSWORD)
    config = make_config()
    if seed is not None:
        seed(db, config)
    db.kw["bind"].dispose()
    port = free_port()
    env = {**os.environ, "SHOPGUARD_HOME": str(tmp_path / "home"), "SHOPGUARD_DB": url, **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopguard", "serve", "--port", str(port), *serve_args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("shopguard serve did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def launch(pw: Playwright) -> Browser:
    return pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def login(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
