"""Sessions, login (rate limit, lockout, TOTP), API tokens and the route guard."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyotp
from fastapi import Request
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.web import auditlog
from shopguard.web.models import ApiToken, WebSession, WebUser
from shopguard.web.passwords import verify_password
from shopguard.web.permissions import Perm, Principal, Role, allowed
from shopguard.web.settings import WebSettings
from shopguard.web.ttlcache import TTLCache
from shopguard.web.vault import Vault

CACHE_TTL_S = 5.0

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PREFIX = "sgt_"  # noqa: S105 - a public marker, not a secret


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cookie_name(secure: bool) -> str:
    # The __Host- prefix pins the cookie to this host, path / and Secure.
    return "__Host-sg_session" if secure else "sg_session"


def is_secure(request: Request, settings: WebSettings) -> bool:
    if settings.cookie_secure == "always":
        return True
    if settings.cookie_secure == "never":
        return False
    return request.url.scheme == "https"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


class NotAuthenticated(Exception):
    pass


class Forbidden(Exception):
    pass


class CsrfError(Exception):
    pass


class TotpRequired(Exception):
    """Owners and admins must enrol two-factor sign-in before anything else (when required)."""


class LoginRefused(Exception):
    """Wrong credentials, lockout or rate limit: ``message`` is safe to show."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RateLimiter:
    """Sliding-window counter per key (client IP) in memory."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True


@dataclass
class WebContext:
    db: sessionmaker[Session]
    vault: Vault
    settings: WebSettings
    limiter: RateLimiter
    store_names: TTLCache[list[str]] = field(default_factory=lambda: TTLCache(CACHE_TTL_S, background=True))
    """Every store's name (from findings, check executions and the config)."""
    overview: TTLCache[tuple[float, list[Any]]] = field(
        default_factory=lambda: TTLCache(CACHE_TTL_S, background=True)
    )
    """Every store's overview row and when it was computed; recomputed at most every few
    seconds and after a triage."""
    finding_counts: TTLCache[dict[str, int]] = field(
        default_factory=lambda: TTLCache(CACHE_TTL_S, background=True)
    )
    """Per-severity totals of the findings list, by scope and filter (see ``queries.findings``)."""
    fragments: TTLCache[Any] = field(default_factory=lambda: TTLCache(60.0, max_entries=32))
    """Rendered page parts, keyed by what they were rendered from (see ``pages.overview_page``)."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    """Serialises the dashboard's writes in this process. SQLite refuses a transaction that
    read before another one wrote ("database is locked"); one writer at a time avoids that."""

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.lock, self.db.begin() as s:
            yield s

    def invalidate(self) -> None:
        self.overview.clear()
        self.finding_counts.clear()
        self.fragments.clear()


def totp_step(secret: str, code: str, last_step: int, now: float | None = None) -> int | None:
    """The time step a code belongs to (±1 step of clock drift), or None; replays are refused."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in (current - 1, current, current + 1):
        if step > last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def login(ctx: WebContext, email: str, password: str, totp_code: str, ip: str) -> tuple[str, WebUser]:
    """Check credentials; returns (session cookie value, user). Raises LoginRefused."""
    if not ctx.limiter.hit(ip or "?"):
        raise LoginRefused("Too many login attempts from your address. Wait a few minutes.", 429)
    email = email.strip().lower()
    now = utcnow()
    # A refusal is raised only after the transaction commits: failure counters and the
    # audit entry must be stored, not rolled back with the refused login.
    refusal: LoginRefused | None = None
    with ctx.write() as s:
        user = s.scalar(select(WebUser).where(WebUser.email == email))
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not user.active:
            auditlog.record(s, email or "?", "login.failed", email, ip, {"reason": "unknown or inactive"})
            refusal = LoginRefused("Wrong email or password.")
        elif user.locked_until is not None and user.locked_until > now:
            auditlog.record(s, email, "login.locked", email, ip)
            minutes = int((user.locked_until - now).total_seconds() // 60) + 1
            refusal = LoginRefused(
                f"Too many failed attempts: this account is locked for {minutes} more minutes."
            )
        else:
            if ok and user.totp_enabled:
                step = totp_step(ctx.vault.decrypt(user.totp_secret), totp_code, user.totp_last_step)
                if step is None:
                    ok = False
                else:
                    user.totp_last_step = step
            if not ok:
                user.failed_logins += 1
                data: dict[str, object] = {"failures": user.failed_logins}
                if user.failed_logins >= ctx.settings.max_failed_logins:
                    user.locked_until = now + timedelta(minutes=ctx.settings.lockout_minutes)
                    user.failed_logins = 0
                    data["locked_until"] = user.locked_until.isoformat()
                auditlog.record(s, email, "login.failed", email, ip, data)
                refusal = LoginRefused(
                    "Wrong email, password or code." if user.totp_enabled else "Wrong email or password."
                )
            else:
                user.failed_logins = 0
                user.locked_until = None
                user.last_login_at = now
                token = secrets.token_urlsafe(32)
                s.add(
                    WebSession(
                        token_hash=sha256(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32), ip=ip
                    )
                )
                auditlog.record(s, email, "login", email, ip)
    if refusal is not None or user is None:
        raise refusal or LoginRefused("Wrong email or password.")
    return token, user


def logout(ctx: WebContext, principal: Principal, ip: str) -> None:
    with ctx.write() as s:
        if principal.session_id is not None:
            s.execute(delete(WebSession).where(WebSession.id == principal.session_id))
        auditlog.record(s, principal.email, "logout", principal.email, ip)


def _principal(user: WebUser, **kw: object) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        role=Role(user.role),
        stores=tuple(user.stores or ()),
        **kw,  # type: ignore[arg-type]
    )


TOUCH_EVERY = timedelta(seconds=60)
"""How stale a session's or token's "last seen" may get before a request writes it again."""


def session_principal(ctx: WebContext, token: str) -> Principal | None:
    """The signed-in user behind a session cookie, or None (unknown, expired, inactive user).

    A plain read: the write lock and a write transaction are taken only when there is
    something to write (an expired session to delete; "last seen" once a minute), so
    concurrent page loads do not queue behind each other just to be recognised."""
    now = utcnow()
    w, u = WebSession, WebUser
    with ctx.db() as s:
        # One plain row (no ORM objects): this runs on every page load.
        found = s.execute(
            select(
                w.id, w.created_at, w.last_seen_at, w.csrf_token, u.id, u.email, u.role, u.stores, u.active
            )
            .outerjoin(u, u.id == w.user_id)
            .where(w.token_hash == sha256(token))
        ).first()
    if found is None:
        return None
    session_id, created_at, last_seen_at, csrf_token, user_id, email, role, stores, active = found
    idle = timedelta(minutes=ctx.settings.session_idle_minutes)
    max_age = timedelta(hours=ctx.settings.session_max_hours)
    expired = now - last_seen_at > idle or now - created_at > max_age
    principal = None
    if not expired and user_id is not None and active:
        principal = Principal(
            user_id=user_id,
            email=email,
            role=Role(role),
            stores=tuple(stores or ()),
            session_id=session_id,
            csrf_token=csrf_token,
        )
    touch = now - last_seen_at > TOUCH_EVERY
    if expired:
        with ctx.write() as s:
            s.execute(delete(WebSession).where(WebSession.id == session_id))
        return None
    if principal is not None and touch:
        with ctx.write() as s:
            s.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now))
    return principal


def new_api_token(
    s: Session, user: WebUser, name: str, scopes: list[Perm], expires_at: datetime | None
) -> tuple[str, ApiToken]:
    """Create a token; the full value is returned once and only its hash is stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    rec = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=sha256(secret),
        scopes=sorted(p.value for p in scopes),
        expires_at=expires_at,
    )
    s.add(rec)
    s.flush()
    return f"{TOKEN_PREFIX}{prefix}_{secret}", rec


def token_principal(ctx: WebContext, value: str) -> Principal | None:
    if not value.startswith(TOKEN_PREFIX) or value.count("_") < 2:
        return None
    prefix, _, secret = value[len(TOKEN_PREFIX) :].partition("_")
    now = utcnow()
    with ctx.db() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
        if tok is None or tok.revoked or not hmac.compare_digest(tok.token_hash, sha256(secret)):
            return None
        if tok.expires_at is not None and tok.expires_at <= now:
            return None
        user = s.get(WebUser, tok.user_id)
        if user is None or not user.active:
            return None
        scopes = frozenset(Perm(p) for p in tok.scopes if p in Perm._value2member_map_)
        principal = _principal(user, scopes=scopes)
        token_id, last = tok.id, tok.last_used_at
    if last is None or now - last > TOUCH_EVERY:
        with ctx.write() as s:
            s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return principal


def ctx_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def current_principal(request: Request) -> Principal | None:
    """Who is asking: a Bearer API token (API only) or a session cookie."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    ctx = ctx_of(request)
    principal: Principal | None = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and request.url.path.startswith("/api/"):
        principal = token_principal(ctx, auth[7:].strip())
    else:
        token = request.cookies.get(cookie_name(True)) or request.cookies.get(cookie_name(False))
        if token:
            principal = session_principal(ctx, token)
    request.state.principal = principal
    return principal


class Require:
    """FastAPI dependency: the caller must hold ``perm``. Every protected route declares one."""

    def __init__(self, perm: Perm) -> None:
        self.perm = perm

    async def __call__(self, request: Request) -> Principal:
        from starlette.concurrency import run_in_threadpool

        principal = await run_in_threadpool(current_principal, request)
        if principal is None:
            raise NotAuthenticated()
        if not allowed(principal, self.perm):
            raise Forbidden()
        if request.method not in SAFE_METHODS and principal.scopes is None:
            sent = request.headers.get("x-csrf-token", "")
            if not sent and "form" in request.headers.get("content-type", ""):
                form = await request.form()
                value = form.get("csrf_token", "")
                sent = value if isinstance(value, str) else ""
            if not sent or not hmac.compare_digest(sent, principal.csrf_token):
                raise CsrfError()
        if (
            ctx_of(request).settings.require_totp_for_admins
            and principal.role in (Role.OWNER, Role.ADMIN)
            and principal.scopes is None
            and self.perm is not Perm.ACCOUNT_OWN
        ):
            from starlette.concurrency import run_in_threadpool as rt

            if not await rt(_totp_enabled, ctx_of(request), principal.user_id):
                raise TotpRequired()
        return principal


def _totp_enabled(ctx: WebContext, user_id: int) -> bool:
    with ctx.db() as s:
        u = s.get(WebUser, user_id)
        return bool(u and u.totp_enabled)
