"""A store's litmus history and deleting an alert channel in a real browser:
`shopguard serve` and Debian's chromium through Playwright, with the strict CSP on."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker
from tests.e2e.dashboard_harness import dashboard_server, launch, login, shot
from tests.web.conftest import ROLE_EMAIL

from shopguard.checks import CheckRun, Outcome
from shopguard.config import Config
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.web.permissions import Role


def _seed(db: sessionmaker[Session], config: Config) -> None:
    """A second audit of alpha in which the HSTS finding of the first is fixed."""
    rid = begin_run(db, ["alpha"], "all")
    record_check(db, rid, CheckRun("scanning.web.headers", "alpha", Outcome.OK, []))
    record_check(db, rid, CheckRun("pci.saq", "alpha", Outcome.OK, []))
    finish_run(db, rid)


def test_store_history_and_channel_deletion_in_the_browser(tmp_path: Path) -> None:
    with dashboard_server(tmp_path, _seed) as base, sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_context().new_page()
            csp: list[str] = []
            page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
            login(page, base, ROLE_EMAIL[Role.OWNER])
            page.wait_for_url(f"{base}/")
            page.click("#overview a[href='/stores/alpha']")
            page.wait_for_url(f"{base}/stores/alpha")
            expect(page.locator("svg.state-strip rect")).to_have_count(7 * 2)
            box = page.locator("svg.state-strip").bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 100
            expect(page.locator("#lh-scanning td")).to_have_text(["gaps", "ready"])
            expect(page.locator("#lh-scanning td.changed")).to_have_count(1)
            expect(page.locator("#litmus-changes")).to_contain_text("Security scans and monitoring")
            shot(page, "store-litmus-history")

            page.goto(f"{base}/settings/channels")
            page.fill("#add-channel input[name=name]", "old-hook")
            page.fill("#add-channel input[name=url]", "json://shopguard:Token-For-E2E-77@127.0.0.1:9/x")
            page.click("#add-channel button[type=submit]")
            expect(page.locator("#channel-old-hook")).to_be_visible()
            page.click("#channel-old-hook a.delete-channel")
            page.wait_for_url("**/settings/channels/delete?name=old-hook")
            shot(page, "channel-delete-confirm")
            page.click("#delete-channel button[type=submit]")  # not ticked: asked again
            expect(page.locator("#delete-channel .error")).to_be_visible()
            page.check("#delete-channel input[name=confirm]")
            page.click("#delete-channel button[type=submit]")
            page.wait_for_url("**/settings/channels?deleted=old-hook")
            expect(page.locator("#deleted")).to_contain_text("old-hook deleted")
            expect(page.locator("#channel-old-hook")).to_have_count(0)
            assert csp == [], csp
        finally:
            browser.close()
