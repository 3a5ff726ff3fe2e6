"""Recording and changing insurance policies in the dashboard, checked by the insurance
register's own validation (the same as ``shopguard insurance import``) on a real SQLite DB."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from shopguard.db.base import utcnow
from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.register import export_data, import_data
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role

from .conftest import ROLE_EMAIL, Env

OWNER = ROLE_EMAIL[Role.OWNER]
TODAY = utcnow().date()


def _form(**changes: str) -> dict[str, str]:
    form = {
        "insurer": "Harbour Mutual",
        "policy_number": "CY-2026-77",
        "period_start": (TODAY - timedelta(days=30)).isoformat(),
        "period_end": (TODAY + timedelta(days=335)).isoformat(),
        "currency": "gbp",
        "aggregate_limit": "1M",
        "retention": "2,500",
        "window_hours": "72",
        "hotline": "+44 20 7946 0000",
        "notification_email": "claims@harbour.example",
        "broker_name": "Bea Broker",
        "broker_email": "bea@brokers.example",
        "broker_phone": "",
        "exclusions": "war\nunencrypted laptops\n",
        "notes": "renewal questionnaire due 60 days before",
        "cov_breach_response_limit": "250k",
        "cov_breach_response_sublimits": "forensics: 50k, notification=25k",
        "cov_extortion_limit": "100000",
        "cov_pci_fines_limit": "",
    }
    form.update(changes)
    return form


def _policies(env: Env) -> list[dict[str, object]]:
    return export_data(env.db)["insurance"]  # type: ignore[no-any-return]


def _events(env: Env) -> list[AuditEvent]:
    with env.db() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("insurance.policy.%"))
                .order_by(AuditEvent.seq)
            )
        )


def _post(env: Env, path: str, form: dict[str, str], email: str = OWNER):  # type: ignore[no-untyped-def]
    client, csrf = env.session_client(email)
    return client.post(path, data={"csrf_token": csrf, **form})


def test_owner_records_a_policy_with_coverages_and_it_shows_on_the_page(env: Env) -> None:
    client, _ = env.session_client(OWNER)
    page = client.get("/insurance")
    assert 'id="new-policy"' in page.text
    blank = client.get("/insurance/policies/new")
    assert blank.status_code == 200 and 'name="cov_social_engineering_limit"' in blank.text
    r = _post(env, "/insurance/policies", _form())
    assert r.status_code == 303 and r.headers["location"] == "/insurance#policy-CY-2026-77"
    (p,) = _policies(env)
    assert p["insurer"] == "Harbour Mutual" and p["currency"] == "GBP"
    assert p["aggregate_limit"] == 1_000_000 and p["retention"] == 2500
    assert p["notification"] == {
        "window_hours": 72,
        "hotline": "+44 20 7946 0000",
        "email": "claims@harbour.example",
    }
    assert p["broker"] == {"name": "Bea Broker", "email": "bea@brokers.example"}
    assert p["exclusions"] == ["war", "unencrypted laptops"]
    assert p["coverages"] == {
        "breach_response": {
            "limit": 250_000,
            "sublimits": {"forensics": 50_000, "notification": 25_000},
            "retention": None,
            "notes": "",
        },
        "extortion": {"limit": 100_000, "sublimits": {}, "retention": None, "notes": ""},
    }
    (ev,) = _events(env)
    assert ev.action == "insurance.policy.create" and ev.actor == OWNER and ev.target == "CY-2026-77"
    assert ev.data["coverages"] == {"breach_response": 250_000, "extortion": 100_000}
    article = re.search(r'<article id="policy-CY-2026-77">.*?</article>', client.get("/insurance").text, re.S)
    assert article is not None
    assert "GBP 1,000,000" in article.group(0) and "forensics GBP 50,000" in article.group(0)
    assert "within 72 hours" in article.group(0)


def test_admin_changes_a_policy_number_and_its_coverages(env: Env) -> None:
    import_data(
        env.db,
        {
            "insurance": [
                {
                    "insurer": "Old Name",
                    "policy_number": "OLD-1",
                    "period_start": (TODAY - timedelta(days=10)).isoformat(),
                    "period_end": (TODAY + timedelta(days=355)).isoformat(),
                    "coverages": {"breach_response": "100k", "media_liability": "50k"},
                }
            ]
        },
    )
    with env.db() as s:
        pid = s.scalar(select(InsurancePolicy.id))
    admin, _ = env.session_client(ROLE_EMAIL[Role.ADMIN])
    edit = admin.get(f"/insurance/policies/{pid}/edit")
    assert edit.status_code == 200
    assert 'name="policy_number" type="text" maxlength="100" value="OLD-1"' in edit.text
    assert 'name="cov_media_liability_limit" maxlength="32" value="50000"' in edit.text
    form = _form(
        insurer="New Name",
        policy_number="NEW-2",
        cov_breach_response_limit="500k",
        cov_breach_response_sublimits="",
        cov_extortion_limit="",
        cov_regulatory_limit="75k",
        cov_regulatory_retention="5k",
        cov_media_liability_limit="",
    )
    r = _post(env, f"/insurance/policies/{pid}", form, ROLE_EMAIL[Role.ADMIN])
    assert r.status_code == 303
    (p,) = _policies(env)
    assert p["policy_number"] == "NEW-2" and p["insurer"] == "New Name"
    assert {k: v["limit"] for k, v in p["coverages"].items()} == {
        "breach_response": 500_000,
        "regulatory": 75_000,
    }  # type: ignore[union-attr]
    assert p["coverages"]["regulatory"]["retention"] == 5000  # type: ignore[index]
    (ev,) = _events(env)
    assert ev.action == "insurance.policy.update" and ev.target == "NEW-2" and ev.data["id"] == pid


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"insurer": " "}, "insurer", "required"),
        ({"period_end": (TODAY - timedelta(days=60)).isoformat()}, "period_end", "is not after period_start"),
        ({"period_start": "next spring"}, "period_start", "is not a date"),
        ({"currency": "EURO"}, "currency", "expected a 3-letter code"),
        ({"aggregate_limit": "lots"}, "aggregate_limit", "is not a money amount"),
        ({"window_hours": "three days"}, "window_hours", "expected a whole number of hours"),
        ({"cov_extortion_limit": "a lot"}, "cov_extortion_limit", "is not a money amount"),
        ({"cov_extortion_limit": "", "cov_extortion_retention": "5k"}, "cov_extortion_limit", "required"),
        (
            {"cov_breach_response_sublimits": "forensics: 900k"},
            "cov_breach_response_sublimits",
            "is more than the coverage limit",
        ),
        (
            {"cov_breach_response_sublimits": "forensics 50k"},
            "cov_breach_response_sublimits",
            "write each sub-limit as name: amount",
        ),
    ],
)
def test_bad_values_are_marked_and_nothing_saved(
    env: Env, changes: dict[str, str], field: str, message: str
) -> None:
    r = _post(env, "/insurance/policies", _form(**changes))
    assert r.status_code == 400
    assert re.search(rf'<input name="{field}"[^>]*aria-invalid="true"', r.text), field
    assert message in r.text and 'id="policy-errors"' in r.text
    assert 'value="Harbour Mutual"' in r.text or field == "insurer"  # what was typed stays
    assert _policies(env) == [] and _events(env) == []


def test_a_policy_number_already_recorded_is_refused_not_replaced(env: Env) -> None:
    assert _post(env, "/insurance/policies", _form()).status_code == 303
    again = _post(env, "/insurance/policies", _form(insurer="Someone Else"))
    assert again.status_code == 400
    assert re.search(r'<input name="policy_number"[^>]*aria-invalid="true"', again.text)
    assert "already recorded for Harbour Mutual" in again.text
    (p,) = _policies(env)
    assert p["insurer"] == "Harbour Mutual" and len(_events(env)) == 1
    # Renaming another policy onto that number is refused as well.
    _post(env, "/insurance/policies", _form(policy_number="SECOND-1"))
    with env.db() as s:
        second = s.scalar(select(InsurancePolicy.id).where(InsurancePolicy.policy_number == "SECOND-1"))
    clash = _post(env, f"/insurance/policies/{second}", _form(policy_number="CY-2026-77"))
    assert clash.status_code == 400 and "already recorded" in clash.text
    assert sorted(str(p["policy_number"]) for p in _policies(env)) == ["CY-2026-77", "SECOND-1"]


def test_an_unknown_policy_is_not_found(env: Env) -> None:
    client, csrf = env.session_client(OWNER)
    assert client.get("/insurance/policies/999/edit").status_code == 404
    assert client.post("/insurance/policies/999", data={"csrf_token": csrf, **_form()}).status_code == 404
    assert _policies(env) == []


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.EMPLOYEE])
def test_only_owners_and_admins_record_or_change_policies(env: Env, role: Role) -> None:
    assert _post(env, "/insurance/policies", _form()).status_code == 303
    with env.db() as s:
        pid = s.scalar(select(InsurancePolicy.id))
    client, csrf = env.session_client(ROLE_EMAIL[role])
    assert client.get("/insurance/policies/new").status_code == 403
    assert client.get(f"/insurance/policies/{pid}/edit").status_code == 403
    create = client.post("/insurance/policies", data={"csrf_token": csrf, **_form(policy_number="X-1")})
    assert create.status_code == 403
    change = client.post(f"/insurance/policies/{pid}", data={"csrf_token": csrf, **_form(insurer="Mallory")})
    assert change.status_code == 403
    (p,) = _policies(env)
    assert p["insurer"] == "Harbour Mutual" and len(_events(env)) == 1
    if role is not Role.EMPLOYEE:
        page = client.get("/insurance")
        assert page.status_code == 200
        assert 'id="new-policy"' not in page.text and "/edit" not in page.text


def test_a_form_without_the_csrf_token_is_refused(env: Env) -> None:
    client, _ = env.session_client(OWNER)
    r = client.post("/insurance/policies", data=_form())
    assert r.status_code == 403 and _policies(env) == []
