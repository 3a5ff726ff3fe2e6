"""Signing the PCI assessment and recording ASV scan reports in the dashboard, over the real
PCI protocol code (``attest``, ``add_scan``, ``cadence``) and a real SQLite database."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from shopguard.db.base import utcnow
from shopguard.pci.assessment import (
    Answer,
    AnswerInput,
    current_year,
    get_assessment,
    save_answers,
    save_decision,
)
from shopguard.pci.asv import next_quarter, quarter_end, quarter_of
from shopguard.pci.catalogue import Saq, load_catalogue
from shopguard.pci.files import MAX_EVIDENCE_BYTES, evidence_root
from shopguard.pci.models import PciAsvScan
from shopguard.pci.saq import Integration, SaqAnswers, decide
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role

from .conftest import ROLE_EMAIL, Env

OWNER = ROLE_EMAIL[Role.OWNER]
YEAR = current_year()
PDF = b"%PDF-1.4\n% ASV scan report, all components pass\ntrailer << >>\n%%EOF\n"
SAQ_A = [r.id for r in load_catalogue().for_saq(Saq.A)]


@pytest.fixture
def pci(env: Env) -> Env:
    """alpha uses a redirect checkout: SAQ A, every requirement answered but the last one."""
    save_decision(
        env.db, "alpha", YEAR, decide(SaqAnswers(Integration.REDIRECT, processor_compliant=True)), "Ann"
    )
    save_answers(env.db, "alpha", YEAR, [AnswerInput(rid, Answer.IN_PLACE, "Ann") for rid in SAQ_A[:-1]])
    return env


def _signed(env: Env) -> tuple[object, str, str]:
    with env.db() as s:
        a = get_assessment(s, "alpha", YEAR)
        assert a is not None
        return a.attested_at, a.attested_by, a.attested_title


def _events(env: Env, action: str) -> list[AuditEvent]:
    with env.db() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _sign(env: Env, **fields: str):  # type: ignore[no-untyped-def]
    client, csrf = env.session_client(OWNER)
    data = {
        "csrf_token": csrf,
        "name": "Ann Owner",
        "title": "Owner",
        "date": utcnow().date().isoformat(),
        "statement": "yes",
        **fields,
    }
    return client.post("/pci/alpha/sign", data={k: v for k, v in data.items() if v is not None})


def test_signing_is_refused_like_the_cli_while_a_requirement_is_unanswered(pci: Env) -> None:
    client, _ = pci.session_client(OWNER)
    page = client.get("/pci/alpha/sign")
    assert page.status_code == 200
    # What ShopGuard is not, next to the form.
    assert "not a PCI SSC Qualified Security Assessor (QSA)" in page.text
    assert "not a PCI SSC Approved Scanning Vendor (ASV)" in page.text
    missing = re.search(r'<p class="st-gaps" id="sign-missing">(.*?)</p>', page.text, re.S)
    assert missing is not None and SAQ_A[-1] in missing.group(1)
    r = _sign(pci)
    assert r.status_code == 400
    refused = re.search(r'<p class="error" id="sign-refused" role="alert">(.*?)</p>', r.text, re.S)
    assert refused is not None
    # The message of shopguard.pci.assessment.attest, as `shopguard pci sign` prints it.
    assert "1 requirement(s) of SAQ A" in refused.group(1) and f"first: {SAQ_A[-1]}" in refused.group(1)
    assert _signed(pci) == (None, "", "")
    assert _events(pci, "pci.sign") == []


def test_owner_signs_once_everything_is_answered_and_it_shows_on_the_page_and_report(pci: Env) -> None:
    save_answers(pci.db, "alpha", YEAR, [AnswerInput(SAQ_A[-1], Answer.NOT_APPLICABLE, "Ann", "No staff")])
    client, _ = pci.session_client(OWNER)
    page = client.get("/pci/alpha/sign")
    assert 'id="sign-complete"' in page.text
    # The In Place answers came without evidence: signing is allowed (as in the CLI) but warned about.
    warn = re.search(r'<p class="st-not_assessed" id="sign-no-evidence">(.*?)</p>', page.text, re.S)
    assert warn is not None and f"{len(SAQ_A) - 1} answers In Place without evidence" in warn.group(1)
    r = _sign(pci, name="  Ann Owner ", title="Director")
    assert r.status_code == 303 and r.headers["location"] == "/pci/alpha#signature"
    at, by, title = _signed(pci)
    assert at is not None and by == "Ann Owner" and title == "Director"
    (ev,) = _events(pci, "pci.sign")
    assert ev.actor == OWNER and ev.target == f"alpha {YEAR}"
    assert ev.data["name"] == "Ann Owner" and ev.data["title"] == "Director" and ev.data["saq"] == "A"
    assert "I have reviewed every answer" in ev.data["statement"]
    store = client.get("/pci/alpha")
    signed = re.search(r'<p class="st-ready" id="signed">(.*?)</p>', store.text, re.S)
    assert signed is not None and "Ann Owner (Director)" in signed.group(1)
    report = client.get("/pci/alpha/report.html")
    assert re.search(r"<th>Signed by \(name\)</th><td>Ann Owner</td>", report.text)
    assert re.search(r"<th>Title</th><td>Director</td>", report.text)
    assert re.search(rf"<td>{utcnow():%Y-%m-%d}</td>", report.text)
    listing = client.get("/pci")
    assert "not signed" not in re.search(
        r"<tr>\s*<td><a href=\"/pci/alpha\">.*?</tr>", listing.text, re.S
    ).group(0)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({"name": "   "}, "name", "the name of the person signing is required"),
        ({"title": ""}, "title", "your role"),
        ({"date": "25/11/2026"}, "date", "is not a date"),
        ({"date": (utcnow().date() - timedelta(days=1)).isoformat()}, "date", "dated the day it is given"),
        ({"date": (utcnow().date() + timedelta(days=1)).isoformat()}, "date", "dated the day it is given"),
    ],
)
def test_bad_signing_values_are_marked_and_nothing_is_signed(
    pci: Env, fields: dict[str, str], field: str, message: str
) -> None:
    save_answers(pci.db, "alpha", YEAR, [AnswerInput(SAQ_A[-1], Answer.IN_PLACE, "Ann")])
    r = _sign(pci, **fields)
    assert r.status_code == 400
    assert re.search(rf'<input name="{field}"[^>]*aria-invalid="true"', r.text)
    assert message in r.text
    assert _signed(pci) == (None, "", "") and _events(pci, "pci.sign") == []


def test_the_statement_must_be_confirmed(pci: Env) -> None:
    save_answers(pci.db, "alpha", YEAR, [AnswerInput(SAQ_A[-1], Answer.IN_PLACE, "Ann")])
    r = _sign(pci, statement=None)  # type: ignore[arg-type]
    assert r.status_code == 400
    assert '<fieldset aria-invalid="true" id="f-statement">' in r.text
    assert _signed(pci) == (None, "", "")


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.EMPLOYEE])
def test_only_owners_and_admins_sign(pci: Env, role: Role) -> None:
    save_answers(pci.db, "alpha", YEAR, [AnswerInput(SAQ_A[-1], Answer.IN_PLACE, "Ann")])
    client, csrf = pci.session_client(ROLE_EMAIL[role])
    assert client.get("/pci/alpha/sign").status_code == 403
    data = {"csrf_token": csrf, "name": "X", "title": "Y", "date": utcnow().date().isoformat()}
    assert client.post("/pci/alpha/sign", data={**data, "statement": "yes"}).status_code == 403
    assert _signed(pci) == (None, "", "")
    if role is not Role.EMPLOYEE:  # analysts and auditors read the state, without the link
        page = client.get("/pci/alpha")
        assert 'id="not-signed"' in page.text and 'id="sign-link"' not in page.text
    admin, acsrf = pci.session_client(ROLE_EMAIL[Role.ADMIN])
    assert 'id="sign-link"' in admin.get("/pci/alpha").text
    ok = admin.post("/pci/alpha/sign", data={**data, "csrf_token": acsrf, "statement": "yes"})
    assert ok.status_code == 303 and _signed(pci)[1] == "X"


def test_signing_without_an_saq_is_not_found(env: Env) -> None:
    client, _ = env.session_client(OWNER)
    assert client.get("/pci/beta/sign").status_code == 404


# --- ASV scan reports ----------------------------------------------------------------------------


def _scans(env: Env) -> list[PciAsvScan]:
    with env.db() as s:
        return list(s.scalars(select(PciAsvScan)))


def _upload(
    env: Env, data: dict[str, str], file: tuple[str, bytes, str] | None = ("asv.pdf", PDF, "application/pdf")
):  # type: ignore[no-untyped-def]
    client, csrf = env.session_client(OWNER)
    files = {"report": file} if file is not None else {}
    return client.post("/pci/alpha/asv", data={"csrf_token": csrf, **data}, files=files)


GOOD = {"vendor": "Trusted Scans Ltd", "scan_date": "", "result": "passed", "quarter": ""}


def test_owner_records_a_passing_asv_report_and_sees_the_next_due_quarter(env: Env) -> None:
    today = utcnow().date()
    client, _ = env.session_client(OWNER)
    before = client.get("/pci/alpha/asv")
    current = quarter_of(today)
    assert re.search(
        rf'<tr id="q-{current}"><td>{current}</td>\s*<td class="st-not_assessed">due</td>', before.text
    )
    assert f"Next passing scan due: <strong>{current}</strong>, by {quarter_end(current)}" in before.text
    r = _upload(env, {**GOOD, "scan_date": today.isoformat()})
    assert r.status_code == 303 and r.headers["location"] == "/pci/alpha/asv#scans"
    (scan,) = _scans(env)
    assert scan.store == "alpha" and scan.quarter == current and scan.vendor == "Trusted Scans Ltd"
    assert scan.passed is True and scan.uploader == OWNER and scan.filename == "asv.pdf"
    assert scan.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (evidence_root() / scan.stored_path).read_bytes() == PDF  # where `pci asv add` keeps it
    (ev,) = _events(env, "pci.asv.add")
    assert ev.target == f"alpha {current}" and ev.data["passed"] is True and ev.data["sha256"] == scan.sha256
    page = client.get("/pci/alpha/asv")
    assert re.search(
        rf'<tr id="q-{current}"><td>{current}</td>\s*<td class="st-ready">passed</td>', page.text
    )
    following = next_quarter(current)
    assert f"Next passing scan due: <strong>{following}</strong>, by {quarter_end(following)}" in page.text
    assert "Trusted Scans Ltd" in page.text and scan.sha256 in page.text
    store = client.get("/pci/alpha")
    assert f"next passing scan due <strong>{following}</strong>" in store.text
    download = client.get(f"/pci/alpha/asv/{scan.id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment")
    assert client.get(f"/pci/beta/asv/{scan.id}").status_code == 404


def test_a_failing_report_for_a_named_quarter(env: Env) -> None:
    last = quarter_of(utcnow().date() - timedelta(days=92))
    day = (quarter_end(last) - timedelta(days=3)).isoformat()
    r = _upload(env, {**GOOD, "scan_date": day, "result": "failed", "quarter": last.lower()})
    assert r.status_code == 303
    (scan,) = _scans(env)
    assert scan.quarter == last and scan.passed is False
    client, _ = env.session_client(OWNER)
    page = client.get("/pci/alpha/asv")
    assert re.search(rf'<tr id="q-{last}"><td>{last}</td>\s*<td class="st-gaps">failed</td>', page.text)
    assert f"No passing scan for {last}" in page.text


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"vendor": " "}, "vendor", "the ASV company that ran the scan is required"),
        ({"scan_date": "last week"}, "scan_date", "is not a date"),
        ({"scan_date": "tomorrow"}, "scan_date", "is in the future"),
        ({"quarter": "2026-Q5"}, "quarter", "expected the form 2026-Q3"),
    ],
)
def test_bad_asv_values_are_marked_and_nothing_saved(
    env: Env, data: dict[str, str], field: str, message: str
) -> None:
    fields = {**GOOD, "scan_date": utcnow().date().isoformat(), **data}
    if fields["scan_date"] == "tomorrow":
        fields["scan_date"] = (utcnow().date() + timedelta(days=2)).isoformat()
    r = _upload(env, fields)
    assert r.status_code == 400
    assert re.search(rf'<input name="{field}"[^>]*aria-invalid="true"', r.text)
    assert message in r.text
    assert 'value="Trusted Scans Ltd"' in r.text or field == "vendor"  # the form keeps what was typed
    assert _scans(env) == [] and _events(env, "pci.asv.add") == []
    root = evidence_root()
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_the_result_must_be_chosen(env: Env) -> None:
    r = _upload(env, {**GOOD, "scan_date": utcnow().date().isoformat(), "result": "probably"})
    assert r.status_code == 400 and '<fieldset aria-invalid="true" id="f-result">' in r.text
    assert _scans(env) == []


@pytest.mark.parametrize(
    "file,message",
    [
        (("scan.exe", b"MZ\x90\x00", "application/octet-stream"), "scan.exe: file type .exe is not accepted"),
        (
            ("scan.pdf", b"<html>not a pdf</html>", "application/pdf"),
            "scan.pdf: the content is not a .pdf file",
        ),
        (
            ("big.pdf", b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES, "application/pdf"),
            "big.pdf: larger than the evidence limit of 25 MB",
        ),
        (None, "attach the ASV&#39;s scan report"),
    ],
)
def test_wrong_or_missing_report_file_is_refused(
    env: Env, file: tuple[str, bytes, str] | None, message: str
) -> None:
    r = _upload(env, {**GOOD, "scan_date": utcnow().date().isoformat()}, file)
    assert r.status_code == 400
    assert re.search(r'<input type="file" name="report"[^>]*aria-invalid="true"', r.text)
    assert message in r.text and "sg-upload-" not in r.text
    assert _scans(env) == []
    root = evidence_root()
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.EMPLOYEE])
def test_others_cannot_upload_and_employees_cannot_read(env: Env, role: Role) -> None:
    client, csrf = env.session_client(ROLE_EMAIL[role])
    page = client.get("/pci/alpha/asv")
    if role is Role.EMPLOYEE:
        assert page.status_code == 403
    else:
        assert page.status_code == 200 and 'id="asv-form"' not in page.text
    r = client.post(
        "/pci/alpha/asv",
        data={"csrf_token": csrf, **GOOD, "scan_date": utcnow().date().isoformat()},
        files={"report": ("asv.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 403 and _scans(env) == []
