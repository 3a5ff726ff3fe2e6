"""Triage and payment-page scripts in a real browser (Debian's chromium via Playwright,
`shopguard serve` as a subprocess): the owner bulk-triages two findings, comments on one,
assigns it, and approves a payment-page script. Screenshots in tests/e2e/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.e2e.dashboard_harness import dashboard_server, launch, login, shot
from tests.web.conftest import ROLE_EMAIL
from tests.web.test_scripts import SKIM, seed_pages

from shopguard.config import Config
from shopguard.db import open_database
from shopguard.db.models import FindingComment, FindingRecord
from shopguard.scanning.pages.models import PageApproval
from shopguard.web.permissions import Role

OWNER = ROLE_EMAIL[Role.OWNER]


def _seed(db: sessionmaker[Session], config: Config) -> None:
    seed_pages(db)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with dashboard_server(tmp_path, _seed, roles=(Role.OWNER, Role.ANALYST)) as base:
        yield base


def test_owner_bulk_triages_comments_and_approves_a_script(server: str, tmp_path: Path) -> None:
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_context().new_page()
            page.on(
                "console",
                lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            login(page, server, OWNER)
            page.wait_for_url(f"{server}/")
            page.goto(f"{server}/findings?store=alpha")
            rows = page.locator("#findings tbody tr")
            assert rows.count() == 4
            # "Select all" is a static script (CSP allows no inline script): it ticks every row.
            page.check("#select-all")
            assert page.locator("input[name=ids]:checked").count() == 4
            page.uncheck("#select-all")
            assert page.locator("input[name=ids]:checked").count() == 0
            rows.filter(has_text="always use HTTPS").locator("input[name=ids]").check()
            rows.filter(has_text="No Content-Security-Policy").locator("input[name=ids]").check()
            page.select_option("#bulk select[name=action]", "accept_risk")
            # Without a reason nothing is saved and the field is marked.
            page.click("text=Apply to ticked findings")
            page.wait_for_selector("#bulk textarea[aria-invalid=true]")
            shot(page, "triage-bulk-error")
            page.goto(f"{server}/findings?store=alpha")
            rows = page.locator("#findings tbody tr")
            rows.filter(has_text="always use HTTPS").locator("input[name=ids]").check()
            rows.filter(has_text="No Content-Security-Policy").locator("input[name=ids]").check()
            page.select_option("#bulk select[name=action]", "accept_risk")
            page.fill("#bulk textarea[name=reason]", "The CDN adds both headers; review at renewal")
            page.click("text=Apply to ticked findings")
            page.wait_for_selector("#bulk-done")
            assert "2 findings changed" in page.inner_text("#bulk-done")
            assert page.locator("#findings tbody tr").count() == 2  # the two accepted left the open list
            shot(page, "triage-bulk-done")
            page.goto(f"{server}/findings?store=alpha&status=triaged")
            assert page.locator("#findings tbody tr").count() == 2
            assert "accepted risk" in page.inner_text("#findings")
            shot(page, "triage-triaged-list")

            # Comment on a finding and assign it.
            page.goto(f"{server}/findings?store=beta")
            page.click("text=No SAQ answers recorded")
            page.fill("#comment-form textarea[name=body]", "Ann will fill in the SAQ this week.")
            page.click("#comment-form button")
            page.wait_for_selector("#comment-list")
            assert OWNER in page.inner_text("#comment-list")
            assert "Ann will fill in the SAQ this week." in page.inner_text("#comment-list")
            page.select_option("#assign-form select[name=assignee]", ROLE_EMAIL[Role.ANALYST])
            page.click("#assign-form button")
            page.locator("#assignee", has_text=ROLE_EMAIL[Role.ANALYST]).wait_for()
            shot(page, "triage-finding-comments")
            page.goto(f"{server}/audit")
            audit = page.inner_text("#audit")
            assert "finding.comment" in audit and "finding.assign" in audit
            page.goto(f"{server}/findings?assigned=none&status=all&store=beta")
            assert page.locator("#findings tbody tr").count() == 0

            # Approve the unknown checkout script with a justification.
            page.click("nav >> text=Scripts")
            page.wait_for_url(f"{server}/scripts")
            row = page.locator("#scripts tbody tr", has_text=SKIM)
            assert "pending" in row.inner_text()
            shot(page, "scripts")
            row.locator("input[name=justification]").fill("NimbusPay card form SDK")
            row.locator("form.approve button").click()
            page.wait_for_selector("#scripts-done")
            assert "approved" in page.locator("#scripts tbody tr", has_text=SKIM).inner_text()
            shot(page, "scripts-approved")
        finally:
            browser.close()
    assert csp_errors == []
    db = open_database(f"sqlite:///{tmp_path / 'sg.db'}")
    try:
        with db() as s:
            triaged = s.scalars(select(FindingRecord).where(FindingRecord.triage == "accepted_risk")).all()
            assert len(triaged) == 2 and all(f.triage_expires_at is not None for f in triaged)
            assert len(s.scalars(select(FindingComment)).all()) == 1
            approval = s.scalar(select(PageApproval).where(PageApproval.identifier == SKIM))
            assert approval is not None and approval.approved_by == OWNER
    finally:
        db.kw["bind"].dispose()
