"""Walk EVERY route of the app: anonymous is refused, each role gets exactly what ROLE_PERMS allows."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import BaseRoute, Mount, Route

from shopguard.web.auth import Require
from shopguard.web.models import ApiToken, WebUser
from shopguard.web.permissions import ROLE_PERMS, Perm, Role

from .conftest import ACK_SLUG, ROLE_EMAIL, Env

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz"), ("GET", "/api/v1/openapi.json")}


def _requires(route: APIRoute) -> list[Perm]:
    found: list[Perm] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require):
            found.append(dep.call.perm)
        stack.extend(dep.dependencies)
    return found


def _flatten(routes: list[BaseRoute]) -> list[BaseRoute]:
    out: list[BaseRoute] = []
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI >= 0.120 keeps included routers nested
        if inner is not None:
            out.extend(_flatten(inner.routes))
        else:
            out.append(r)
    return out


def _routes(env: Env) -> list[tuple[str, str, APIRoute]]:
    out = []
    for r in _flatten(env.app.routes):
        if isinstance(r, APIRoute):
            for m in sorted(r.methods):
                out.append((m, r.path, r))
        elif isinstance(r, Mount):
            assert r.path == "/static", r.path
        else:
            assert isinstance(r, Route) and r.path == "/api/v1/openapi.json", f"unexpected route {r!r}"
    assert len(out) > 20
    return out


def test_every_route_declares_exactly_one_permission(env: Env) -> None:
    seen_public = set()
    for method, path, route in _routes(env):
        perms = _requires(route)
        if (method, path) in PUBLIC:
            assert perms == [], path
            seen_public.add((method, path))
        else:
            assert len(perms) == 1, f"{method} {path} must declare one Require(...), has {perms}"
    assert seen_public == PUBLIC - {("GET", "/api/v1/openapi.json")}


def _fill(env: Env, path: str, email: str) -> str:
    with env.db.begin() as s:
        victim = s.scalar(select(WebUser.id).where(WebUser.email == "victim@shop.example"))
        if victim is None:
            from shopguard.web.users import create_user

            victim = create_user(s, "victim@shop.example", "V", Role.EMPLOYEE, "Another-long-pw-22").id
        uid = s.scalar(select(WebUser.id).where(WebUser.email == email))
        tok = s.scalar(select(ApiToken.id).where(ApiToken.user_id == uid))
        if tok is None and uid is not None:
            t = ApiToken(user_id=uid, name="t", prefix=f"p{uid:05d}", token_hash="0" * 64, scopes=[])
            s.add(t)
            s.flush()
            tok = t.id
    values = {
        "finding_id": str(env.finding_id("alpha", "scanning.web.headers.hsts")),
        "run_id": str(env.run_id),
        "fmt": "json",
        "slug": ACK_SLUG,
        "user_id": str(victim),
        "token_id": str(tok),
        "incident_id": "1",
        "number": "1",
        "store": "alpha",
        "requirement_id": "12.8.4",
        "evidence_id": "1",
        "scan_id": "1",
        "policy_id": "1",
        "monitor": "storefront",
        "window_id": "1",
    }

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        assert name in values, f"the walk needs a sample value for path parameter {name!r}"
        return values[name]

    return re.sub(r"\{(\w+)\}", sub, path)


@pytest.mark.parametrize("method,path", [(m, p) for m, p in sorted(PUBLIC)])
def test_public_routes_do_not_500(env: Env, method: str, path: str) -> None:
    r = env.client().request(method, path)
    assert r.status_code < 500


def test_walk_every_route_anonymous_and_every_role(env: Env) -> None:
    checked = 0
    for method, path, route in _routes(env):
        if (method, path) in PUBLIC:
            continue
        (perm,) = _requires(route)
        anon = env.client().request(method, _fill(env, path, ROLE_EMAIL[Role.OWNER]))
        if path.startswith("/api/"):
            assert anon.status_code == 401, (method, path, anon.status_code)
        else:
            assert anon.status_code == 303 and anon.headers["location"].startswith("/login"), (method, path)
        for role in Role:
            email = ROLE_EMAIL[role]
            client, csrf = env.session_client(email)
            url = _fill(env, path, email)
            kwargs: dict[str, object] = {"headers": {"X-CSRF-Token": csrf}}
            if path == "/api/v1/findings/{finding_id}/triage":
                kwargs["json"] = {"action": "reopen"}
            r = client.request(method, url, **kwargs)  # type: ignore[arg-type]
            if perm in ROLE_PERMS[role]:
                assert r.status_code not in (401, 403) and r.status_code < 500, (
                    role,
                    method,
                    path,
                    r.status_code,
                )
            else:
                assert r.status_code == 403, (role, method, path, r.status_code)
            checked += 1
    assert checked >= 5 * 20


def test_role_table_shape() -> None:
    assert ROLE_PERMS[Role.EMPLOYEE] == {Perm.POLICIES_OWN, Perm.ACCOUNT_OWN}
    assert Perm.FINDINGS_TRIAGE not in ROLE_PERMS[Role.AUDITOR]
    assert Perm.EXPORTS_READ in ROLE_PERMS[Role.AUDITOR]
    assert Perm.SCRIPTS_APPROVE not in ROLE_PERMS[Role.ANALYST] | ROLE_PERMS[Role.AUDITOR]
    # Only owners and admins sign a PCI assessment or change insurance policies.
    for perm in (Perm.PCI_SIGN, Perm.PCI_EDIT, Perm.INSURANCE_EDIT):
        assert {r for r in Role if perm in ROLE_PERMS[r]} == {Role.OWNER, Role.ADMIN}
    assert all(p in ROLE_PERMS[Role.OWNER] for p in Perm)


EXPECTED = {
    ("GET", "/"): Perm.OVERVIEW_READ,
    ("GET", "/stores/{store}"): Perm.OVERVIEW_READ,
    ("POST", "/findings/{finding_id}/triage"): Perm.FINDINGS_TRIAGE,
    ("POST", "/api/v1/findings/{finding_id}/triage"): Perm.FINDINGS_TRIAGE,
    ("GET", "/runs/{run_id}/report.{fmt}"): Perm.EXPORTS_READ,
    ("GET", "/audit"): Perm.AUDIT_READ,
    ("GET", "/settings/users"): Perm.USERS_MANAGE,
    ("POST", "/settings/users"): Perm.USERS_MANAGE,
    ("GET", "/settings/secrets"): Perm.SECRETS_MANAGE,
    ("POST", "/settings/secrets"): Perm.SECRETS_MANAGE,
    ("POST", "/my/policies/{slug}/acknowledge"): Perm.POLICIES_OWN,
    ("POST", "/response/incidents"): Perm.RESPONSE_MANAGE,
    ("POST", "/response/incidents/{incident_id}/evidence"): Perm.RESPONSE_MANAGE,
    ("GET", "/response/incidents/{incident_id}/evidence/{evidence_id}"): Perm.EXPORTS_READ,
    ("POST", "/policies/{slug}/versions/{number}/publish"): Perm.POLICIES_MANAGE,
    ("POST", "/policies/training"): Perm.POLICIES_MANAGE,
    ("GET", "/settings/channels"): Perm.SETTINGS_MANAGE,
    ("POST", "/settings/channels/test"): Perm.SETTINGS_MANAGE,
    ("GET", "/settings/channels/delete"): Perm.SETTINGS_MANAGE,
    ("POST", "/settings/channels/delete"): Perm.SETTINGS_MANAGE,
    ("POST", "/findings/bulk"): Perm.FINDINGS_TRIAGE,
    ("POST", "/findings/{finding_id}/assign"): Perm.FINDINGS_TRIAGE,
    ("POST", "/findings/{finding_id}/comments"): Perm.FINDINGS_TRIAGE,
    ("POST", "/api/v1/findings/bulk"): Perm.FINDINGS_TRIAGE,
    ("POST", "/api/v1/findings/{finding_id}/comments"): Perm.FINDINGS_TRIAGE,
    ("GET", "/scripts"): Perm.SCANS_READ,
    ("POST", "/scripts/approve"): Perm.SCRIPTS_APPROVE,
    ("POST", "/scripts/reject"): Perm.SCRIPTS_APPROVE,
    ("POST", "/pci/{store}/saq"): Perm.PCI_EDIT,
    ("POST", "/pci/{store}/req/{requirement_id}"): Perm.PCI_EDIT,
    ("GET", "/pci/{store}/evidence/{evidence_id}"): Perm.EXPORTS_READ,
    ("GET", "/pci/{store}/evidence-pack.zip"): Perm.EXPORTS_READ,
    ("GET", "/pci/{store}/report.{fmt}"): Perm.EXPORTS_READ,
    ("GET", "/insurance"): Perm.INSURANCE_READ,
    ("GET", "/api/v1/monitors"): Perm.MONITORING_READ,
    ("GET", "/api/v1/monitors/{store}/{monitor}"): Perm.MONITORING_READ,
    ("GET", "/api/v1/maintenance"): Perm.MONITORING_READ,
    ("POST", "/api/v1/maintenance"): Perm.MONITORING_MANAGE,
    ("POST", "/api/v1/maintenance/{window_id}/end"): Perm.MONITORING_MANAGE,
    ("GET", "/api/v1/stores/{store}/scripts"): Perm.SCANS_READ,
    ("POST", "/api/v1/stores/{store}/scripts/approve"): Perm.SCRIPTS_APPROVE,
    ("POST", "/api/v1/stores/{store}/scripts/reject"): Perm.SCRIPTS_APPROVE,
    ("POST", "/insurance/underwriting"): Perm.INSURANCE_EDIT,
    ("GET", "/pci/{store}/sign"): Perm.PCI_SIGN,
    ("POST", "/pci/{store}/sign"): Perm.PCI_SIGN,
    ("GET", "/pci/{store}/asv"): Perm.PCI_READ,
    ("POST", "/pci/{store}/asv"): Perm.PCI_EDIT,
    ("GET", "/pci/{store}/asv/{scan_id}"): Perm.EXPORTS_READ,
    ("GET", "/insurance/policies/new"): Perm.INSURANCE_EDIT,
    ("POST", "/insurance/policies"): Perm.INSURANCE_EDIT,
    ("GET", "/insurance/policies/{policy_id}/edit"): Perm.INSURANCE_EDIT,
    ("POST", "/insurance/policies/{policy_id}"): Perm.INSURANCE_EDIT,
}


def test_sensitive_routes_carry_the_expected_permission(env: Env) -> None:
    declared = {(m, p): _requires(r) for m, p, r in _routes(env)}
    for key, perm in EXPECTED.items():
        assert declared[key] == [perm], key
