"""Triage in the dashboard and the API: expiring risk acceptance, false positives, assign,
comments, bulk actions (refused whole for findings outside the user's stores)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update
from typer.testing import CliRunner

from shopguard.cli.app import app as cli_app
from shopguard.config import FindingsSettings, parse_config
from shopguard.db.base import utcnow
from shopguard.db.models import FindingComment, FindingRecord
from shopguard.db.repository import load_run
from shopguard.readiness import litmus
from shopguard.reports import render
from shopguard.web import queries
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env, csrf_of

OWNER = ROLE_EMAIL[Role.OWNER]
ANALYST = ROLE_EMAIL[Role.ANALYST]
HSTS = "scanning.web.headers.hsts"
CSP = "scanning.web.headers.csp"
SAQ = "pci.saq.missing"


def _rec(env: Env, fid: int) -> FindingRecord:
    with env.db() as s:
        rec = s.get(FindingRecord, fid)
    assert rec is not None
    return rec


def _audit(env: Env, action: str) -> list[AuditEvent]:
    with env.db() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _open_ids(env: Env, email: str = OWNER) -> list[int]:
    client, _ = env.session_client(email)
    return [i["id"] for i in client.get("/api/v1/findings", params={"status": "open"}).json()["items"]]


def test_accept_risk_needs_a_reason_and_an_expiry_within_the_maximum(env: Env) -> None:
    client, _ = env.session_client(OWNER)
    fid = env.finding_id("alpha", HSTS)
    page = client.get(f"/findings/{fid}")
    csrf = csrf_of(page.text)
    default = (utcnow().date() + timedelta(days=90)).isoformat()
    assert f'name="expires" value="{default}"' in page.text
    base = {"csrf_token": csrf, "action": "accept_risk"}
    r = client.post(f"/findings/{fid}/triage", data={**base, "reason": " "})
    assert r.status_code == 400 and 'aria-invalid="true"' in r.text and "say why" in r.text
    too_late = (utcnow().date() + timedelta(days=366)).isoformat()
    r = client.post(f"/findings/{fid}/triage", data={**base, "reason": "CDN adds it", "expires": too_late})
    assert r.status_code == 400 and "at most 365 days ahead" in r.text
    r = client.post(f"/findings/{fid}/triage", data={**base, "reason": "CDN adds it", "expires": "soon"})
    assert r.status_code == 400 and "a date like" in r.text
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    r = client.post(f"/findings/{fid}/triage", data={**base, "reason": "CDN adds it", "expires": yesterday})
    assert r.status_code == 400 and "after today" in r.text
    assert _rec(env, fid).triage == "none"  # nothing saved by the refusals
    r = client.post(f"/findings/{fid}/triage", data={**base, "reason": "CDN adds it"})
    assert r.status_code == 303
    rec = _rec(env, fid)
    assert rec.triage == "accepted_risk" and rec.triage_expires_at is not None
    assert rec.triage_expires_at.date().isoformat() == default
    (ev,) = _audit(env, "finding.triage")
    assert ev.data["expires_at"].startswith(default) and ev.data["reason"] == "CDN adds it"
    # A false positive needs a reason too, and carries no expiry.
    r = client.post(
        f"/findings/{fid}/triage", data={"csrf_token": csrf, "action": "false_positive", "reason": "proxy"}
    )
    assert r.status_code == 303
    rec = _rec(env, fid)
    assert rec.triage == "false_positive" and rec.triage_expires_at is None


def test_a_lapsed_acceptance_counts_as_open_everywhere(env: Env) -> None:
    client, csrf = env.session_client(OWNER)
    fid = env.finding_id("alpha", HSTS)
    r = client.post(
        f"/api/v1/findings/{fid}/triage",
        json={
            "action": "accept_risk",
            "reason": "legacy proxy",
            "expires": str(utcnow().date() + timedelta(days=30)),
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["triage"] == "accepted_risk" and not r.json()["triage_lapsed"]
    assert fid not in _open_ids(env)
    with env.db() as s:
        assert {r.store: r for r in queries.overview(s, ["alpha"])}["alpha"].counts["high"] == 0
    assert all(
        not sf.counts_as_open for sf in load_run(env.db, env.run_id).findings if sf.finding.check_id == HSTS
    )

    # Time passes: the expiry is now in the past (nothing rewrites the row).
    with env.db.begin() as s:
        s.execute(
            update(FindingRecord)
            .where(FindingRecord.id == fid)
            .values(triage_expires_at=utcnow() - timedelta(minutes=1))
        )
    env.app.state.web.invalidate()
    assert _rec(env, fid).triage == "accepted_risk"  # the decision stays on record

    # overview / litmus
    with env.db() as s:
        row = {r.store: r for r in queries.overview(s, ["alpha"])}["alpha"]
    assert row.counts["high"] == 1 and row.protocols["scanning"] == "gaps"
    overview = client.get("/api/v1/overview").json()
    assert next(x for x in overview if x["store"] == "alpha")["open_findings"]["high"] == 1
    run = load_run(env.db, env.run_id)
    (sf,) = [sf for sf in run.findings if sf.finding.check_id == HSTS]
    assert sf.counts_as_open and sf.triage_lapsed and sf.triage.value == "none"
    assert {x.protocol: x.status.value for x in litmus(run)}["scanning"] == "gaps"
    # findings list (page and API), "triaged" no longer lists it
    assert fid in _open_ids(env)
    api = client.get(f"/api/v1/findings/{fid}").json()
    assert api["triage"] == "none" and api["triage_lapsed"] is True
    assert client.get("/api/v1/findings", params={"status": "triaged"}).json()["total"] == 0
    page = client.get("/findings", params={"store": "alpha"})
    assert "risk acceptance lapsed" in page.text
    assert "lapsed on" in client.get(f"/findings/{fid}").text
    # reports
    report = json.loads(render(run, "json"))
    (item,) = [f for f in report["findings"] if f["check_id"] == HSTS]
    assert item["triage"]["state"] == "none" and item["triage"]["lapsed"] is True
    # the CLI
    res = CliRunner().invoke(
        cli_app, ["findings", "list", "--json", "--store", "alpha", "--db", str(env.db.kw["bind"].url)]
    )
    assert res.exit_code == 0, res.output
    (cli_row,) = [x for x in json.loads(res.output) if x["check_id"] == HSTS]
    assert cli_row["triage"] == "none" and cli_row["triage_lapsed"] is True


def test_bulk_actions_apply_to_every_ticked_finding_or_to_none(env: Env) -> None:
    client, _ = env.session_client(OWNER)
    csrf = csrf_of(client.get("/findings", params={"status": "all"}).text)
    hsts, csp = env.finding_id("alpha", HSTS), env.finding_id("alpha", CSP)
    form = {"csrf_token": csrf, "ids": [str(hsts), str(csp)], "action": "accept_risk", "status": "open"}
    r = client.post("/findings/bulk", data={**form, "reason": ""})
    assert r.status_code == 400 and "say why" in r.text and 'aria-invalid="true"' in r.text
    assert _rec(env, hsts).triage == "none" and _rec(env, csp).triage == "none"
    r = client.post("/findings/bulk", data={"csrf_token": csrf, "action": "reopen"})
    assert r.status_code == 400 and "select at least one finding" in r.text
    r = client.post("/findings/bulk", data={**form, "reason": "shop closes in March"})
    assert r.status_code == 303 and "done=2" in r.headers["location"]
    assert "2 findings changed" in client.get(r.headers["location"]).text
    for fid in (hsts, csp):
        rec = _rec(env, fid)
        assert rec.triage == "accepted_risk" and rec.triage_reason == "shop closes in March"
        assert rec.triage_expires_at is not None
    assert len(_audit(env, "finding.triage")) == 2
    r = client.post("/findings/bulk", data={"csrf_token": csrf, "ids": [str(hsts)], "action": "reopen"})
    assert r.status_code == 303
    assert _rec(env, hsts).triage == "none" and _rec(env, csp).triage == "accepted_risk"
    r = client.post(
        "/findings/bulk",
        data={"csrf_token": csrf, "ids": [str(hsts), str(csp)], "action": "assign", "assignee": ANALYST},
    )
    assert r.status_code == 303
    assert _rec(env, hsts).assignee == ANALYST and _rec(env, csp).assignee == ANALYST


def test_bulk_with_a_finding_outside_the_users_stores_is_refused_whole(env: Env) -> None:
    client, csrf = env.session_client(SCOPED_EMAIL)  # analyst scoped to beta
    beta, alpha = env.finding_id("beta", SAQ), env.finding_id("alpha", HSTS)
    form = {"csrf_token": csrf, "action": "false_positive", "reason": "not ours"}
    r = client.post("/findings/bulk", data={**form, "ids": [str(beta), str(alpha)]})
    assert r.status_code == 403 and "nothing was changed" in r.text
    assert _rec(env, beta).triage == "none" and _rec(env, alpha).triage == "none"
    r = client.post("/findings/bulk", data={**form, "ids": [str(beta), "999999"]})
    assert r.status_code == 403  # unknown ids get the same answer as other stores' ids
    r = client.post(
        "/api/v1/findings/bulk",
        json={"ids": [beta, alpha], "action": "false_positive", "reason": "not ours"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 403 and "nothing was changed" in r.json()["detail"]
    assert _audit(env, "finding.triage") == []
    # Within their own store it works.
    r = client.post("/findings/bulk", data={**form, "ids": [str(beta)]})
    assert r.status_code == 303 and _rec(env, beta).triage == "false_positive"
    # The bulk form never shows the other store's findings to tick.
    assert f'name="ids" value="{alpha}"' not in client.get("/findings", params={"status": "all"}).text


def test_comments_form_a_thread_with_author_and_time(env: Env) -> None:
    fid = env.finding_id("alpha", HSTS)
    owner, _ = env.session_client(OWNER)
    csrf = csrf_of(owner.get(f"/findings/{fid}").text)
    assert owner.post(f"/findings/{fid}/comments", data={"csrf_token": csrf, "body": "  "}).status_code == 400
    r = owner.post(f"/findings/{fid}/comments", data={"csrf_token": csrf, "body": "Who owns the CDN config?"})
    assert r.status_code == 303
    analyst, acsrf = env.session_client(ANALYST)
    r = analyst.post(
        f"/api/v1/findings/{fid}/comments",
        json={"body": "Ops does; ticket OPS-12"},
        headers={"X-CSRF-Token": acsrf},
    )
    assert r.status_code == 201 and r.json()["author"] == ANALYST
    page = owner.get(f"/findings/{fid}").text
    first, second = page.index("Who owns the CDN config?"), page.index("Ops does; ticket OPS-12")
    assert first < second and OWNER in page[:first] and ANALYST in page[first : second + 200]
    thread = analyst.get(f"/api/v1/findings/{fid}/comments").json()
    assert [(c["author"], c["body"]) for c in thread] == [
        (OWNER, "Who owns the CDN config?"),
        (ANALYST, "Ops does; ticket OPS-12"),
    ]
    events = _audit(env, "finding.comment")
    assert [e.actor for e in events] == [OWNER, ANALYST] and events[0].data[
        "body"
    ] == "Who owns the CDN config?"
    # An auditor reads the thread but cannot add to it; a user of another store cannot see it.
    auditor, aucsrf = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    assert "Ops does" in auditor.get(f"/findings/{fid}").text
    r = auditor.post(f"/findings/{fid}/comments", data={"csrf_token": aucsrf, "body": "x"})
    assert r.status_code == 403
    scoped, scsrf = env.session_client(SCOPED_EMAIL)
    assert scoped.get(f"/api/v1/findings/{fid}/comments").status_code == 404
    r = scoped.post(f"/findings/{fid}/comments", data={"csrf_token": scsrf, "body": "hi"})
    assert r.status_code == 404
    with env.db() as s:
        assert len(list(s.scalars(select(FindingComment)))) == 2


def test_assign_and_the_assigned_to_me_filter(env: Env) -> None:
    fid = env.finding_id("alpha", HSTS)
    owner, _ = env.session_client(OWNER)
    page = owner.get(f"/findings/{fid}").text
    csrf = csrf_of(page)
    assert f'value="{ANALYST}"' in page and f'value="{ROLE_EMAIL[Role.EMPLOYEE]}"' not in page
    assert f'value="{SCOPED_EMAIL}"' not in page  # scoped to beta: cannot take an alpha finding
    for who in (ROLE_EMAIL[Role.EMPLOYEE], SCOPED_EMAIL, "nobody@shop.example"):
        r = owner.post(f"/findings/{fid}/assign", data={"csrf_token": csrf, "assignee": who})
        assert r.status_code == 400 and 'aria-invalid="true"' in r.text, who
    assert _rec(env, fid).assignee == ""
    r = owner.post(f"/findings/{fid}/assign", data={"csrf_token": csrf, "assignee": ANALYST.upper()})
    assert r.status_code == 303 and _rec(env, fid).assignee == ANALYST
    (ev,) = _audit(env, "finding.assign")
    assert ev.data == {"assignee": ANALYST, "before": ""}
    analyst, acsrf = env.session_client(ANALYST)
    mine = analyst.get("/api/v1/findings", params={"assigned": "me", "status": "all"}).json()
    assert [i["id"] for i in mine["items"]] == [fid] and mine["items"][0]["assignee"] == ANALYST
    page = analyst.get("/findings", params={"assigned": "me", "status": "all"})
    assert page.status_code == 200 and "1 finding" in page.text
    nobody = analyst.get("/api/v1/findings", params={"assigned": "none", "status": "all"}).json()
    assert fid not in [i["id"] for i in nobody["items"]] and nobody["total"] == 2
    assert owner.get("/api/v1/findings", params={"assigned": "me"}).json()["total"] == 0
    assert analyst.get("/findings", params={"assigned": "them"}).status_code == 400
    # The API unassigns with the same checks.
    r = analyst.post(f"/api/v1/findings/{fid}/assign", json={"assignee": ""}, headers={"X-CSRF-Token": acsrf})
    assert r.status_code == 200 and r.json()["assignee"] == ""
    r = analyst.post(
        f"/api/v1/findings/{fid}/assign",
        json={"assignee": ROLE_EMAIL[Role.AUDITOR]},
        headers={"X-CSRF-Token": acsrf},
    )
    assert r.status_code == 422


def test_api_bulk_and_triage_expiry_limits(env: Env) -> None:
    client, csrf = env.session_client(ANALYST)
    h = {"X-CSRF-Token": csrf}
    hsts, csp = env.finding_id("alpha", HSTS), env.finding_id("alpha", CSP)
    far = str(utcnow().date() + timedelta(days=400))
    r = client.post(
        f"/api/v1/findings/{hsts}/triage",
        json={"action": "accept_risk", "reason": "x", "expires": far},
        headers=h,
    )
    assert r.status_code == 422 and "expires" in r.json()["detail"]
    r = client.post(
        "/api/v1/findings/bulk",
        json={"ids": [hsts, csp], "action": "accept_risk", "reason": "pen test next month"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["changed"] == 2
    assert {i["triage"] for i in r.json()["items"]} == {"accepted_risk"}
    assert all(i["triage_expires_at"] for i in r.json()["items"])
    r = client.post("/api/v1/findings/bulk", json={"ids": [], "action": "reopen"}, headers=h)
    assert r.status_code == 422
    auditor, aucsrf = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = auditor.post(
        "/api/v1/findings/bulk", json={"ids": [hsts], "action": "reopen"}, headers={"X-CSRF-Token": aucsrf}
    )
    assert r.status_code == 403
    assert _rec(env, hsts).triage == "accepted_risk"


def test_configured_default_and_maximum(env: Env) -> None:
    env.app.state.config = parse_config(
        {
            "stores": [
                {"name": "alpha", "storefront_url": "https://alpha.example", "platform": "woocommerce"}
            ],
            "findings": {"accept_risk_default_days": 10, "accept_risk_max_days": 30},
        }
    )
    client, _ = env.session_client(OWNER)
    fid = env.finding_id("alpha", CSP)
    csrf = csrf_of(client.get(f"/findings/{fid}").text)
    late = str(utcnow().date() + timedelta(days=31))
    r = client.post(
        f"/findings/{fid}/triage",
        data={"csrf_token": csrf, "action": "accept_risk", "reason": "tiny risk", "expires": late},
    )
    assert r.status_code == 400 and "at most 30 days" in r.text
    r = client.post(
        f"/findings/{fid}/triage", data={"csrf_token": csrf, "action": "accept_risk", "reason": "tiny"}
    )
    assert r.status_code == 303
    expires = _rec(env, fid).triage_expires_at
    assert expires is not None and expires.date() == utcnow().date() + timedelta(days=10)
    with pytest.raises(ValidationError, match="accept_risk_default_days"):
        FindingsSettings(accept_risk_default_days=400, accept_risk_max_days=365)
