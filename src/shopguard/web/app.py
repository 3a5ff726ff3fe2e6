"""The FastAPI application: security headers, error handling, routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopguard import __version__
from shopguard.config import Config
from shopguard.web.auth import CsrfError, Forbidden, NotAuthenticated, RateLimiter, TotpRequired, WebContext
from shopguard.web.settings import WebSettings
from shopguard.web.templating import templates
from shopguard.web.vault import Vault, load_key

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# Swagger UI needs its CDN assets and inline script, so the interactive docs page is not served;
# the machine-readable spec is at /api/v1/openapi.json.


_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Security headers on every response (a plain ASGI middleware: Starlette's
    ``BaseHTTPMiddleware`` runs each request in an extra task, a measurable cost per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_HEADERS)
        if not scope["path"].startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000"))
        names = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


MAX_BODY_BYTES = 32 * 1024 * 1024
"""No request body is larger (evidence uploads are capped lower, at 25 MB, with a message on
the form): without this a huge upload would be spooled to disk before any check runs."""


class BodyLimit:
    """Refuse request bodies over ``MAX_BODY_BYTES`` (declared or streamed) with a 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            response = PlainTextResponse(
                f"Request too large: at most {self.limit // (1024 * 1024)} MB.", status_code=413
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise StarletteHTTPException(
                    413, f"Request too large: at most {self.limit // (1024 * 1024)} MB."
                )
            return message

        await self.app(scope, counted, send)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(
    db: sessionmaker[Session],
    settings: WebSettings | None = None,
    config: Config | None = None,
    key: bytes | None = None,
) -> FastAPI:
    settings = settings or WebSettings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="ShopGuard API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.web = WebContext(
        db=db,
        vault=Vault(key or load_key()),
        settings=settings,
        limiter=RateLimiter(settings.ip_attempts_per_window, settings.ip_window_seconds),
    )
    app.state.config = config
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)  # outermost: the 413 gets the headers too
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(NotAuthenticated)
    async def _anon(request: Request, exc: NotAuthenticated) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "authentication required"}, status_code=401)
        place = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            # After a form post on an expired session, come back to the page the form was on.
            ref = urlsplit(request.headers.get("referer", ""))
            same = ref.netloc == request.url.netloc and ref.path.startswith("/")
            place = (ref.path + (f"?{ref.query}" if ref.query else "")) if same else "/"
        target = f"/login?next={quote(place, safe='')}"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "not allowed for your role"}, status_code=403)
        return templates.TemplateResponse(
            request, "error.html", {"title": "Not allowed", "message": str(exc) or ""}, status_code=403
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        titles = {404: "Not found", 405: "Not allowed here", 400: "That did not work", 413: "Too large"}
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": titles.get(exc.status_code, "Error"), "message": str(exc.detail)},
            status_code=exc.status_code,
        )

    @app.exception_handler(TotpRequired)
    async def _totp(request: Request, exc: TotpRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "set up two-factor sign-in first (Your account)"}, status_code=403)
        return RedirectResponse("/account?totp=required", status_code=303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "CSRF token missing or wrong"}, status_code=403)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": "Form expired", "message": "Reload the page and try again."},
            status_code=403,
        )

    from shopguard.web import api, pages, views

    app.include_router(pages.router)
    for router in views.routers():
        app.include_router(router)
    app.include_router(api.router)
    return app
