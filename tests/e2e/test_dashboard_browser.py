"""The dashboard in a real browser: Debian's chromium driven by Playwright, against
`shopguard serve` started as a subprocess on a free loopback port with a temp SQLite DB.

Screenshots of each page go to tests/e2e/screenshots/ (git-ignored; a CI artifact).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session, sessionmaker
from tests.e2e.dashboard_harness import dashboard_server, launch, login, shot
from tests.web.conftest import ACK_SLUG, PASSWORD, ROLE_EMAIL

from shopguard.config import Config
from shopguard.web.permissions import Role


def _seed_policies(db: sessionmaker[Session], config: Config) -> None:
    from shopguard.policies.library import approve, init_library, publish
    from shopguard.policies.people import add_person

    init_library(db, config)
    approve(db, ACK_SLUG, "Ann Owner")
    publish(db, ACK_SLUG)
    add_person(db, ROLE_EMAIL[Role.EMPLOYEE], "Emma Employee", "staff", config.policies)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with dashboard_server(tmp_path, _seed_policies) as base:
        yield base


def test_owner_triages_and_employee_acknowledges(server: str, tmp_path: Path) -> None:
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch(pw)
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
            shot(page, "login")
            page.fill("input[name=email]", ROLE_EMAIL[Role.OWNER])
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/findings?protocol=scanning")
            shot(page, "findings")
            page.goto(f"{server}/")
            assert page.locator("#overview tbody tr").count() == 2
            # Most at risk first: beta has a critical finding and a failed check.
            assert page.locator("#overview tbody tr").first.inner_text().startswith("beta")
            shot(page, "overview")

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
            shot(page, "finding")

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
                shot(page, name)
            page.goto(f"{server}/audit")
            assert "Chain intact" in page.inner_text("#chain-status")
            assert "finding.triage" in page.inner_text("#audit")
            page.click("text=Log out")
            page.wait_for_url(f"{server}/login")

            # The employee lands on their own policies and acknowledges one.
            emp = browser.new_context().new_page()
            login(emp, server, ROLE_EMAIL[Role.EMPLOYEE])
            emp.wait_for_url(f"{server}/my/policies")
            assert emp.locator(f"#policy-{ACK_SLUG}").count() == 1
            shot(emp, "my-policies")
            emp.locator(f"#policy-{ACK_SLUG} button").click()
            assert "tick the box" in emp.inner_text(f"#policy-{ACK_SLUG}")
            emp.locator(f"#policy-{ACK_SLUG} input[name=confirm]").check()
            emp.locator(f"#policy-{ACK_SLUG} button").click()
            emp.wait_for_selector("#ack-done")
            assert emp.locator(f"#policy-{ACK_SLUG}").count() == 0
            shot(emp, "my-policies-done")
            # Employees cannot open the findings.
            resp = emp.goto(f"{server}/findings")
            assert resp is not None and resp.status == 403
        finally:
            browser.close()
    assert csp_errors == []
