"""Server-rendered pages. Every route declares its permission with ``Require``."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import urlsplit

import pyotp
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from shopguard.db.models import FindingRecord
from shopguard.db.repository import NotFound, load_run
from shopguard.findings import Triage
from shopguard.readiness import ReadinessStatus
from shopguard.web import auditlog, nav, queries
from shopguard.web.auth import (
    LoginRefused,
    WebContext,
    client_ip,
    cookie_name,
    ctx_of,
    is_secure,
    login,
    logout,
    new_api_token,
)
from shopguard.web.models import ApiToken, StoredSecret, WebUser
from shopguard.web.params import RowId
from shopguard.web.permissions import ROLE_PERMS, Perm, Principal, Role, allowed, may_assign
from shopguard.web.templating import templates

router = APIRouter(include_in_schema=False)

nav.add("Overview", "/", Perm.OVERVIEW_READ, 10)
nav.add("Findings", "/findings", Perm.FINDINGS_READ, 20)
nav.add("Scans", "/runs", Perm.SCANS_READ, 40)
nav.add("My policies", "/my/policies", Perm.POLICIES_OWN, 80)
nav.add("Audit log", "/audit", Perm.AUDIT_READ, 90)
nav.add("Users", "/settings/users", Perm.USERS_MANAGE, 95)
nav.add("Secrets", "/settings/secrets", Perm.SECRETS_MANAGE, 96)


def need(perm: Perm) -> Any:
    from shopguard.web.auth import Require

    return Depends(Require(perm))


def _render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    base = {"me": principal, "Perm": Perm, "allowed": allowed}
    return templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)


def _stores(ctx: WebContext, request: Request, principal: Principal) -> list[str]:
    """The stores this principal sees (the full list is cached for a few seconds)."""

    def every_store() -> list[str]:
        config = request.app.state.config
        known = tuple(st.name for st in config.stores) if config is not None else ()
        with ctx.db() as s:
            return queries.all_stores(s, known)

    return [n for n in ctx.store_names.get("stores", every_store) if principal.sees_store(n)]


def overview_rows(ctx: WebContext, request: Request, me: Principal) -> tuple[float, list[queries.StoreRow]]:
    """The overview for this principal: computed for every store at most every few seconds
    (the aggregate is the expensive part at agency scale) and filtered to the stores they see.
    The first value says when the shared rows were computed (a key for what is rendered from them)."""
    import time

    def every_row() -> tuple[float, list[queries.StoreRow]]:
        everyone = Principal(user_id=0, email="", role=Role.OWNER)
        with ctx.db() as s:
            rows = queries.overview(s, _stores(ctx, request, everyone), scoped=False)
        return time.monotonic(), rows

    at, rows = ctx.overview.get("overview", every_row)
    return at, [r for r in rows if me.sees_store(r.store)]


def _safe_next(value: str) -> str:
    parts = urlsplit(value)
    # Browsers read "/\\host" like "//host": refuse backslashes and control characters too.
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(ch) < 32 for ch in value):
        return "/"
    return value


def _home(role: Role) -> str:
    return "/" if Perm.OVERVIEW_READ in ROLE_PERMS[role] else "/my/policies"


# --- login -------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    import secrets

    token = secrets.token_urlsafe(32)
    resp = _render(
        request, "login.html", {"next": _safe_next(next) if next else "", "csrf": token, "error": ""}
    )
    resp.set_cookie(
        "sg_login_csrf",
        token,
        httponly=True,
        samesite="strict",
        secure=is_secure(request, ctx_of(request).settings),
        path="/login",
    )
    return resp


@router.post("/login")
def login_submit(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    import hmac
    import secrets

    ctx = ctx_of(request)
    cookie = request.cookies.get("sg_login_csrf", "")
    fresh = secrets.token_urlsafe(32)

    def again(message: str, status: int) -> Response:
        resp = _render(
            request, "login.html", {"next": next, "csrf": fresh, "error": message, "email": email}, status
        )
        resp.set_cookie(
            "sg_login_csrf",
            fresh,
            httponly=True,
            samesite="strict",
            secure=is_secure(request, ctx.settings),
            path="/login",
        )
        return resp

    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        return again("The form expired. Please try again.", 403)
    try:
        token, user = login(ctx, email, password, totp, client_ip(request))
    except LoginRefused as exc:
        return again(str(exc), exc.status)
    secure = is_secure(request, ctx.settings)
    target = _safe_next(next) if next else _home(Role(user.role))
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        cookie_name(secure),
        token,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
        max_age=ctx.settings.session_max_hours * 3600,
    )
    resp.delete_cookie("sg_login_csrf", path="/login")
    return resp


@router.post("/logout")
def logout_submit(request: Request, me: Annotated[Principal, need(Perm.ACCOUNT_OWN)]) -> Response:
    ctx = ctx_of(request)
    logout(ctx, me, client_ip(request))
    resp = RedirectResponse("/login", status_code=303)
    for secure in (True, False):
        resp.delete_cookie(cookie_name(secure), path="/", secure=secure, httponly=True, samesite="strict")
    return resp


@router.get("/healthz")
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


# --- overview, findings, runs ------------------------------------------------------------------


@router.get("/")
def overview_page(request: Request, me: Annotated[Principal, need(Perm.OVERVIEW_READ)]) -> Response:
    ctx = ctx_of(request)
    at, rows = overview_rows(ctx, request, me)
    from shopguard.web.svg import trend
    from shopguard.web.trends import TrendCache, for_stores

    cache = getattr(request.app.state, "trend_cache", None)
    if cache is None:
        cache = request.app.state.trend_cache = TrendCache()
    with ctx.db() as s:
        found = for_stores(cache, s, [r.store for r in rows])

    def table() -> Markup:
        charts = {name: trend(t.series, t.label()) for name, t in found.items() if t.run_ids}
        labels = {st.value: st.value.replace("_", " ") for st in ReadinessStatus}
        html = templates.env.get_template("overview_table.html").render(
            rows=rows, protocols=queries.PROTOCOLS, trends=charts, labels=labels
        )
        return Markup(html)  # noqa: S704 - the output of an autoescaped template

    # Two hundred stores' rows and trend charts take longer to render than to query; the table
    # is the same for everyone who sees the same stores until the data behind it is refreshed.
    key = ("overview", at, cache.mark, tuple(r.store for r in rows))
    html = ctx.fragments.get(key, table)
    return _render(request, "overview.html", {"rows": rows, "table": html})


@router.get("/findings")
def findings_page(
    request: Request,
    me: Annotated[Principal, need(Perm.FINDINGS_READ)],
    store: Annotated[str, Query(max_length=200)] = "",
    protocol: Annotated[str, Query(max_length=32)] = "",
    severity: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=16)] = "open",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    assigned: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    flt = queries.FindingFilter(store, protocol, severity, status, page, assigned, me.email)
    return findings_view(request, me, flt)


def findings_view(
    request: Request,
    me: Principal,
    flt: queries.FindingFilter,
    bulk: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The findings list (also re-rendered with the bulk form's errors)."""
    from shopguard.web import triage as tri

    ctx = ctx_of(request)
    stores = _stores(ctx, request, me)
    errors = flt.validate()
    if flt.store and flt.store not in stores:
        errors["store"] = "not a store you can see"
    rows: list[FindingRecord] = []
    total = 0
    users: list[WebUser] = []
    with ctx.db() as s:
        if not errors:
            rows, total = queries.findings(s, stores if me.stores else None, flt, ctx.finding_counts)
        if allowed(me, Perm.FINDINGS_TRIAGE):
            users = tri.assignable(s, [flt.store] if flt.store else [])
    pages = max(1, -(-total // queries.PAGE_SIZE))
    return _render(
        request,
        "findings.html",
        {
            "rows": rows,
            "total": total,
            "flt": flt,
            "errors": errors,
            "stores": stores,
            "protocols": queries.PROTOCOLS,
            "severities": queries.SEVERITIES,
            "pages": pages,
            "users": users,
            "expiry": tri.expiry_bounds(tri.settings_of(request)),
            "bulk": bulk or {"errors": {}, "form": {}, "done": request.query_params.get("done", "")},
        },
        400 if errors else status,
    )


def _finding(ctx: WebContext, me: Principal, finding_id: RowId) -> FindingRecord:
    with ctx.db() as s:
        rec = s.get(FindingRecord, finding_id)
    if rec is None or not me.sees_store(rec.store):
        raise HTTPException(404, "no such finding")
    return rec


def finding_view(
    request: Request,
    me: Principal,
    rec: FindingRecord,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """A finding with its triage, assignee and comment thread."""
    from shopguard.db.triage import comments
    from shopguard.web import triage as tri

    with ctx_of(request).db() as s:
        thread = comments(s, rec.id)
        users = tri.assignable(s, [rec.store]) if allowed(me, Perm.FINDINGS_TRIAGE) else []
    return _render(
        request,
        "finding.html",
        {
            "f": rec,
            "errors": errors or {},
            "form": form or {},
            "comments": thread,
            "users": users,
            "expiry": tri.expiry_bounds(tri.settings_of(request)),
        },
        status,
    )


@router.get("/findings/{finding_id}")
def finding_page(
    request: Request, finding_id: RowId, me: Annotated[Principal, need(Perm.FINDINGS_READ)]
) -> Response:
    return finding_view(request, me, _finding(ctx_of(request), me, finding_id))


TRIAGE_ACTIONS = {
    "accept_risk": Triage.ACCEPTED_RISK,
    "false_positive": Triage.FALSE_POSITIVE,
    "reopen": Triage.NONE,
}


@router.post("/findings/{finding_id}/triage")
def triage_submit(
    request: Request,
    finding_id: RowId,
    me: Annotated[Principal, need(Perm.FINDINGS_TRIAGE)],
    action: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    expires: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    from shopguard.db.triage import TriageError, apply_triage
    from shopguard.web import triage as tri

    ctx = ctx_of(request)
    rec = _finding(ctx, me, finding_id)
    form = {"action": action, "reason": reason, "expires": expires}
    try:
        if action not in TRIAGE_ACTIONS:
            raise TriageError("action", "choose accept risk, false positive or reopen")
        triage = TRIAGE_ACTIONS[action]
        with ctx.write() as s:
            row = s.get(FindingRecord, rec.id)
            assert row is not None
            apply_triage(row, triage, reason, me.email, tri.settings_of(request), tri.parse_expires(expires))
            auditlog.record(
                s,
                me.email,
                "finding.triage",
                f"finding {rec.id} ({rec.store})",
                client_ip(request),
                {
                    "triage": triage.value,
                    "reason": reason.strip(),
                    "check_id": rec.check_id,
                    "expires_at": row.triage_expires_at,
                },
            )
    except TriageError as exc:
        return finding_view(request, me, rec, {exc.field: exc.message}, form, 400)
    ctx.invalidate()
    return RedirectResponse(f"/findings/{rec.id}", status_code=303)


@router.get("/runs")
def runs_page(request: Request, me: Annotated[Principal, need(Perm.SCANS_READ)]) -> Response:
    ctx = ctx_of(request)
    stores = _stores(ctx, request, me)
    with ctx.db() as s:
        rows = queries.runs(s, stores)
    from shopguard.web.views.scans_run import panel

    return _render(request, "runs.html", {"rows": rows, **panel(request, me)})


def _run_for(ctx: WebContext, me: Principal, run_id: RowId) -> Any:
    try:
        run = load_run(ctx.db, run_id)
    except NotFound:
        raise HTTPException(404, "no such run") from None
    visible = tuple(x for x in run.stores if me.sees_store(x))
    if not visible:
        raise HTTPException(404, "no such run")
    return dataclasses.replace(
        run,
        stores=visible,
        executions=tuple(e for e in run.executions if me.sees_store(e[0])),
        findings=tuple(f for f in run.findings if me.sees_store(f.store)),
    )


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: RowId, me: Annotated[Principal, need(Perm.SCANS_READ)]) -> Response:
    from shopguard.readiness import litmus

    run = _run_for(ctx_of(request), me, run_id)
    errors = [e for e in run.executions if e[2] != "ok"]
    return _render(request, "run.html", {"run": run, "errors": errors, "litmus": litmus(run)})


REPORT_TYPES = {"json": "application/json", "sarif": "application/sarif+json", "html": "text/html"}


@router.get("/runs/{run_id}/report.{fmt}")
def run_report(
    request: Request, run_id: RowId, fmt: str, me: Annotated[Principal, need(Perm.EXPORTS_READ)]
) -> Response:
    from shopguard.reports import render

    if fmt not in REPORT_TYPES:
        raise HTTPException(404, "formats: json, sarif, html")
    run = _run_for(ctx_of(request), me, run_id)
    with ctx_of(request).write() as s:
        auditlog.record(s, me.email, "report.export", f"run {run_id}", client_ip(request), {"format": fmt})
    return Response(
        render(run, fmt),
        media_type=REPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="shopguard-run-{run_id}.{fmt}"'},
    )


# --- an employee's own policies ----------------------------------------------------------------


def _policy_settings(request: Request) -> Any:
    from shopguard.policies.settings import PoliciesSettings

    config = request.app.state.config
    return config.policies if config is not None else PoliciesSettings()


@router.get("/my/policies")
def my_policies(request: Request, me: Annotated[Principal, need(Perm.POLICIES_OWN)]) -> Response:
    from shopguard.policies.people import pending

    ctx = ctx_of(request)
    mine = [p for p in pending(ctx.db, _policy_settings(request)) if p.email.lower() == me.email.lower()]
    return _render(
        request, "my_policies.html", {"pending": mine, "done": request.query_params.get("done", "")}
    )


@router.post("/my/policies/{slug}/acknowledge")
def acknowledge_policy(
    request: Request,
    slug: str,
    me: Annotated[Principal, need(Perm.POLICIES_OWN)],
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    from shopguard.policies.people import acknowledge, pending

    ctx = ctx_of(request)
    owed = {p.slug for p in pending(ctx.db, _policy_settings(request)) if p.email.lower() == me.email.lower()}
    if slug not in owed:
        raise HTTPException(404, "nothing to acknowledge under that name")
    if confirm != "yes":
        mine = [p for p in pending(ctx.db, _policy_settings(request)) if p.email.lower() == me.email.lower()]
        return _render(
            request,
            "my_policies.html",
            {"pending": mine, "done": "", "error_slug": slug, "error": "tick the box to confirm you read it"},
            400,
        )
    with ctx.lock:
        ack = acknowledge(ctx.db, me.email, slug, method="web")
    with ctx.write() as s:
        auditlog.record(
            s, me.email, "policy.acknowledge", slug, client_ip(request), {"text_hash": ack.text_hash}
        )
    return RedirectResponse(f"/my/policies?done={slug}", status_code=303)


# --- audit log ---------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, me: Annotated[Principal, need(Perm.AUDIT_READ)]) -> Response:
    from shopguard.web.models import AuditEvent

    ctx = ctx_of(request)
    with ctx.db() as s:
        report = auditlog.verify(s)
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(200)))
    return _render(request, "audit.html", {"report": report, "events": events})


# --- settings: users, secrets ------------------------------------------------------------------


def _users_page(
    request: Request, errors: dict[str, str], form: dict[str, str], status: int = 200
) -> Response:
    with ctx_of(request).db() as s:
        users = list(s.scalars(select(WebUser).order_by(WebUser.email)))
    return _render(
        request, "users.html", {"users": users, "errors": errors, "form": form, "roles": list(Role)}, status
    )


@router.get("/settings/users")
def users_page(request: Request, me: Annotated[Principal, need(Perm.USERS_MANAGE)]) -> Response:
    return _users_page(request, {}, {})


@router.post("/settings/users")
def users_create(
    request: Request,
    me: Annotated[Principal, need(Perm.USERS_MANAGE)],
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    stores: Annotated[str, Form(max_length=4000)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    from shopguard.web.users import UserError, create_user

    form = {"email": email, "name": name, "role": role, "stores": stores}
    try:
        if role not in Role._value2member_map_:
            raise UserError("role", "choose a role")
        if not may_assign(me.role, Role(role)):
            raise UserError("role", "you cannot give a role above your own")
        store_list = [x.strip() for x in stores.split(",") if x.strip()]
        with ctx_of(request).write() as s:
            user = create_user(s, email, name, Role(role), password, store_list)
            auditlog.record(
                s,
                me.email,
                "user.create",
                user.email,
                client_ip(request),
                {"role": role, "stores": store_list},
            )
    except UserError as exc:
        return _users_page(request, {exc.field: exc.message}, form, 400)
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{user_id}/deactivate")
def users_deactivate(
    request: Request, user_id: RowId, me: Annotated[Principal, need(Perm.USERS_MANAGE)]
) -> Response:
    from sqlalchemy import delete

    from shopguard.web.models import WebSession

    with ctx_of(request).write() as s:
        user = s.get(WebUser, user_id)
        if user is None:
            raise HTTPException(404, "no such user")
        if user.id == me.user_id or not may_assign(me.role, Role(user.role)):
            raise HTTPException(400, "you cannot deactivate yourself or a user above your role")
        user.active = False
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))
        auditlog.record(s, me.email, "user.deactivate", user.email, client_ip(request))
    return RedirectResponse("/settings/users", status_code=303)


def _secrets_page(
    request: Request, errors: dict[str, str], form: dict[str, str], status: int = 200
) -> Response:
    with ctx_of(request).db() as s:
        rows = list(s.scalars(select(StoredSecret).order_by(StoredSecret.name)))
    return _render(request, "secrets.html", {"rows": rows, "errors": errors, "form": form}, status)


@router.get("/settings/secrets")
def secrets_page(request: Request, me: Annotated[Principal, need(Perm.SECRETS_MANAGE)]) -> Response:
    return _secrets_page(request, {}, {})


@router.post("/settings/secrets")
def secrets_save(
    request: Request,
    me: Annotated[Principal, need(Perm.SECRETS_MANAGE)],
    name: Annotated[str, Form(max_length=200)] = "",
    value: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", name):
        return _secrets_page(request, {"name": "letters, digits and _ . : - only"}, {"name": name}, 400)
    if not value:
        return _secrets_page(request, {"value": "enter the secret"}, {"name": name}, 400)
    ctx = ctx_of(request)
    with ctx.write() as s:
        ctx.vault.put(s, name, value, me.email)
        auditlog.record(s, me.email, "secret.set", name, client_ip(request))
    return RedirectResponse("/settings/secrets", status_code=303)


# --- own account: TOTP, API tokens -------------------------------------------------------------


def _account(request: Request, me: Principal, extra: dict[str, Any], status: int = 200) -> Response:
    with ctx_of(request).db() as s:
        user = s.get(WebUser, me.user_id)
        tokens = list(s.scalars(select(ApiToken).where(ApiToken.user_id == me.user_id).order_by(ApiToken.id)))
    grantable = sorted(p.value for p in ROLE_PERMS[me.role])
    ctx = {"user": user, "tokens": tokens, "grantable": grantable, "errors": {}, **extra}
    return _render(request, "account.html", ctx, status)


@router.get("/account")
def account_page(request: Request, me: Annotated[Principal, need(Perm.ACCOUNT_OWN)]) -> Response:
    return _account(request, me, {})


@router.post("/account/password")
def password_change(
    request: Request,
    me: Annotated[Principal, need(Perm.ACCOUNT_OWN)],
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change one's own password; every other session of the user ends."""
    from sqlalchemy import delete

    from shopguard.web.models import WebSession
    from shopguard.web.passwords import WeakPassword, check_strength, hash_password, verify_password

    ctx = ctx_of(request)
    with ctx.write() as s:
        user = s.get(WebUser, me.user_id)
        assert user is not None
        error = ""
        if not verify_password(user.password_hash, current):
            error = "that is not your current password"
        else:
            try:
                check_strength(new, user.email)
            except WeakPassword as exc:
                error = str(exc).removeprefix("password: ")
        if not error:
            user.password_hash = hash_password(new)
            s.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.id != me.session_id))
            auditlog.record(s, me.email, "password.change", me.email, client_ip(request))
    if error:
        return _account(request, me, {"errors": {"password": error}}, 400)
    return RedirectResponse("/account?password=changed", status_code=303)


@router.post("/account/totp/start")
def totp_start(request: Request, me: Annotated[Principal, need(Perm.ACCOUNT_OWN)]) -> Response:
    ctx = ctx_of(request)
    secret = pyotp.random_base32()
    with ctx.write() as s:
        user = s.get(WebUser, me.user_id)
        assert user is not None
        if user.totp_enabled:
            raise HTTPException(400, "two-factor is already on")
        user.totp_secret = ctx.vault.encrypt(secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=me.email, issuer_name="ShopGuard")
    return _account(request, me, {"new_secret": secret, "uri": uri})


@router.post("/account/totp/confirm")
def totp_confirm(
    request: Request,
    me: Annotated[Principal, need(Perm.ACCOUNT_OWN)],
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    from shopguard.web.auth import totp_step

    ctx = ctx_of(request)
    with ctx.write() as s:
        user = s.get(WebUser, me.user_id)
        assert user is not None
        if not user.totp_secret or user.totp_enabled:
            raise HTTPException(400, "start the set-up first")
        step = totp_step(ctx.vault.decrypt(user.totp_secret), code, user.totp_last_step)
        if step is None:
            return _account(
                request, me, {"errors": {"code": "that code is not right; check the phone's clock"}}, 400
            )
        user.totp_enabled = True
        user.totp_last_step = step
        auditlog.record(s, me.email, "totp.enable", me.email, client_ip(request))
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens")
def token_create(
    request: Request,
    me: Annotated[Principal, need(Perm.TOKENS_OWN)],
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[int, Form(ge=1, le=365)] = 90,
) -> Response:
    from datetime import timedelta

    from shopguard.db.base import utcnow

    wanted = scopes or []
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "name the token (what uses it?)"
    bad = [x for x in wanted if x not in Perm._value2member_map_ or Perm(x) not in ROLE_PERMS[me.role]]
    if bad or not wanted:
        errors["scopes"] = "pick one or more of your own permissions"
    if errors:
        return _account(request, me, {"errors": errors}, 400)
    ctx = ctx_of(request)
    with ctx.write() as s:
        user = s.get(WebUser, me.user_id)
        assert user is not None
        value, tok = new_api_token(
            s, user, name.strip(), [Perm(x) for x in wanted], utcnow() + timedelta(days=days)
        )
        auditlog.record(
            s, me.email, "token.create", f"token {tok.prefix}", client_ip(request), {"scopes": tok.scopes}
        )
    return _account(request, me, {"new_token": value})


@router.post("/account/tokens/{token_id}/revoke")
def token_revoke(
    request: Request, token_id: RowId, me: Annotated[Principal, need(Perm.TOKENS_OWN)]
) -> Response:
    ctx = ctx_of(request)
    with ctx.write() as s:
        tok = s.get(ApiToken, token_id)
        if tok is None or tok.user_id != me.user_id:
            raise HTTPException(404, "no such token")
        tok.revoked = True
        auditlog.record(s, me.email, "token.revoke", f"token {tok.prefix}", client_ip(request))
    return RedirectResponse("/account", status_code=303)


__all__ = ["router"]
