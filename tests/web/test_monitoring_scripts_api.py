"""The JSON API for monitoring (monitors, maintenance windows) and the payment-page script
inventory, with real scoped API tokens, against the same rows the pages read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from shopguard.db.base import utcnow
from shopguard.monitoring.models import MaintenanceRecord
from shopguard.monitoring.stats import uptime
from shopguard.scanning.pages.models import PageApproval, PageRejection
from shopguard.web.auditlog import verify
from shopguard.web.auth import new_api_token
from shopguard.web.models import AuditEvent, WebUser
from shopguard.web.permissions import Perm, Role

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env
from .monitoring_support import seed_monitoring
from .test_scripts import SKIM, WIDGET, seed_pages


def _token(env: Env, email: str, *scopes: Perm) -> dict[str, str]:
    with env.db.begin() as s:
        user = s.scalar(select(WebUser).where(WebUser.email == email))
        assert user is not None
        value, _ = new_api_token(s, user, "api-test", list(scopes), utcnow() + timedelta(days=1))
    return {"Authorization": f"Bearer {value}"}


def _audit(env: Env, action: str) -> list[AuditEvent]:
    with env.db() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_monitors_list_filters_pages_and_stays_in_the_callers_stores(env: Env) -> None:
    seeded = seed_monitoring(env.db, extra=120)
    c = env.client()
    auth = _token(env, ROLE_EMAIL[Role.AUDITOR], Perm.MONITORING_READ)
    r = c.get("/api/v1/monitors", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    first = body["items"][0]
    assert first["key"] == "beta/storefront" and first["status"] == "down"
    assert first["last_message"] == "connection refused"
    assert body["counts"]["down"] == 1 and body["counts"]["up"] >= 121 and body["counts"]["pending"] > 0
    alpha = next(
        m for p in (1, 2, 3) for m in c.get(f"/api/v1/monitors?page={p}", headers=auth).json()["items"]
        if m["key"] == "alpha/storefront"
    )  # fmt: skip
    expected = uptime(env.db, "alpha/storefront", "24h", seeded.now).percent
    assert expected is not None and 90 < expected < 100
    assert abs(alpha["uptime"]["24h"] - expected) < 1e-6 and alpha["latency_ms"] is not None
    gamma = c.get("/api/v1/monitors", params={"store": "gamma"}, headers=auth).json()
    assert gamma["total"] == 120 and gamma["pages"] == 3 and len(gamma["items"]) == 50
    last = c.get("/api/v1/monitors", params={"store": "gamma", "page": 3}, headers=auth).json()
    assert len(last["items"]) == 20
    down = c.get("/api/v1/monitors", params={"status": "down"}, headers=auth).json()
    assert [m["key"] for m in down["items"]] == ["beta/storefront"]
    assert c.get("/api/v1/monitors", params={"q": "gamma/"}, headers=auth).json()["total"] == 120
    assert c.get("/api/v1/monitors", params={"status": "sideways"}, headers=auth).status_code == 422
    # A user limited to store beta sees beta's monitors only, whatever the filter says.
    scoped = _token(env, SCOPED_EMAIL, Perm.MONITORING_READ)
    mine = c.get("/api/v1/monitors", headers=scoped).json()
    assert mine["items"] and {m["store"] for m in mine["items"]} == {"beta"}
    assert c.get("/api/v1/monitors", params={"store": "alpha"}, headers=scoped).json()["total"] == 0
    # The token's scopes bind as well as the role: no monitoring.read scope, no monitors.
    findings_only = _token(env, ROLE_EMAIL[Role.OWNER], Perm.FINDINGS_READ)
    assert c.get("/api/v1/monitors", headers=findings_only).status_code == 403
    assert c.get("/api/v1/monitors").status_code == 401


def test_one_monitor_has_state_uptime_and_recent_latency_like_its_page(env: Env) -> None:
    seeded = seed_monitoring(env.db)
    c = env.client()
    auth = _token(env, ROLE_EMAIL[Role.ANALYST], Perm.MONITORING_READ)
    r = c.get("/api/v1/monitors/alpha/storefront", headers=auth)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["key"] == "alpha/storefront" and m["status"] == "up" and m["kind"] == "http"
    for window in ("24h", "7d", "30d"):
        want = uptime(env.db, "alpha/storefront", window, seeded.now).percent
        assert want is not None and abs(m["uptime"][window] - want) < 1e-6, window
    assert m["uptime_90d"] is not None and m["uptime_90d"] < 100
    assert 80 <= m["latency_24h"]["p50"] <= 190 and m["latency_24h"]["p99"] >= m["latency_24h"]["p50"]
    slots = m["recent_latency"]
    assert len(slots) == 48 and slots[0]["start"] < slots[-1]["start"]
    means = [x["mean_ms"] for x in slots if x["mean_ms"] is not None]
    assert len(means) >= 40 and all(80 <= v <= 190 for v in means)
    (inc,) = m["incidents"]
    assert (
        inc["id"] == "inc-alpha-1" and inc["cause"] == "HTTP 502 Bad Gateway" and inc["duration"] == "30m 0s"
    )
    # The page shows the same numbers.
    page, _ = env.session_client(ROLE_EMAIL[Role.ANALYST])
    html = page.get("/monitoring/monitor", params={"key": "alpha/storefront"}).text
    assert f"{m['uptime']['24h']:.3f}%" in html
    down = c.get("/api/v1/monitors/beta/storefront", headers=auth).json()
    assert down["status"] == "down" and down["incidents"][0]["ended_at"] is None
    assert c.get("/api/v1/monitors/alpha/no-such-monitor", headers=auth).status_code == 404
    scoped = _token(env, SCOPED_EMAIL, Perm.MONITORING_READ)
    assert c.get("/api/v1/monitors/alpha/storefront", headers=scoped).status_code == 404
    assert c.get("/api/v1/monitors/beta/storefront", headers=scoped).status_code == 200


def test_maintenance_windows_are_planned_listed_ended_and_audited(env: Env) -> None:
    seed_monitoring(env.db)
    c = env.client()
    admin = _token(env, ROLE_EMAIL[Role.ADMIN], Perm.MONITORING_READ, Perm.MONITORING_MANAGE)
    end = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    body: dict[str, Any] = {
        "store": "alpha",
        "monitors": ["storefront"],
        "end": end.strftime("%Y-%m-%dT%H:%M:%S"),  # no zone: UTC
        "reason": "Woo update",
    }
    r = c.post("/api/v1/maintenance", json=body, headers=admin)
    assert r.status_code == 201, r.text
    w = r.json()
    assert (
        w["state"] == "active"
        and w["monitors"] == ["storefront"]
        and w["created_by"] == ROLE_EMAIL[Role.ADMIN]
    )
    assert w["end"].startswith(end.strftime("%Y-%m-%dT%H:%M:%S"))
    one = c.get("/api/v1/monitors/alpha/storefront", headers=admin).json()
    assert one["status"] == "maintenance" and "Woo update" in one["maintenance"]
    listed = c.get("/api/v1/maintenance", headers=admin).json()
    assert [x["id"] for x in listed] == [w["id"]]
    assert c.get("/api/v1/maintenance", params={"store": "beta"}, headers=admin).json() == []
    (created,) = _audit(env, "maintenance.create")
    assert created.data["via"] == "api" and created.data["reason"] == "Woo update"
    assert created.target == f"maintenance {w['id']} (alpha)"
    # Analysts and auditors read windows but cannot plan or end them (role), and an owner's
    # token without the monitoring.manage scope cannot either.
    for email, scopes in (
        (ROLE_EMAIL[Role.ANALYST], (Perm.MONITORING_READ, Perm.MONITORING_MANAGE)),
        (ROLE_EMAIL[Role.AUDITOR], (Perm.MONITORING_READ,)),
        (ROLE_EMAIL[Role.OWNER], (Perm.MONITORING_READ,)),
    ):
        t = _token(env, email, *scopes)
        assert c.get("/api/v1/maintenance", headers=t).status_code == 200
        assert c.post("/api/v1/maintenance", json=body, headers=t).status_code == 403
        assert c.post(f"/api/v1/maintenance/{w['id']}/end", headers=t).status_code == 403
    # A browser session must send its CSRF token.
    session, csrf = env.session_client(ROLE_EMAIL[Role.ADMIN])
    assert session.post(f"/api/v1/maintenance/{w['id']}/end").status_code == 403
    scoped_session, _ = env.session_client(SCOPED_EMAIL)
    assert scoped_session.get("/api/v1/maintenance").json() == []

    ended = session.post(f"/api/v1/maintenance/{w['id']}/end", headers={"X-CSRF-Token": csrf})
    assert ended.status_code == 200 and ended.json()["state"] == "ended"
    assert ended.json()["ended_by"] == ROLE_EMAIL[Role.ADMIN]
    assert c.post(f"/api/v1/maintenance/{w['id']}/end", headers=admin).status_code == 409
    assert c.post("/api/v1/maintenance/99999/end", headers=admin).status_code == 404
    assert c.get("/api/v1/monitors/alpha/storefront", headers=admin).json()["status"] == "up"
    (ended_ev,) = _audit(env, "maintenance.end")
    assert ended_ev.data == {"via": "api"}
    with env.db() as s:
        assert verify(s).ok


def test_bad_windows_are_422_naming_the_field_and_nothing_is_saved(env: Env) -> None:
    c = env.client()
    admin = _token(env, ROLE_EMAIL[Role.ADMIN], Perm.MONITORING_MANAGE)
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    good = {"store": "alpha", "end": soon, "reason": "Kernel update"}
    cases = [
        ({**good, "end": (utcnow() - timedelta(hours=1)).isoformat()}, "end"),
        ({**good, "start": (utcnow() + timedelta(hours=2)).isoformat()}, "end"),
        ({**good, "end": (utcnow() + timedelta(days=40)).isoformat()}, "end"),
        ({**good, "monitors": ["storefrnot"]}, "monitors"),
        ({**good, "store": "nowhere"}, "store"),
        ({**good, "reason": "   "}, "reason"),
        ({**good, "end": "0001-01-01T00:00:00+23:59"}, "end"),
        ({**good, "start": "9999-12-31T23:59:59-23:59"}, "start"),
    ]
    for body, field in cases:
        r = c.post("/api/v1/maintenance", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"]["field"] == field, (body, r.json())
    # A user limited to beta cannot plan one for alpha (the store is not theirs).
    with env.db.begin() as s:
        scoped = s.scalar(select(WebUser).where(WebUser.email == SCOPED_EMAIL))
        assert scoped is not None
        scoped.role = Role.ADMIN.value
    t = _token(env, SCOPED_EMAIL, Perm.MONITORING_MANAGE)
    assert c.post("/api/v1/maintenance", json=good, headers=t).json()["detail"]["field"] == "store"
    assert c.post("/api/v1/maintenance", json={"store": "alpha"}, headers=admin).status_code == 422
    with env.db() as s:
        assert s.scalar(select(func.count()).select_from(MaintenanceRecord)) == 0
    assert _audit(env, "maintenance.create") == []
    assert c.post("/api/v1/maintenance", json={**good, "store": "beta"}, headers=t).status_code == 201


def test_script_inventory_approve_and_reject_over_the_api(env: Env) -> None:
    seed_pages(env.db)
    c = env.client()
    reader = _token(env, ROLE_EMAIL[Role.ANALYST], Perm.SCANS_READ)
    r = c.get("/api/v1/stores/alpha/scripts", headers=reader)
    assert r.status_code == 200, r.text
    items = {i["identifier"]: i for i in r.json()}
    skim, widget = items[SKIM], items[WIDGET]
    assert skim["state"] == "pending" and skim["domain"] == "cdn-stripe.example" and skim["finding_id"]
    assert skim["sha256"] == "sha256-new-skim" and skim["page"] == "checkout"
    assert widget["state"] == "changed" and widget["justification"] == "Live chat for customers"
    pending = c.get("/api/v1/stores/alpha/scripts", params={"state": "pending"}, headers=reader).json()
    assert [i["identifier"] for i in pending] == [SKIM]
    assert c.get("/api/v1/stores/beta/scripts", headers=reader).json() == []
    assert c.get("/api/v1/stores/nowhere/scripts", headers=reader).status_code == 404
    scoped = _token(env, SCOPED_EMAIL, Perm.SCANS_READ)
    assert c.get("/api/v1/stores/alpha/scripts", headers=scoped).status_code == 404
    approve = {"finding_id": skim["finding_id"], "identifier": SKIM, "justification": "NimbusPay card SDK"}
    # An analyst reads the inventory but does not decide.
    assert c.post("/api/v1/stores/alpha/scripts/approve", json=approve, headers=reader).status_code == 403

    owner = _token(env, ROLE_EMAIL[Role.OWNER], Perm.SCANS_READ, Perm.SCRIPTS_APPROVE)
    r = c.post("/api/v1/stores/alpha/scripts/approve", json={**approve, "justification": "ok"}, headers=owner)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "justification"
    r = c.post("/api/v1/stores/alpha/scripts/approve", json={**approve, "identifier": WIDGET}, headers=owner)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "identifier"
    assert c.post("/api/v1/stores/beta/scripts/approve", json=approve, headers=owner).status_code == 404
    with env.db() as s:
        assert s.scalar(select(PageApproval).where(PageApproval.identifier == SKIM)) is None
    r = c.post("/api/v1/stores/alpha/scripts/approve", json=approve, headers=owner)
    assert r.status_code == 200, r.text
    assert [(a["identifier"], a["sha256"]) for a in r.json()] == [(SKIM, "sha256-new-skim")]
    with env.db() as s:
        a = s.scalar(select(PageApproval).where(PageApproval.identifier == SKIM))
        assert a is not None and a.sha256 == "sha256-new-skim" and a.approved_by == ROLE_EMAIL[Role.OWNER]
    (ev,) = _audit(env, "script.approve")
    assert ev.data["sha256"] == "sha256-new-skim" and ev.data["via"] == "api"
    assert ev.data["justification"] == "NimbusPay card SDK" and ev.target.startswith("alpha checkout script")
    assert c.get("/api/v1/stores/alpha/scripts", headers=reader).json()[-1]["state"] == "approved"

    reject = {"page": "checkout", "kind": "script", "identifier": WIDGET, "reason": "We dropped live chat"}
    r = c.post("/api/v1/stores/alpha/scripts/reject", json={**reject, "reason": "no"}, headers=owner)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "reason"
    gone = {**reject, "identifier": "https://x.example/a.js"}
    assert c.post("/api/v1/stores/alpha/scripts/reject", json=gone, headers=owner).status_code == 404
    assert c.post("/api/v1/stores/alpha/scripts/reject", json=reject, headers=reader).status_code == 403
    r = c.post("/api/v1/stores/alpha/scripts/reject", json=reject, headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["approvals_revoked"] == 1 and r.json()["rejected_by"] == ROLE_EMAIL[Role.OWNER]
    with env.db() as s:
        assert s.scalar(select(PageApproval).where(PageApproval.identifier == WIDGET)) is None
        assert [x.identifier for x in s.scalars(select(PageRejection))] == [WIDGET]
    (rej,) = _audit(env, "script.reject")
    assert rej.data == {"reason": "We dropped live chat", "approvals_revoked": 1, "via": "api"}
    states = {
        i["identifier"]: i["state"] for i in c.get("/api/v1/stores/alpha/scripts", headers=reader).json()
    }
    assert states == {SKIM: "approved", WIDGET: "rejected"}
    # The page shows the same decisions.
    page, _ = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    assert "We dropped live chat" in page.get("/scripts").text


def test_the_new_operations_are_in_the_openapi_spec(env: Env) -> None:
    paths = env.client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/monitors",
        "/api/v1/monitors/{store}/{monitor}",
        "/api/v1/maintenance",
        "/api/v1/maintenance/{window_id}/end",
        "/api/v1/stores/{store}/scripts",
        "/api/v1/stores/{store}/scripts/approve",
        "/api/v1/stores/{store}/scripts/reject",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/maintenance"]) == {"get", "post"}
