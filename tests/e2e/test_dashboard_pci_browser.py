"""The PCI and insurance pages in a real browser (Debian's chromium via Playwright) against
`shopguard serve` on loopback: the owner is refused signing while a requirement is open,
answers it with an evidence upload, records an ASV scan report, signs the assessment,
chooses an SAQ with the wizard, changes an insurance policy; an auditor downloads the
evidence pack with the signed report. Screenshots of each page go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session, sessionmaker
from tests.e2e.dashboard_harness import dashboard_server, launch, login, shot
from tests.web.conftest import ROLE_EMAIL

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.pci.asv import next_quarter, quarter_of
from shopguard.web.permissions import Role

PDF = b"%PDF-1.4\n% our payment processor's attestation of compliance\ntrailer << >>\n%%EOF\n"
ASV_PDF = b"%PDF-1.4\n% ASV scan report: PASS, no component scored 4.0 or more\ntrailer << >>\n%%EOF\n"


def _seed(db: sessionmaker[Session], config: Config) -> None:
    from shopguard.insurance.register import import_data
    from shopguard.pci.assessment import Answer, AnswerInput, current_year, save_answers, save_decision
    from shopguard.pci.catalogue import Saq, load_catalogue
    from shopguard.pci.saq import Integration, SaqAnswers, decide

    decision = decide(
        SaqAnswers(
            Integration.DIRECT_POST,
            servers_receive_card_data=False,
            stores_card_data_electronically=False,
            processor_compliant=True,
        )
    )
    save_decision(db, "alpha", current_year(), decision, "Ann Owner")
    # Everything of SAQ A-EP is answered except 12.8.4, which the owner answers in the browser.
    rest = [r.id for r in load_catalogue().for_saq(Saq.A_EP) if r.id != "12.8.4"]
    save_answers(
        db, "alpha", current_year(), [AnswerInput(rid, Answer.IN_PLACE, "Ann Owner") for rid in rest]
    )
    today = utcnow().date()
    import_data(
        db,
        {
            "insurance": [
                {
                    "insurer": "Harbour Mutual",
                    "policy_number": "CY-2026-77",
                    "period_start": (today - timedelta(days=340)).isoformat(),
                    "period_end": (today + timedelta(days=25)).isoformat(),
                    "aggregate_limit": "1M",
                    "retention": 2500,
                    "notification": {"window_hours": 72, "hotline": "+1 555 0100"},
                    "coverages": {"breach_response": "250k", "extortion": "100k"},
                }
            ]
        },
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with dashboard_server(tmp_path, _seed, roles=(Role.OWNER, Role.AUDITOR)) as base:
        yield base


def test_owner_answers_a_requirement_with_evidence_and_auditor_downloads_the_pack(
    server: str, tmp_path: Path
) -> None:
    evidence = tmp_path / "processor-aoc.pdf"
    evidence.write_bytes(PDF)
    asv_report = tmp_path / "asv-scan-report.pdf"
    asv_report.write_bytes(ASV_PDF)
    wrong = tmp_path / "installer.exe"
    wrong.write_bytes(b"MZ\x90\x00 not evidence")
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_context().new_page()
            page.on(
                "console",
                lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            login(page, server, ROLE_EMAIL[Role.OWNER])
            page.wait_for_url(f"{server}/")
            page.click("nav >> text=PCI")
            page.wait_for_url(f"{server}/pci")
            assert "SAQ A-EP" in page.inner_text("#pci-stores")
            shot(page, "pci")

            page.click("#pci-stores >> text=alpha")
            page.wait_for_url(f"{server}/pci/alpha")
            shot(page, "pci-store")

            # Signing is refused while 12.8.4 has no answer (the same refusal as `shopguard pci sign`).
            page.click("#sign-link")
            page.wait_for_url(f"{server}/pci/alpha/sign")
            assert "12.8.4" in page.inner_text("#sign-missing")
            page.fill("input[name=name]", "Ann Owner")
            page.fill("input[name=title]", "Owner")
            page.check("input[name=statement]")
            page.click("#sign-form button[type=submit]")
            page.wait_for_selector("#sign-refused")
            assert "1 requirement(s) of SAQ A-EP" in page.inner_text("#sign-refused")
            page.goto(f"{server}/pci/alpha")
            assert page.is_visible("#not-signed")
            page.click("#req-12\\.8\\.4 >> text=12.8.4")
            page.wait_for_url(f"{server}/pci/alpha/req/12.8.4")

            # A file of the wrong type is refused with a message on the field; nothing saved.
            page.check("input[name=answer][value=in-place]")
            page.set_input_files("input[name=evidence]", str(wrong))
            page.click("#answer-form button[type=submit]")
            page.wait_for_selector("#evidence-error")
            assert "installer.exe: file type .exe is not accepted" in page.inner_text("#evidence-error")
            assert page.get_attribute("input[name=evidence]", "aria-invalid") == "true"
            assert page.inner_text("#answer-shown") == "(no answer)"
            shot(page, "pci-requirement-refused")

            page.check("input[name=answer][value=in-place]")
            page.fill("textarea[name=notes]", "Checked the processor's AoC for this year")
            page.set_input_files("input[name=evidence]", str(evidence))
            page.fill("input[name=evidence_note]", "AoC 2026")
            page.click("#answer-form button[type=submit]")
            page.wait_for_url(f"{server}/pci/alpha/req/12.8.4")
            page.wait_for_selector("#evidence-files")
            files = page.inner_text("#evidence-files")
            assert "processor-aoc.pdf" in files and hashlib.sha256(PDF).hexdigest() in files
            assert page.inner_text("#answer-shown") == "In Place"
            assert "Checked the processor's AoC" in page.inner_text("#notes-shown")
            shot(page, "pci-requirement")

            page.goto(f"{server}/pci/alpha")
            assert page.inner_text("#req-12\\.8\\.4 td.answer") == "In Place"

            # An ASV scan report: a wrong file is refused with the field marked, then the real one.
            quarter = quarter_of(utcnow().date())
            page.click("#asv-summary >> text=ASV scans")
            page.wait_for_url(f"{server}/pci/alpha/asv")
            assert "due" in page.inner_text(f"#q-{quarter}")
            page.set_input_files("input[name=report]", str(wrong))
            page.fill("input[name=vendor]", "Trusted Scans Ltd")
            page.fill("input[name=scan_date]", utcnow().date().isoformat())
            page.check("input[name=result][value=passed]")
            page.click("#asv-form button[type=submit]")
            page.wait_for_selector("#report-error")
            assert "installer.exe: file type .exe is not accepted" in page.inner_text("#report-error")
            assert page.get_attribute("input[name=report]", "aria-invalid") == "true"
            assert page.is_visible("#no-scans")
            page.set_input_files("input[name=report]", str(asv_report))
            page.click("#asv-form button[type=submit]")
            page.wait_for_selector("#asv-scans")
            assert "Trusted Scans Ltd" in page.inner_text("#asv-scans")
            assert "passed" in page.inner_text(f"#q-{quarter}")
            assert next_quarter(quarter) in page.inner_text("#next-due")
            shot(page, "pci-asv")

            # Now every requirement is answered: the owner signs.
            page.goto(f"{server}/pci/alpha")
            page.click("#sign-link")
            page.wait_for_url(f"{server}/pci/alpha/sign")
            assert "not a PCI SSC Qualified Security Assessor" in page.inner_text("#not-a-qsa")
            assert page.is_visible("#sign-complete")
            page.fill("input[name=name]", "Ann Owner")
            page.fill("input[name=title]", "Owner")
            page.check("input[name=statement]")
            shot(page, "pci-sign")
            page.click("#sign-form button[type=submit]")
            page.wait_for_url(f"{server}/pci/alpha#signature")
            assert "Signed by Ann Owner (Owner)" in page.inner_text("#signed")
            shot(page, "pci-signed")

            # The SAQ wizard for the other store: questions, preview, then save.
            page.goto(f"{server}/pci/beta/saq")
            page.check("input[name=integration][value=redirect]")
            page.check("input[name=servers_receive_card_data][value=no]")
            page.check("input[name=stores_card_data_electronically][value=no]")
            page.check("input[name=processor_compliant][value=yes]")
            page.click("button[value=preview]")
            page.wait_for_selector("#decision")
            assert "SAQ A (v4.0.1 r1, January 2025)" in page.inner_text("#decision")
            page.check("input[name=confirm][value=ecommerce-only-channel]")
            shot(page, "pci-saq")
            page.click("button[value=save]")
            page.wait_for_url(f"{server}/pci/beta")
            assert "SAQ A (v4.0.1 r1, January 2025)" in page.inner_text("#saq")

            page.click("nav >> text=Insurance")
            page.wait_for_url(f"{server}/insurance")
            assert "in 25 days" in page.inner_text("#renewal")
            assert "USD 250,000" in page.inner_text("#policy-CY-2026-77")

            # Change the policy: a bad limit comes back marked, then the extortion limit is raised.
            page.click("#policy-CY-2026-77 >> text=change")
            page.wait_for_url(f"{server}/insurance/policies/*/edit")
            page.fill("input[name=cov_extortion_limit]", "plenty")
            page.click("#policy-form button[type=submit]")
            page.wait_for_selector("#policy-errors")
            assert page.get_attribute("input[name=cov_extortion_limit]", "aria-invalid") == "true"
            page.fill("input[name=cov_extortion_limit]", "150k")
            page.fill("input[name=cov_pci_fines_limit]", "100k")
            shot(page, "insurance-policy-edit")
            page.click("#policy-form button[type=submit]")
            page.wait_for_url(f"{server}/insurance#policy-CY-2026-77")
            policy = page.inner_text("#policy-CY-2026-77")
            assert "USD 150,000" in policy and "PCI fines and assessments" in policy
            page.select_option("select[name=question]", "mfa_email")
            page.check("input[name=answer][value=yes]")
            page.click("#answer-form button[type=submit]")
            page.locator("#uw-mfa_email", has_text="answered by").wait_for()
            assert "owner" in page.inner_text("#uw-mfa_email")
            assert page.url.startswith(f"{server}/insurance")
            shot(page, "insurance")

            # The auditor reads and downloads, and has no forms.
            auditor = browser.new_context(accept_downloads=True).new_page()
            login(auditor, server, ROLE_EMAIL[Role.AUDITOR])
            auditor.wait_for_url(f"{server}/")
            auditor.goto(f"{server}/pci/alpha")
            assert auditor.locator("form[action='/pci/alpha/suggestions']").count() == 0
            with auditor.expect_download() as dl:
                auditor.click("text=Evidence pack (zip)")
            pack = tmp_path / "pack.zip"
            dl.value.save_as(pack)
            with zipfile.ZipFile(pack) as z:
                (name,) = [n for n in z.namelist() if n.startswith("evidence/12.8.4/")]
                assert z.read(name) == PDF
                (asv,) = [n for n in z.namelist() if n.startswith(f"asv/{quarter}/")]
                assert z.read(asv) == ASV_PDF
                report = z.read("report.html").decode()
                assert "<th>Signed by (name)</th><td>Ann Owner</td>" in report
            assert auditor.locator("#sign-link").count() == 0 and auditor.is_visible("#signed")
            shot(auditor, "pci-auditor")
        finally:
            browser.close()
    assert csp_errors == []
