"""The PCI section of the dashboard, over the real PCI protocol code and a real SQLite DB."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest
from sqlalchemy import select

from shopguard.pci.assessment import (
    Answer,
    AnswerInput,
    current_year,
    get_assessment,
    save_answers,
    save_decision,
)
from shopguard.pci.files import MAX_EVIDENCE_BYTES, evidence_root
from shopguard.pci.models import PciAnswer, PciEvidence, PciSuggestion, PciTask
from shopguard.pci.saq import Integration, SaqAnswers, decide
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env

OWNER = ROLE_EMAIL[Role.OWNER]
YEAR = current_year()
PDF = b"%PDF-1.4\n% processor attestation of compliance\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def pci(env: Env) -> Env:
    """alpha has chosen SAQ A-EP (direct post); beta has no assessment yet."""
    decision = decide(
        SaqAnswers(
            Integration.DIRECT_POST,
            servers_receive_card_data=False,
            stores_card_data_electronically=False,
            processor_compliant=True,
        )
    )
    save_decision(env.db, "alpha", YEAR, decision, "Ann Owner")
    return env


def _answer(env: Env, rid: str, store: str = "alpha") -> PciAnswer | None:
    with env.db() as s:
        a = get_assessment(s, store, YEAR)
        assert a is not None
        return s.scalar(
            select(PciAnswer).where(PciAnswer.assessment_id == a.id, PciAnswer.requirement_id == rid)
        )


def _evidence(env: Env) -> list[PciEvidence]:
    with env.db() as s:
        return list(s.scalars(select(PciEvidence)))


def _actions(env: Env) -> list[str]:
    with env.db() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _post_answer(
    env: Env, rid: str, data: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None
):  # type: ignore[no-untyped-def]
    client, csrf = env.session_client(OWNER)
    return client.post(f"/pci/alpha/req/{rid}", data={"csrf_token": csrf, **data}, files=files or {})


def test_home_lists_each_store_with_its_saq(pci: Env) -> None:
    client, _ = pci.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = client.get("/pci")
    assert r.status_code == 200
    row = re.search(r'<a href="/pci/alpha">alpha</a></td>\s*<td>([^<]+)</td>', r.text)
    assert row is not None and row.group(1) == "SAQ A-EP (v4.0.1)"
    assert "no SAQ chosen yet" in r.text
    # The auditor reads but cannot start the wizard.
    assert "/pci/beta/saq" not in r.text


def test_wizard_previews_then_saves_the_saq_with_confirmed_conditions(pci: Env) -> None:
    client, csrf = pci.session_client(OWNER)
    assert client.get("/pci/beta/saq").status_code == 200
    answers = {
        "csrf_token": csrf,
        "integration": "iframe",
        "servers_receive_card_data": "no",
        "stores_card_data_electronically": "no",
        "processor_compliant": "yes",
        "all_payment_elements_from_processor": "yes",
        "script_protection": "yes",
    }
    preview = client.post("/pci/beta/saq", data={**answers, "step": "preview"})
    assert preview.status_code == 200
    assert "SAQ A (v4.0.1 r1, January 2025)" in preview.text
    # Conditions the answers already confirm are shown as such; the rest are boxes to tick.
    assert 'id="cond-script-attack-protection"' in preview.text
    assert 'name="confirm" value="ecommerce-only-channel"' in preview.text
    with pci.db() as s:
        assert get_assessment(s, "beta", YEAR) is None  # a preview stores nothing
    saved = client.post(
        "/pci/beta/saq",
        data={**answers, "step": "save", "confirm": ["ecommerce-only-channel", "script-attack-protection"]},
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/pci/beta"
    with pci.db() as s:
        a = get_assessment(s, "beta", YEAR)
        assert a is not None and a.saq == "A" and a.integration == "iframe" and a.decided_by == OWNER
        confirmed = {c["id"] for c in a.conditions if c["confirmed"] is True}
    # Answered "yes" in the questions, or ticked on the preview (the online-only channel).
    assert confirmed == {
        "processor-compliant",
        "no-electronic-storage",
        "ecommerce-only-channel",
        "all-elements-from-processor",
        "script-attack-protection",
    }
    assert "pci.saq" in _actions(pci)
    page = client.get("/pci/beta")
    assert "SAQ A (v4.0.1 r1, January 2025)" in page.text and "confirmed" in page.text


def test_wizard_contradiction_marks_the_fields_and_stores_nothing(pci: Env) -> None:
    client, csrf = pci.session_client(OWNER)
    r = client.post(
        "/pci/beta/saq",
        data={
            "csrf_token": csrf,
            "integration": "iframe",
            "servers_receive_card_data": "yes",
            "step": "save",
        },
    )
    assert r.status_code == 400
    assert "Contradictory answers" in r.text and "Nothing was stored" in r.text
    assert re.search(r'<fieldset aria-invalid="true" id="f-servers_receive_card_data">', r.text)
    assert not re.search(r'<fieldset aria-invalid="true" id="f-processor_compliant">', r.text)
    with pci.db() as s:
        assert get_assessment(s, "beta", YEAR) is None


@pytest.mark.parametrize(
    "field,value",
    [("integration", "carrier-pigeon"), ("processor_compliant", "perhaps"), ("integration", "")],
)
def test_wizard_bad_values_are_marked(pci: Env, field: str, value: str) -> None:
    client, csrf = pci.session_client(OWNER)
    data = {"csrf_token": csrf, "integration": "redirect", "step": "save", field: value}
    r = client.post("/pci/beta/saq", data=data)
    assert r.status_code == 400
    assert f'<fieldset aria-invalid="true" id="f-{field}">' in r.text
    with pci.db() as s:
        assert get_assessment(s, "beta", YEAR) is None


def test_owner_answers_in_place_with_an_evidence_upload(pci: Env) -> None:
    r = _post_answer(
        pci,
        "12.8.4",
        {"answer": "in-place", "notes": "Checked Stripe's AoC in March", "evidence_note": "Stripe AoC 2026"},
        {"evidence": ("stripe-aoc.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 303 and r.headers["location"] == "/pci/alpha/req/12.8.4"
    ans = _answer(pci, "12.8.4")
    assert ans is not None and ans.answer == "in-place" and ans.person == OWNER
    assert ans.justification == "Checked Stripe's AoC in March"
    (ev,) = _evidence(pci)
    assert ev.filename == "stripe-aoc.pdf" and ev.requirement_id == "12.8.4" and ev.uploader == OWNER
    assert (
        ev.sha256 == hashlib.sha256(PDF).hexdigest() and ev.size == len(PDF) and ev.note == "Stripe AoC 2026"
    )
    stored = evidence_root() / ev.stored_path
    assert stored.read_bytes() == PDF  # where `shopguard pci evidence add` keeps it
    assert ev.stored_path.startswith(f"alpha_{YEAR}/")  # the same folder as the CLI
    actions = _actions(pci)
    assert "pci.evidence.add" in actions and "pci.answer" in actions

    client, _ = pci.session_client(OWNER)
    page = client.get("/pci/alpha/req/12.8.4")
    assert ev.sha256 in page.text and "stripe-aoc.pdf" in page.text
    assert '<dd id="answer-shown" class="st-ready">In Place</dd>' in page.text
    store = client.get("/pci/alpha")
    row = re.search(r'<tr id="req-12\.8\.4">.*?</tr>', store.text, re.S)
    assert row is not None and '<td class="answer st-ready">In Place</td>' in row.group(0)


def test_in_place_without_evidence_is_refused(pci: Env) -> None:
    r = _post_answer(pci, "12.8.4", {"answer": "in-place", "notes": ""})
    assert r.status_code == 400
    assert re.search(r'<input type="file" name="evidence"[^>]*aria-invalid="true"', r.text)
    assert "needs evidence" in r.text
    assert _answer(pci, "12.8.4") is None


def test_an_in_place_answer_without_evidence_from_elsewhere_is_never_shown_as_in_place(pci: Env) -> None:
    # e.g. imported from YAML or `shopguard pci answer` without `pci evidence add`
    save_answers(pci.db, "alpha", YEAR, [AnswerInput("12.8.4", Answer.IN_PLACE, "Ann")])
    client, _ = pci.session_client(OWNER)
    row = re.search(r'<tr id="req-12\.8\.4">.*?</tr>', client.get("/pci/alpha").text, re.S)
    assert row is not None
    assert "In Place: no evidence attached" in row.group(0) and "st-ready" not in row.group(0)
    # A later upload alone (no new answer) backs it.
    r = _post_answer(pci, "12.8.4", {}, {"evidence": ("aoc.pdf", PDF, "application/pdf")})
    assert r.status_code == 303
    row = re.search(r'<tr id="req-12\.8\.4">.*?</tr>', client.get("/pci/alpha").text, re.S)
    assert row is not None and '<td class="answer st-ready">In Place</td>' in row.group(0)


def test_oversized_upload_is_refused_with_a_message_and_nothing_saved(pci: Env) -> None:
    big = b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES
    r = _post_answer(
        pci, "12.8.4", {"answer": "in-place"}, {"evidence": ("huge.pdf", big, "application/pdf")}
    )
    assert r.status_code == 400
    assert "huge.pdf: larger than the evidence limit of 25 MB" in r.text
    assert re.search(r'<input type="file" name="evidence"[^>]*aria-invalid="true"', r.text)
    assert _evidence(pci) == [] and _answer(pci, "12.8.4") is None
    root = evidence_root()
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("payload.exe", b"MZ\x90\x00", "payload.exe: file type .exe is not accepted as evidence"),
        ("fake.pdf", b"<script>alert(1)</script>", "fake.pdf: the content is not a .pdf file"),
        ("empty.txt", b"", "empty.txt: the file is empty"),
    ],
)
def test_wrong_type_upload_is_refused_naming_the_file(
    pci: Env, name: str, content: bytes, message: str
) -> None:
    r = _post_answer(
        pci, "12.8.4", {"answer": "in-place"}, {"evidence": (name, content, "application/octet-stream")}
    )
    assert r.status_code == 400
    assert message in r.text
    assert "sg-upload-" not in r.text  # the temporary path is not shown
    assert _evidence(pci) == [] and _answer(pci, "12.8.4") is None


def test_not_applicable_without_notes_is_re_rendered_with_the_field_marked(pci: Env) -> None:
    r = _post_answer(pci, "3.2.1", {"answer": "not-applicable", "notes": "  "})
    assert r.status_code == 400
    assert re.search(r'<textarea name="notes"[^>]*aria-invalid="true"', r.text)
    assert "required for &#39;Not Applicable&#39;" in r.text
    assert _answer(pci, "3.2.1") is None
    bad = _post_answer(pci, "3.2.1", {"answer": "sort-of"})
    assert bad.status_code == 400 and '<fieldset aria-invalid="true" id="f-answer">' in bad.text
    ok = _post_answer(pci, "3.2.1", {"answer": "not-applicable", "notes": "We never keep card data"})
    assert ok.status_code == 303
    ans = _answer(pci, "3.2.1")
    assert (
        ans is not None and ans.answer == "not-applicable" and ans.justification == "We never keep card data"
    )


def test_requirement_outside_the_saq_is_not_found(pci: Env) -> None:
    client, _ = pci.session_client(OWNER)
    assert client.get("/pci/alpha/req/99.9.9").status_code == 404
    assert client.get("/pci/beta/req/12.8.4").status_code == 404  # beta has no SAQ yet


def _suggest(env: Env) -> None:
    client, csrf = env.session_client(OWNER)
    r = client.post("/pci/alpha/suggestions", data={"csrf_token": csrf})
    assert r.status_code == 303


def test_suggestions_from_scan_results_are_confirmed_into_answers(pci: Env) -> None:
    _suggest(pci)
    client, csrf = pci.session_client(OWNER)
    page = client.get("/pci/alpha")
    # alpha's open HSTS finding (refs PCI 4.2.1) makes 4.2.1 a Not in Place suggestion.
    row = re.search(r'<tr id="sug-4\.2\.1">.*?</tr>', page.text, re.S)
    assert row is not None and "Not in Place (suggested)" in row.group(0)
    assert _answer(pci, "4.2.1") is None  # a suggestion is never an answer
    r = client.post(
        "/pci/alpha/suggestions/decide",
        data={"csrf_token": csrf, "requirement_id": "4.2.1", "decision": "confirm"},
    )
    assert r.status_code == 303
    ans = _answer(pci, "4.2.1")
    assert (
        ans is not None
        and ans.answer == "not-in-place"
        and ans.source == "suggestion"
        and ans.person == OWNER
    )
    with pci.db() as s:
        task = s.scalar(select(PciTask).where(PciTask.requirement_id == "4.2.1"))
        assert task is not None and task.status == "open"
    page = client.get("/pci/alpha")
    assert '<tr id="sug-4.2.1">' not in page.text
    assert '<tr id="task-4.2.1">' in page.text
    assert "pci.suggestion" in _actions(pci)


def test_rejecting_a_suggestion_drops_it_without_answering(pci: Env) -> None:
    _suggest(pci)
    client, csrf = pci.session_client(OWNER)
    r = client.post(
        "/pci/alpha/suggestions/decide",
        data={"csrf_token": csrf, "requirement_id": "4.2.1", "decision": "reject"},
    )
    assert r.status_code == 303
    assert _answer(pci, "4.2.1") is None
    with pci.db() as s:
        assert s.scalar(select(PciSuggestion).where(PciSuggestion.requirement_id == "4.2.1")) is None
    assert '<tr id="sug-4.2.1">' not in client.get("/pci/alpha").text
    bad = client.post(
        "/pci/alpha/suggestions/decide",
        data={"csrf_token": csrf, "requirement_id": "4.2.1", "decision": "maybe"},
    )
    assert bad.status_code == 400 and "choose confirm or reject" in bad.text


def test_remediation_task_owner_due_and_status(pci: Env) -> None:
    save_answers(pci.db, "alpha", YEAR, [AnswerInput("2.2.2", Answer.NOT_IN_PLACE, "Ann")])
    client, csrf = pci.session_client(OWNER)
    bad = client.post(
        "/pci/alpha/tasks",
        data={
            "csrf_token": csrf,
            "requirement_id": "2.2.2",
            "owner": "Hosting Co",
            "due": "next tuesday",
            "status": "open",
        },
    )
    assert bad.status_code == 400
    assert re.search(r'<input name="due"[^>]*aria-invalid="true"', bad.text)
    with pci.db() as s:
        task = s.scalar(select(PciTask).where(PciTask.requirement_id == "2.2.2"))
        assert task is not None and task.owner == "" and task.due is None
    ok = client.post(
        "/pci/alpha/tasks",
        data={
            "csrf_token": csrf,
            "requirement_id": "2.2.2",
            "owner": "Hosting Co",
            "due": "2030-01-31",
            "status": "done",
        },
    )
    assert ok.status_code == 303
    with pci.db() as s:
        task = s.scalar(select(PciTask).where(PciTask.requirement_id == "2.2.2"))
        assert task is not None and task.owner == "Hosting Co" and str(task.due) == "2030-01-31"
        assert task.status == "done" and task.closed_at is not None
    none = client.post(
        "/pci/alpha/tasks",
        data={"csrf_token": csrf, "requirement_id": "12.8.4", "owner": "x", "status": "open"},
    )
    assert none.status_code == 400 and "no remediation task" in none.text


def test_auditor_reads_and_downloads_but_changes_nothing(pci: Env) -> None:
    _post_answer(pci, "12.8.4", {"answer": "in-place"}, {"evidence": ("aoc.pdf", PDF, "application/pdf")})
    (ev,) = _evidence(pci)
    client, csrf = pci.session_client(ROLE_EMAIL[Role.AUDITOR])
    page = client.get("/pci/alpha/req/12.8.4")
    assert page.status_code == 200 and 'id="answer-form"' not in page.text
    assert client.get("/pci/alpha/saq").status_code == 403
    assert (
        client.post("/pci/alpha/req/12.8.4", data={"csrf_token": csrf, "answer": "not-in-place"}).status_code
        == 403
    )
    html = client.get("/pci/alpha/report.html")
    assert html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    assert "alpha" in html.text and "12.8.4" in html.text and "working copy" in html.text.lower()
    pdf = client.get("/pci/alpha/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    pack = client.get("/pci/alpha/evidence-pack.zip")
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(pack.content)) as z:
        names = z.namelist()
        assert f"evidence/12.8.4/{ev.id}-aoc.pdf" in names and "index.json" in names
        assert z.read(f"evidence/12.8.4/{ev.id}-aoc.pdf") == PDF
    one = client.get(f"/pci/alpha/evidence/{ev.id}")
    assert one.status_code == 200 and one.content == PDF
    assert one.headers["content-type"] == "application/octet-stream"
    assert one.headers["content-disposition"].startswith("attachment")
    assert client.get(f"/pci/beta/evidence/{ev.id}").status_code == 404  # wrong store
    assert {"pci.report.export", "pci.pack.export", "pci.evidence.download"} <= set(_actions(pci))
    employee, _ = pci.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert employee.get("/pci/alpha/report.html").status_code == 403
    assert employee.get("/pci").status_code == 403


def test_a_user_scoped_to_other_stores_does_not_see_this_one(pci: Env) -> None:
    client, _ = pci.session_client(SCOPED_EMAIL)
    assert client.get("/pci/alpha").status_code == 404
    assert client.get("/pci/alpha/report.html").status_code == 404
    assert "/pci/alpha" not in client.get("/pci").text


def test_a_request_body_over_the_dashboard_limit_is_refused(pci: Env) -> None:
    client, csrf = pci.session_client(OWNER)
    r = client.post(
        "/pci/alpha/req/12.8.4",
        data={"csrf_token": csrf, "answer": "in-place"},
        files={"evidence": ("big.pdf", b"%PDF-" + b"0" * (33 * 1024 * 1024), "application/pdf")},
    )
    assert r.status_code == 413 and "Request too large" in r.text
    assert _evidence(pci) == []
    # Streamed without a declared length (chunked): counted and cut off all the same.
    chunk = b"0" * (1024 * 1024)
    streamed = client.post(
        "/pci/alpha/req/12.8.4",
        content=iter(
            [b'--b\r\nContent-Disposition: form-data; name="evidence"; filename="s.pdf"\r\n\r\n%PDF-']
            + [chunk] * 40
        ),
        headers={"content-type": "multipart/form-data; boundary=b", "x-csrf-token": csrf},
    )
    assert streamed.status_code == 413 and "Request too large" in streamed.text
    assert _evidence(pci) == []


def test_uploaded_file_names_are_reduced_to_their_last_part(pci: Env) -> None:
    r = _post_answer(
        pci, "12.8.4", {"answer": "in-place"}, {"evidence": ("..\\..\\etc/aoc.pdf", PDF, "application/pdf")}
    )
    assert r.status_code == 303
    (ev,) = _evidence(pci)
    assert ev.filename == "aoc.pdf"


def test_pci_nav_entry_only_for_roles_that_read_it(pci: Env) -> None:
    owner, _ = pci.session_client(OWNER)
    assert '<a href="/pci">PCI</a>' in owner.get("/pci").text
    employee, _ = pci.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert '<a href="/pci">PCI</a>' not in employee.get("/my/policies").text


def test_wizard_refuses_an_integration_that_contradicts_the_config(pci: Env) -> None:
    from shopguard.config import parse_config

    pci.app.state.config = parse_config(
        {
            "stores": [
                {"name": "alpha", "storefront_url": "https://alpha.example"},
                {"name": "beta", "storefront_url": "https://beta.example", "payment_integration": "redirect"},
            ]
        }
    )
    client, csrf = pci.session_client(OWNER)
    form = client.get("/pci/beta/saq")
    assert re.search(r'name="integration" value="redirect" checked', form.text)  # prefilled from the config
    r = client.post("/pci/beta/saq", data={"csrf_token": csrf, "integration": "api", "step": "save"})
    assert r.status_code == 400
    assert "shopguard.toml says store &#39;beta&#39; uses payment_integration = &#39;redirect&#39;" in r.text
    assert '<fieldset aria-invalid="true" id="f-integration">' in r.text
    with pci.db() as s:
        assert get_assessment(s, "beta", YEAR) is None
