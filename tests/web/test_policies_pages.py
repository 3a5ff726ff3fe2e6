"""The policies admin pages: library, versions, approve/publish, acknowledgements, training."""

from __future__ import annotations

import re

from sqlalchemy import select

from shopguard.policies.models import PolicyDocument, PolicyVersion, TrainingRecord
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role

from .conftest import ACK_SLUG, ROLE_EMAIL, Env, csrf_of

SLUG = "access-control"


def _status(env: Env, slug: str) -> list[tuple[int, str]]:
    with env.db() as s:
        rows = s.execute(
            select(PolicyVersion.number, PolicyVersion.status)
            .join(PolicyDocument)
            .where(PolicyDocument.slug == slug)
            .order_by(PolicyVersion.number)
        )
        return [(n, st) for n, st in rows]


def _actions(env: Env, action: str) -> list[AuditEvent]:
    with env.db() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_library_lists_policies_state_and_who_owes(env: Env) -> None:
    c, _ = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = c.get("/policies")
    assert r.status_code == 200
    row = re.search(rf'<tr id="policy-{ACK_SLUG}">(.*?)</tr>', r.text, re.S)
    assert row is not None
    assert "v1" in row.group(1) and "published" in row.group(1) and "1 person" in row.group(1)
    other = re.search(rf'<tr id="policy-{SLUG}">(.*?)</tr>', r.text, re.S)
    assert other is not None and "draft" in other.group(1) and "not published" in other.group(1)
    assert "0 of 1 people on the roster have current training" in r.text
    emp, _ = env.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert emp.get("/policies").status_code == 403
    assert emp.get(f"/policies/{ACK_SLUG}").status_code == 403
    assert c.get("/policies/no-such-policy").status_code == 404


def test_who_acknowledged_which_version(env: Env) -> None:
    admin, _ = env.session_client(ROLE_EMAIL[Role.ADMIN])
    page = admin.get(f"/policies/{ACK_SLUG}").text
    who = ROLE_EMAIL[Role.EMPLOYEE]
    row = re.search(rf'<tr id="ack-{re.escape(who)}">(.*?)</tr>', page, re.S)
    assert row is not None and "never" in row.group(1) and "owes v1 (never)" in row.group(1)
    # The employee acknowledges on their own page; the admin page then shows the version and method.
    emp, ecsrf = env.session_client(who)
    r = emp.post(f"/my/policies/{ACK_SLUG}/acknowledge", data={"csrf_token": ecsrf, "confirm": "yes"})
    assert r.status_code == 303
    page = admin.get(f"/policies/{ACK_SLUG}").text
    row = re.search(rf'<tr id="ack-{re.escape(who)}">(.*?)</tr>', page, re.S)
    assert row is not None and "v1 on " in row.group(1) and "(web)" in row.group(1)
    assert "current" in row.group(1)


def test_owner_approves_then_publishes_a_version(env: Env) -> None:
    c, csrf = env.session_client(ROLE_EMAIL[Role.OWNER])
    page = c.get(f"/policies/{SLUG}").text
    assert f'action="/policies/{SLUG}/versions/1/approve"' in page
    assert "no published version" in page
    # Publishing a draft is refused with the reason; nothing changes.
    early = c.post(f"/policies/{SLUG}/versions/1/publish", data={"csrf_token": csrf})
    assert early.status_code == 400 and "is draft, not approved" in early.text
    assert _status(env, SLUG) == [(1, "draft")]
    assert c.post(f"/policies/{SLUG}/versions/7/approve", data={"csrf_token": csrf}).status_code == 400
    r = c.post(f"/policies/{SLUG}/versions/1/approve", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert _status(env, SLUG) == [(1, "approved")]
    page = c.get(f"/policies/{SLUG}").text
    assert f"{ROLE_EMAIL[Role.OWNER]}, " in page
    r = c.post(f"/policies/{SLUG}/versions/1/publish", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert _status(env, SLUG) == [(1, "published")]
    assert 'id="in-force">version 1' in c.get(f"/policies/{SLUG}").text
    (ap,) = _actions(env, "policy.approve")
    (pu,) = _actions(env, "policy.publish")
    assert ap.target == SLUG and pu.data["version"] == 1 and len(pu.data["text_hash"]) == 64
    # The employee now owes it too.
    emp, _ = env.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert f'id="policy-{SLUG}"' in emp.get("/my/policies").text


def test_analysts_and_auditors_cannot_approve(env: Env) -> None:
    for role in (Role.ANALYST, Role.AUDITOR):
        c, csrf = env.session_client(ROLE_EMAIL[role])
        page = c.get(f"/policies/{SLUG}")
        assert page.status_code == 200 and "/approve" not in page.text
        assert c.post(f"/policies/{SLUG}/versions/1/approve", data={"csrf_token": csrf}).status_code == 403
        assert c.post("/policies/training", data={"csrf_token": csrf}).status_code == 403
    assert _status(env, SLUG) == [(1, "draft")]


def test_record_training_and_bad_values(env: Env) -> None:
    c, _ = env.session_client(ROLE_EMAIL[Role.ADMIN])
    page = c.get("/policies/training")
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    who = ROLE_EMAIL[Role.EMPLOYEE]
    base = {"csrf_token": csrf, "email": who, "course": "Phishing basics", "result": "passed", "provider": ""}

    def bad(field: str, why: str, **over: str) -> None:
        r = c.post("/policies/training", data={**base, "completed_on": "2026-01-10", **over})
        assert r.status_code == 400, r.text[-500:]
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', r.text), field
        assert why in r.text

    bad("completed_on", "is not a date; expected YYYY-MM-DD", completed_on="10/01/2026")
    bad("completed_on", "cannot be completed in the future", completed_on="2999-01-01")
    bad("course", "required", course=" ")
    bad("result", "expected one of passed, failed, attended", result="great")
    bad("email", "nobody with e-mail", email="stranger@shop.example")
    with env.db() as s:
        assert s.scalar(select(TrainingRecord.id)) is None
    r = c.post("/policies/training", data={**base, "completed_on": "2026-01-10"})
    assert r.status_code == 303 and r.headers["location"] == "/policies/training?saved=1"
    page = c.get("/policies/training?saved=1").text
    assert 'id="training-saved"' in page and "Phishing basics" in page and "2027-01-10" in page
    status = re.search(r'<table class="striped" id="training-status">(.*?)</table>', page, re.S)
    assert status is not None and ">current<" in status.group(1)
    (ev,) = _actions(env, "training.record")
    assert ev.target == who and ev.data["course"] == "Phishing basics"
    assert "1 of 1 people on the roster have current training" in c.get("/policies").text
