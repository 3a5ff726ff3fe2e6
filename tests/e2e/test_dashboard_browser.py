"""The dashboard in a real browser: Debian's chromium driven by Playwright, against
`shopguard serve` started as a subprocess on a free loopback port with a temp SQLite DB.

Screenshots of each page go to tests/e2e/screenshots/ (git-ignored; a CI artifact).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright
from tests.web.conftest import ACK_SLUG, PASSWORD, ROLE_EMAIL, make_config, seed_run

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    from shopguard.policies.library import approve, init_library, publish
    from shopguard.policies.people import add_person

    url = f"sqlite:///{tmp_path / 'sg.db'}"
    db = open_database(url)
    seed_run(db)
    with db.begin() as s:
        for role in (Role.OWNER, Role.EMPLOYEE):
            create_user(s, ROLE_EMAIL[role], role.value.title(), role, PASSWORD)
    config = make_config()
    init_library(db, config)
    approve(db, ACK_SLUG, "Ann Owner")
    publish(db, ACK_SLUG)
    add_person(db, ROLE_EMAIL[Role.EMPLOYEE], "Emma Employee", "staff", config.policies)
    db.kw["bind"].dispose()
    port = _free_port()
    env = {**os.environ, "SHOPGUARD_HOME": str(tmp_path / "home"), "SHOPGUARD_DB": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopguard", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
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


def _login(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_owner_triages_and_employee_acknowledges(server: str, tmp_path: Path) -> None:
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context()
            page = ctx.new_page()
            page.on(
                "console",
                lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            # An anonymous visit to a deep link goes to login and comes back after it.
            page.goto(f"{server}/findings?protocol=scanning")
            assert "/login" in page.url
            _shot(page, "login")
            page.fill("input[name=email]", ROLE_EMAIL[Role.OWNER])
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/findings?protocol=scanning")
            _shot(page, "findings")
            page.goto(f"{server}/")
            assert page.locator("#overview tbody tr").count() == 2
            # Most at risk first: beta has a critical finding and a failed check.
            assert page.locator("#overview tbody tr").first.inner_text().startswith("beta")
            _shot(page, "overview")

            # The filters update the list in place (htmx) and the address bar follows.
            page.goto(f"{server}/findings")
            assert page.locator("#findings tbody tr").count() == 3
            page.select_option("select[name=severity]", "critical")
            page.wait_for_url("**severity=critical**")
            page.locator("#total", has_text="1 finding").wait_for()
            assert page.locator("#findings tbody tr").count() == 1
            page.goto(f"{server}/findings")
            page.click("text=The shop does not ask browsers to always use HTTPS")
            assert "Strict-Transport-Security" in page.inner_text("main")
            # Without a reason the form comes back with the field marked, nothing saved.
            # (htmx posts the form and swaps the finding in place; a 400 is swapped in too.)
            page.check("input[value=accept_risk]")
            page.click("text=Save triage")
            page.wait_for_selector("textarea[aria-invalid=true]")
            assert page.inner_text("#triage").startswith("none")
            page.fill("textarea[name=reason]", "HSTS is added by our CDN in front of the shop")
            page.click("text=Save triage")
            page.locator("#triage", has_text="accepted risk").wait_for()
            _shot(page, "finding")

            for path, name in [
                ("/runs", "runs"),
                ("/runs/1", "run"),
                ("/audit", "audit"),
                ("/settings/users", "users"),
                ("/settings/secrets", "secrets"),
                ("/account", "account"),
            ]:
                page.goto(server + path)
                assert page.locator("h1").count() >= 1
                _shot(page, name)
            page.goto(f"{server}/audit")
            assert "Chain intact" in page.inner_text("#chain-status")
            assert "finding.triage" in page.inner_text("#audit")
            page.click("text=Log out")
            page.wait_for_url(f"{server}/login")

            # The employee lands on their own policies and acknowledges one.
            emp = browser.new_context().new_page()
            _login(emp, server, ROLE_EMAIL[Role.EMPLOYEE])
            emp.wait_for_url(f"{server}/my/policies")
            assert emp.locator(f"#policy-{ACK_SLUG}").count() == 1
            _shot(emp, "my-policies")
            emp.locator(f"#policy-{ACK_SLUG} button").click()
            assert "tick the box" in emp.inner_text(f"#policy-{ACK_SLUG}")
            emp.locator(f"#policy-{ACK_SLUG} input[name=confirm]").check()
            emp.locator(f"#policy-{ACK_SLUG} button").click()
            emp.wait_for_selector("#ack-done")
            assert emp.locator(f"#policy-{ACK_SLUG}").count() == 0
            _shot(emp, "my-policies-done")
            # Employees cannot open the findings.
            resp = emp.goto(f"{server}/findings")
            assert resp is not None and resp.status == 403
        finally:
            browser.close()
    assert csp_errors == []
