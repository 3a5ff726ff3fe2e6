"""Monitoring and starting a run in a real browser: `shopguard serve --config` (with its
monitoring daemon checking a loopback site) and Debian's chromium through Playwright.
Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker
from tests.e2e.dashboard_harness import dashboard_server, launch, login, shot
from tests.web.conftest import ROLE_EMAIL
from tests.web.monitoring_support import Site, seed_monitoring, write_monitor_config

from shopguard.config import Config
from shopguard.web.permissions import Role


def _seed(db: sessionmaker[Session], config: Config) -> None:
    seed_monitoring(db)


def test_owner_reads_monitoring_plans_maintenance_and_starts_a_run(tmp_path: Path, site: Site) -> None:
    cfg = write_monitor_config(tmp_path, site.url, 2)
    with (
        dashboard_server(tmp_path, _seed, serve_args=("--config", str(cfg))) as base,
        sync_playwright() as pw,
    ):
        browser = launch(pw)
        try:
            page = browser.new_context().new_page()
            csp: list[str] = []
            page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
            login(page, base, ROLE_EMAIL[Role.OWNER])
            page.wait_for_url(f"{base}/")
            expect(page.locator("#overview svg.trend").first).to_be_visible()
            shot(page, "monitoring-overview-trends")

            page.click("nav >> text=Monitoring")
            page.wait_for_url(f"{base}/monitoring")
            first = page.locator("#monitors tbody tr").first
            expect(first).to_contain_text("down")  # beta's ongoing outage is on top
            expect(page.locator("#incident-list")).to_contain_text("HTTP 502 Bad Gateway")
            shot(page, "monitoring-list")

            page.click("#monitors a[href='/monitoring/monitor?key=alpha/storefront']")
            page.wait_for_url("**/monitoring/monitor?key=alpha/storefront")
            expect(page.locator("#uptime-day svg.uptime-bar rect")).to_have_count(48)
            expect(page.locator("#latency svg.line-chart polyline").first).to_be_visible()
            box = page.locator("#latency svg").bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 60
            shot(page, "monitoring-detail")

            page.goto(f"{base}/monitoring")
            page.select_option("#plan-window select[name=store]", "alpha")
            until = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
            page.fill("#plan-window input[name=end]", until)
            page.fill("#plan-window input[name=reason]", "WooCommerce update")
            page.click("#plan-window button[type=submit]")
            expect(page.locator("#windows")).to_contain_text("WooCommerce update")
            expect(page.locator("#windows")).to_contain_text("active")
            shot(page, "monitoring-maintenance")
            page.click("#windows button:has-text('End now')")
            expect(page.locator("#windows")).to_contain_text("ended")

            page.click("nav >> text=Scans")
            page.wait_for_url(f"{base}/runs")
            page.select_option("#start-run select[name=store]", "alpha")
            page.fill("#start-run input[name=checks]", "scanning.web.headers")
            page.click("#start-run button[type=submit]")
            page.wait_for_url(f"{base}/runs#launches")
            shot(page, "scans-run-started")
            done = page.locator("#launch-list tr[data-store=alpha][data-status=finished]")
            expect(done).to_be_visible(timeout=90_000)  # htmx polls until the run ends
            expect(done).to_contain_text("finding(s)")
            shot(page, "scans-run-finished")
            done.locator("a").first.click()
            expect(page.locator("h1")).to_contain_text("Run")
            shot(page, "scans-run-detail")
            assert csp == []
            assert site.hits >= 2  # the daemon's checks and the audit both reached the site
        finally:
            browser.close()
