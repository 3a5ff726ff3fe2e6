"""The insurance section of the dashboard, seeded through the insurance register's own import."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from shopguard.db.base import utcnow
from shopguard.insurance.models import UnderwritingAnswer
from shopguard.insurance.register import import_data
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role

from .conftest import ROLE_EMAIL, Env

OWNER = ROLE_EMAIL[Role.OWNER]


@pytest.fixture
def ins(env: Env) -> Env:
    """One policy in force ending in 20 days (two coverages), one expired last year."""
    today = utcnow().date()
    import_data(
        env.db,
        {
            "insurance": [
                {
                    "insurer": "Harbour Mutual",
                    "policy_number": "CY-2026-77",
                    "period_start": (today - timedelta(days=345)).isoformat(),
                    "period_end": (today + timedelta(days=20)).isoformat(),
                    "currency": "GBP",
                    "aggregate_limit": "1M",
                    "retention": 2500,
                    "notification": {"window_hours": 72, "hotline": "+44 20 7946 0000"},
                    "coverages": {
                        "breach_response": {"limit": "250k", "sublimits": {"forensics": "50k"}},
                        "extortion": 100000,
                    },
                },
                {
                    "insurer": "Old Insurer",
                    "policy_number": "OLD-1",
                    "period_start": (today - timedelta(days=800)).isoformat(),
                    "period_end": (today - timedelta(days=400)).isoformat(),
                    "coverages": {"breach_response": "100k"},
                },
            ],
            "underwriting": [{"question": "backups_offline", "answer": "partial", "answered_by": "Ann"}],
        },
    )
    return env


def test_policies_coverages_limits_and_renewal_countdown(ins: Env) -> None:
    client, _ = ins.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = client.get("/insurance")
    assert r.status_code == 200
    policy = re.search(r'<article id="policy-CY-2026-77">.*?</article>', r.text, re.S)
    assert policy is not None
    text = policy.group(0)
    assert "Harbour Mutual" in text and "in force" in text
    assert "GBP 1,000,000" in text and "GBP 2,500" in text  # aggregate limit, retention
    assert "Breach response" in text and "GBP 250,000" in text and "forensics GBP 50,000" in text
    assert "Cyber extortion and ransomware" in text and "GBP 100,000" in text
    assert "in 20 days" in text and "within 72 hours" in text
    old = re.search(r'<article id="policy-OLD-1">.*?</article>', r.text, re.S)
    assert old is not None and "expired" in old.group(0) and "ended 400 days ago" in old.group(0)
    renewal = re.search(r'<p id="renewal"[^>]*>(.*?)</p>', r.text, re.S)
    assert renewal is not None and "CY-2026-77" in renewal.group(1) and "in 20 days" in renewal.group(1)


def test_gaps_are_those_the_insurance_protocol_computes(ins: Env) -> None:
    client, _ = ins.session_client(OWNER)
    gaps = re.search(r'<ul id="gap-list">(.*?)</ul>', client.get("/insurance").text, re.S)
    assert gaps is not None
    items = re.findall(r"<li[^>]*>(.*?)</li>", gaps.group(1), re.S)
    # Nine coverage kinds are required by default; the policy in force has two.
    assert len(items) == 7
    assert any("No pci fines and assessments cover" in i for i in items)
    assert not any("Breach response" in i for i in items)


def test_no_policy_at_all_says_so(env: Env) -> None:
    client, _ = env.session_client(OWNER)
    r = client.get("/insurance")
    assert r.status_code == 200
    assert 'id="no-policy"' in r.text and "No cyber insurance policy in force today." in r.text
    assert 'id="renewal"' not in r.text


def test_underwriting_answers_show_their_source(ins: Env) -> None:
    client, _ = ins.session_client(ROLE_EMAIL[Role.ANALYST])
    r = client.get("/insurance")
    row = re.search(r'<tr id="uw-backups_offline">.*?</tr>', r.text, re.S)
    assert row is not None and "partial" in row.group(0) and "owner" in row.group(0)
    unanswered = re.search(r'<tr id="uw-mfa_email">.*?</tr>', r.text, re.S)
    assert unanswered is not None and "unanswered" in unanswered.group(0)
    assert 'id="answer-form"' not in r.text  # analysts read; owners and admins edit
    assert "edit</a>" not in r.text


def test_admin_records_an_underwriting_answer(ins: Env) -> None:
    client, csrf = ins.session_client(ROLE_EMAIL[Role.ADMIN])
    form = client.get("/insurance?edit=backups_offline")
    assert 'option value="backups_offline" selected' in form.text
    assert re.search(r'value="partial" checked', form.text)
    r = client.post(
        "/insurance/underwriting",
        data={
            "csrf_token": csrf,
            "question": "mfa_email",
            "answer": "yes",
            "note": "Google Workspace 2SV enforced",
        },
    )
    assert r.status_code == 303
    with ins.db() as s:
        rec = s.scalar(select(UnderwritingAnswer).where(UnderwritingAnswer.question_id == "mfa_email"))
        assert rec is not None and rec.answer == "yes" and rec.answered_by == ROLE_EMAIL[Role.ADMIN]
        assert rec.note == "Google Workspace 2SV enforced"
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "insurance.underwriting"))
        assert event is not None and event.target == "mfa_email" and event.data["answer"] == "yes"
    row = re.search(r'<tr id="uw-mfa_email">.*?</tr>', client.get("/insurance").text, re.S)
    assert row is not None and ">yes" in row.group(0) and "Google Workspace 2SV enforced" in row.group(0)


@pytest.mark.parametrize(
    "question,answer,field",
    [("mfa_email", "maybe", "f-uw-answer"), ("favourite_colour", "yes", "question"), ("", "", "question")],
)
def test_bad_underwriting_values_are_re_rendered_and_nothing_saved(
    ins: Env, question: str, answer: str, field: str
) -> None:
    client, csrf = ins.session_client(OWNER)
    r = client.post(
        "/insurance/underwriting", data={"csrf_token": csrf, "question": question, "answer": answer}
    )
    assert r.status_code == 400
    if field == "question":
        assert re.search(r'<select name="question" aria-invalid="true">', r.text)
    else:
        assert f'<fieldset aria-invalid="true" id="{field}">' in r.text
        assert "expected yes, no or partial" in r.text
    with ins.db() as s:
        assert s.scalars(select(UnderwritingAnswer.question_id)).all() == ["backups_offline"]
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "insurance.underwriting")) is None


def test_roles_auditor_reads_employee_sees_nothing(ins: Env) -> None:
    auditor, csrf = ins.session_client(ROLE_EMAIL[Role.AUDITOR])
    assert auditor.get("/insurance").status_code == 200
    denied = auditor.post(
        "/insurance/underwriting", data={"csrf_token": csrf, "question": "mfa_email", "answer": "no"}
    )
    assert denied.status_code == 403
    employee, _ = ins.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert employee.get("/insurance").status_code == 403
    assert '<a href="/insurance">Insurance</a>' not in employee.get("/my/policies").text
    assert '<a href="/insurance">Insurance</a>' in auditor.get("/insurance").text
