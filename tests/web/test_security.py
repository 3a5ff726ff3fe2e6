"""The dashboard's own security: CSRF, lockout, cookies, TOTP, audit chain, secrets, store scope."""

from __future__ import annotations

import os
import re
import stat
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select, text, update

from shopguard.db.base import utcnow
from shopguard.db.models import FindingRecord
from shopguard.web import auditlog
from shopguard.web.app import CSP
from shopguard.web.models import StoredSecret, WebSession, WebUser
from shopguard.web.permissions import Role
from shopguard.web.settings import WebSettings
from shopguard.web.vault import KEY_ENV, Vault, VaultError, load_key

from .conftest import PASSWORD, ROLE_EMAIL, SCOPED_EMAIL, Env, build_env, csrf_of, login

ANALYST = ROLE_EMAIL[Role.ANALYST]
OWNER = ROLE_EMAIL[Role.OWNER]


def _triage(env: Env, fid: int) -> str:
    with env.db() as s:
        rec = s.get(FindingRecord, fid)
        assert rec is not None
        return rec.triage


# --- CSRF ----------------------------------------------------------------------------------------


def test_triage_needs_the_csrf_token(env: Env) -> None:
    fid = env.finding_id("alpha", "scanning.web.headers.hsts")
    client, csrf = env.session_client(ANALYST)
    form = {"action": "accept_risk", "reason": "behind a CDN that adds HSTS"}
    assert client.post(f"/findings/{fid}/triage", data=form).status_code == 403
    assert client.post(f"/findings/{fid}/triage", data={**form, "csrf_token": "wrong"}).status_code == 403
    assert _triage(env, fid) == "none"
    r = client.post(f"/findings/{fid}/triage", data={**form, "csrf_token": csrf})
    assert r.status_code == 303
    assert _triage(env, fid) == "accepted_risk"


def test_api_with_session_cookie_needs_csrf_header_but_bearer_token_does_not(env: Env) -> None:
    fid = env.finding_id("alpha", "scanning.web.headers.hsts")
    client, csrf = env.session_client(ANALYST)
    body = {"action": "false_positive", "reason": "test page"}
    assert client.post(f"/api/v1/findings/{fid}/triage", json=body).status_code == 403
    assert (
        client.post(f"/api/v1/findings/{fid}/triage", json=body, headers={"X-CSRF-Token": csrf}).status_code
        == 200
    )
    # An API token with the triage scope, created through the account page.
    page = client.post(
        "/account/tokens",
        data={"name": "ci", "scopes": ["findings.read", "findings.triage"], "days": "30", "csrf_token": csrf},
    )
    assert page.status_code == 200
    token = re.search(r'id="new-token">(sgt_[^<]+)<', page.text)
    assert token is not None
    bearer = env.client()
    h = {"Authorization": f"Bearer {token.group(1)}"}
    r = bearer.post(f"/api/v1/findings/{fid}/triage", json={"action": "reopen"}, headers=h)
    assert r.status_code == 200 and r.json()["triage"] == "none"
    # Scopes limit the token: no overview.read scope, so the overview is refused.
    assert bearer.get("/api/v1/overview", headers=h).status_code == 403
    # A bearer token never works for the HTML pages, and a forged one is refused.
    assert bearer.get("/findings", headers=h).status_code == 303
    forged = token.group(1)[:-4] + "AAAA"
    assert bearer.get("/api/v1/findings", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_token_is_stored_hashed_and_scopes_cannot_exceed_the_role(env: Env) -> None:
    client, csrf = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = client.post("/account/tokens", data={"name": "x", "scopes": ["findings.triage"], "csrf_token": csrf})
    assert r.status_code == 400
    r = client.post("/account/tokens", data={"name": "x", "scopes": ["findings.read"], "csrf_token": csrf})
    value = re.search(r'id="new-token">sgt_([^<]+)<', r.text)
    assert value is not None
    with env.db() as s:
        dump = " ".join(str(row) for row in s.execute(text("SELECT * FROM web_api_tokens")).all())
    assert value.group(1).split("_", 1)[1] not in dump


def test_login_form_has_its_own_csrf(env: Env) -> None:
    c = env.client()
    r = c.post("/login", data={"email": OWNER, "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403 and "sg_session" not in r.headers.get("set-cookie", "")


# --- cookies, headers ----------------------------------------------------------------------------


def test_session_cookie_flags_over_http_and_https(env: Env) -> None:
    r = login(env.client(), OWNER)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "sg_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie.split("sg_login_csrf")[0]
    r = login(env.client("https://testserver"), OWNER)
    cookie = r.headers["set-cookie"]
    assert "__Host-sg_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_strict_csp_and_no_inline_code_in_templates(env: Env) -> None:
    r = env.client().get("/login")
    assert r.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    tdir = Path(__file__).parents[2] / "src/shopguard/web/templates"
    for t in tdir.glob("*.html"):
        body = t.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), t.name
        assert "<style" not in body and " style=" not in body and " on" + "click=" not in body, t.name


# --- login: lockout, rate limit, TOTP ------------------------------------------------------------


def test_lockout_after_repeated_failures_even_with_the_right_password(env: Env) -> None:
    c = env.client()
    for _ in range(5):
        r = login(c, ANALYST, "wrong-password-123")
        assert r.status_code == 400 and "Wrong email or password" in r.text
    r = login(c, ANALYST)
    assert r.status_code == 400 and "locked" in r.text
    with env.db.begin() as s:
        s.execute(
            update(WebUser)
            .where(WebUser.email == ANALYST)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert login(c, ANALYST).status_code == 303
    with env.db() as s:
        actions = [a for (a,) in s.execute(text("SELECT action FROM web_audit_events ORDER BY seq"))]
    assert actions.count("login.failed") == 5 and "login.locked" in actions and actions[-1] == "login"


def test_rate_limit_per_address(sqlite_url: str) -> None:
    env = build_env(sqlite_url, WebSettings(ip_attempts_per_window=3))
    c = env.client()
    for _ in range(3):
        assert login(c, "nobody@shop.example", "whatever-password").status_code == 400
    assert login(c, OWNER).status_code == 429


def test_unknown_user_and_wrong_password_look_the_same(env: Env) -> None:
    a = login(env.client(), "nobody@shop.example", "x" * 14)
    b = login(env.client(), OWNER, "x" * 14)
    assert a.status_code == b.status_code == 400
    assert re.search(r'id="login-error">([^<]+)<', a.text).group(1) == re.search(  # type: ignore[union-attr]
        r'id="login-error">([^<]+)<', b.text
    ).group(1)


def test_totp_enrolment_login_and_replay(env: Env) -> None:
    client, csrf = env.session_client(OWNER)
    page = client.post("/account/totp/start", data={"csrf_token": csrf})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret is not None
    totp = pyotp.TOTP(secret.group(1))
    assert client.post("/account/totp/confirm", data={"code": "000000", "csrf_token": csrf}).status_code in (
        303,
        400,
    )
    with env.db() as s:
        user = s.scalar(select(WebUser).where(WebUser.email == OWNER))
        assert user is not None
        enabled = user.totp_enabled
        stored = user.totp_secret
    assert secret.group(1) not in stored  # encrypted at rest
    if not enabled:
        r = client.post("/account/totp/confirm", data={"code": totp.now(), "csrf_token": csrf})
        assert r.status_code == 303
    # The code used to enrol cannot be used again; the next step's code (one step of drift) works once.
    c = env.client()
    assert login(c, OWNER).status_code == 400  # password alone is not enough
    assert login(c, OWNER, totp=totp.now()).status_code == 400  # the enrolment code is spent
    code = totp.at(time.time() + 30)
    assert login(c, OWNER, totp=code).status_code == 303
    assert login(env.client(), OWNER, totp=code).status_code == 400  # replay refused


# --- sessions --------------------------------------------------------------------------------------


def test_expired_session_goes_to_login_keeping_the_place(env: Env) -> None:
    client, _ = env.session_client(ANALYST)
    assert client.get("/findings?store=alpha").status_code == 200
    with env.db.begin() as s:
        s.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
    r = client.get("/findings?store=alpha")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ffindings%3Fstore%3Dalpha"
    r = login(env.client(), ANALYST)
    page = env.client().get("/login?next=%2Ffindings%3Fstore%3Dalpha")
    assert 'name="next" value="/findings?store=alpha"' in page.text


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example/", "/\tevil", "javascript:alert(1)"],
)
def test_open_redirect_refused(env: Env, target: str) -> None:
    c = env.client()
    page = c.get("/login")
    r = c.post(
        "/login",
        data={
            "email": OWNER,
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": target,
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_logout_ends_the_session(env: Env) -> None:
    client, csrf = env.session_client(ANALYST)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/findings").status_code == 303


# --- store scope ------------------------------------------------------------------------------------


def test_scoped_user_sees_only_their_stores(env: Env) -> None:
    client, csrf = env.session_client(SCOPED_EMAIL)
    alpha = env.finding_id("alpha", "scanning.web.headers.hsts")
    beta = env.finding_id("beta", "pci.saq.missing")
    assert client.get(f"/findings/{alpha}").status_code == 404
    assert client.get(f"/findings/{beta}").status_code == 200
    assert (
        client.post(f"/findings/{alpha}/triage", data={"action": "reopen", "csrf_token": csrf}).status_code
        == 404
    )
    items = client.get("/api/v1/findings", params={"status": "all"}).json()["items"]
    assert {i["store"] for i in items} == {"beta"}
    assert [r["store"] for r in client.get("/api/v1/overview").json()] == ["beta"]
    assert "alpha" not in client.get("/").text.split("<main")[1]


def test_admin_cannot_create_an_owner(env: Env) -> None:
    client, csrf = env.session_client(ROLE_EMAIL[Role.ADMIN])
    form = {
        "email": "new@shop.example",
        "role": "owner",
        "password": "Long-enough-pass-9",
        "csrf_token": csrf,
    }
    r = client.post("/settings/users", data=form)
    assert r.status_code == 400 and "above your own" in r.text
    r = client.post("/settings/users", data={**form, "role": "analyst", "password": "short"})
    assert r.status_code == 400 and 'aria-invalid="true"' in r.text
    assert client.post("/settings/users", data={**form, "role": "analyst"}).status_code == 303


# --- audit log chain ----------------------------------------------------------------------------------


def test_audit_log_chain_detects_edit_delete_and_truncation(env: Env) -> None:
    fid = env.finding_id("alpha", "scanning.web.headers.hsts")
    client, csrf = env.session_client(OWNER)
    client.post(f"/findings/{fid}/triage", data={"action": "accept_risk", "reason": "ok", "csrf_token": csrf})
    client.post(f"/findings/{fid}/triage", data={"action": "reopen", "csrf_token": csrf})
    login(env.client(), ANALYST)
    with env.db() as s:
        rep = auditlog.verify(s)
    assert rep.ok and rep.entries == 3
    assert "Chain intact" in client.get("/audit").text
    # Edit an entry behind the application's back.
    with env.db.begin() as s:
        s.execute(text("UPDATE web_audit_events SET actor = 'someone-else' WHERE seq = 2"))
    with env.db() as s:
        rep = auditlog.verify(s)
    assert not rep.ok and any("entry 2" in p and "changed" in p for p in rep.problems)
    page = client.get("/audit")
    assert "tampered" in page.text
    assert env.session_client(ROLE_EMAIL[Role.AUDITOR])[0].get("/api/v1/audit/verify").json()["ok"] is False


def test_audit_log_truncation_is_detected(env: Env) -> None:
    login(env.client(), ANALYST)
    login(env.client(), OWNER)
    with env.db.begin() as s:
        last = s.scalar(text("SELECT max(seq) FROM web_audit_events"))
        s.execute(text("DELETE FROM web_audit_events WHERE seq = :n"), {"n": last})
    with env.db() as s:
        rep = auditlog.verify(s)
    assert not rep.ok and any("records" in p for p in rep.problems)


# --- secrets ------------------------------------------------------------------------------------------


def test_secrets_encrypted_at_rest_and_never_shown(env: Env) -> None:
    value = "pg-password-Zq8wL1xv0Tk3"
    client, csrf = env.session_client(ROLE_EMAIL[Role.ADMIN])
    r = client.post("/settings/secrets", data={"name": "alpha.db", "value": value, "csrf_token": csrf})
    assert r.status_code == 303
    page = client.get("/settings/secrets").text
    assert value not in page and "••••0Tk3" in page
    with env.db() as s:
        raw = s.execute(text("SELECT ciphertext, hint FROM web_secrets")).one()
        assert value not in raw[0] and value not in raw[1]
        assert Vault(env.key).get(s, "alpha.db") == value
        with pytest.raises(VaultError):
            from cryptography.fernet import Fernet

            Vault(Fernet.generate_key()).get(s, "alpha.db")
        assert s.scalar(select(StoredSecret.updated_by)) == ROLE_EMAIL[Role.ADMIN]


def test_key_file_created_owner_only_and_loose_permissions_refused(tmp_path: Path) -> None:
    os.environ.pop(KEY_ENV, None)
    path = tmp_path / "k" / "web-secret.key"
    key = load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key
    path.chmod(0o644)
    with pytest.raises(VaultError, match="chmod 600"):
        load_key(path)


def test_concurrent_logins_on_sqlite_keep_one_unbroken_chain(env: Env) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> int:
        return int(login(env.client(), ANALYST, PASSWORD if i % 2 else "wrong-password-xx").status_code)

    with ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(one, range(16)))
    assert all(c in (303, 400) for c in codes), codes
    with env.db() as s:
        rep = auditlog.verify(s)
    assert rep.ok and rep.entries == 16


def test_totp_required_for_admins_sends_them_to_set_it_up(sqlite_url: str) -> None:
    env = build_env(sqlite_url, WebSettings(require_totp_for_admins=True))
    admin, csrf = env.session_client(ROLE_EMAIL[Role.ADMIN])
    r = admin.get("/findings")
    assert r.status_code == 303 and r.headers["location"] == "/account?totp=required"
    assert "must use two-factor" in admin.get("/account?totp=required").text
    assert admin.get("/api/v1/findings").status_code == 403
    analyst, _ = env.session_client(ANALYST)
    assert analyst.get("/findings").status_code == 200  # the rule is for owners and admins
    page = admin.post("/account/totp/start", data={"csrf_token": csrf})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret is not None
    code = pyotp.TOTP(secret.group(1)).now()
    assert admin.post("/account/totp/confirm", data={"code": code, "csrf_token": csrf}).status_code == 303
    assert admin.get("/findings").status_code == 200


def test_password_change_needs_the_current_one_and_ends_other_sessions(env: Env) -> None:
    other, _ = env.session_client(ANALYST)
    client, csrf = env.session_client(ANALYST)
    r = client.post(
        "/account/password", data={"current": "nope", "new": "A-new-long-pass-42", "csrf_token": csrf}
    )
    assert r.status_code == 400 and "not your current password" in r.text
    r = client.post("/account/password", data={"current": PASSWORD, "new": "short", "csrf_token": csrf})
    assert r.status_code == 400
    r = client.post(
        "/account/password", data={"current": PASSWORD, "new": "A-new-long-pass-42", "csrf_token": csrf}
    )
    assert r.status_code == 303
    assert other.get("/findings").status_code == 303  # the other session ended
    assert client.get("/findings").status_code == 200  # this one goes on
    assert login(env.client(), ANALYST).status_code == 400
    assert login(env.client(), ANALYST, "A-new-long-pass-42").status_code == 303
