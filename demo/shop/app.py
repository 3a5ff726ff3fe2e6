"""The demo storefront server (standard library only).

It behaves like a small real shop, and it is weak on purpose in the ways listed in
demo/README.md (the answer key): banner headers, no security headers, plain HTTP, a weak
session cookie, an exposed ``.git/config`` and ``.env``, an autoindexed ``/uploads/``,
an outdated jQuery, a planted skimmer-style file and a third-party script on checkout.
Everything else should be ordinary, so a scanner's false positives show up as such.
"""

from __future__ import annotations

import json
import mimetypes
import posixpath
import secrets
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from html import escape
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, quote, unquote, urlsplit

from demo.shop import pages
from demo.shop.catalogue import BY_SLUG

HERE = Path(__file__).resolve().parent
WEB_ROOT = HERE / "static"
"""The shop's web root (``web_roots`` in demo/shopguard.toml)."""
PLANTED = HERE.parent / "planted"
"""Sources of files git cannot hold under their real name (``.git/...``)."""

SERVER_BANNER = "Apache/2.4.29 (Ubuntu)"
POWERED_BY = "PHP/7.2.24"
SESSION_COOKIE = "PHPSESSID"
MAX_SESSIONS = 5000
MAX_BODY = 64 * 1024
MAX_QTY = 20
LISTED_DIRS = ("/uploads/",)
"""Directories with autoindex on (deliberate weakness); other directories answer 403."""

# Files exposed at these URLs are served from demo/planted/ (git cannot commit a ``.git`` folder).
PLANTED_URLS = {"/.git/config": "git-config", "/.git/HEAD": "git-HEAD"}


def materialise_planted(web_root: Path = WEB_ROOT) -> None:
    """Copy the planted ``.git`` files into the web root so file scanners see them too.

    Best effort: the web server serves them from demo/planted/ either way. The copy is
    git-ignored (and git never descends into a folder named ``.git``).
    """
    target = web_root / ".git"
    try:
        target.mkdir(exist_ok=True)
        for url, name in PLANTED_URLS.items():
            dest = web_root / url.lstrip("/")
            if not dest.exists():
                shutil.copyfile(PLANTED / name, dest)
    except OSError:
        pass


@dataclass
class Session:
    id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    basket: dict[str, int] = field(default_factory=dict)
    pending_order: str | None = None
    orders: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.basket.values())


@dataclass(frozen=True)
class Order:
    ref: str
    lines: list[tuple[str, int, int]]
    total: int
    payment_ref: str
    placed_at: str


class SessionStore:
    """Server-side sessions keyed by the cookie value; oldest evicted past MAX_SESSIONS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Session] = OrderedDict()

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._items.get(sid)
            if s is not None:
                self._items.move_to_end(sid)
            return s

    def create(self) -> Session:
        # 26 characters from [0-9a-v], the shape of a PHP session id.
        s = Session(id=secrets.token_hex(13))
        with self._lock:
            self._items[s.id] = s
            while len(self._items) > MAX_SESSIONS:
                self._items.popitem(last=False)
        return s


class ShopServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], provider_origin: str, web_root: Path = WEB_ROOT) -> None:
        super().__init__(address, ShopHandler)
        self.provider_origin = provider_origin.rstrip("/")
        self.web_root = web_root.resolve()
        self.sessions = SessionStore()
        self.orders: dict[str, Order] = {}
        self.orders_lock = threading.Lock()
        self.quiet = True

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class ShopHandler(BaseHTTPRequestHandler):
    server: ShopServer
    server_version = SERVER_BANNER
    sys_version = ""
    protocol_version = "HTTP/1.1"
    error_content_type = "text/html; charset=UTF-8"
    routes_get: ClassVar[dict[str, str]] = {
        "/": "page_home",
        "/about": "page_about",
        "/basket": "page_basket",
        "/checkout": "page_checkout",
        "/checkout/complete": "page_checkout_complete",
    }
    _posted: dict[str, str] | None = None
    _head_only = False
    routes_post: ClassVar[dict[str, str]] = {
        "/basket/add": "post_basket_add",
        "/basket/update": "post_basket_update",
    }

    # -- plumbing ---------------------------------------------------------------
    def version_string(self) -> str:
        return SERVER_BANNER

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        self.send_header("X-Powered-By", POWERED_BY)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.quiet:
            return
        super().log_message(format, *args)

    def do_HEAD(self) -> None:
        self._head_only = True
        self.do_GET()

    def do_GET(self) -> None:
        path = self._path()
        name = self.routes_get.get(path)
        if name is not None:
            getattr(self, name)()
        elif path.startswith("/products/"):
            self.page_product(path.removeprefix("/products/"))
        elif path.startswith("/orders/"):
            self.page_order(path.removeprefix("/orders/"))
        else:
            self.serve_static(path)

    def do_POST(self) -> None:
        self._posted = self._form()
        if self._posted is None:
            self.close_connection = True  # the body was not read; do not parse it as a request
        name = self.routes_post.get(self._path())
        if name is None:
            page = pages.message_page(
                "Not allowed", "That address does not accept form posts.", basket_count=0
            )
            self.send_page(HTTPStatus.METHOD_NOT_ALLOWED, page, extra={"Allow": "GET, HEAD"})
            return
        getattr(self, name)()

    def _path(self) -> str:
        return urlsplit(self.path).path or "/"

    def _query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _form(self) -> dict[str, str] | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        raw = self.rfile.read(length).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def _session(self, create: bool = True) -> tuple[Session | None, bool]:
        """The visitor's session and whether it was just created (needs a Set-Cookie)."""
        sid = None
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            if SESSION_COOKIE in cookie:
                sid = cookie[SESSION_COOKIE].value
        except CookieError:
            sid = None
        s = self.server.sessions.get(sid)
        if s is not None or not create:
            return s, False
        return self.server.sessions.create(), True

    def _cookie_header(self, s: Session) -> str:
        # Deliberate weakness: no Secure, no HttpOnly, no SameSite (PHP's old defaults).
        return f"{SESSION_COOKIE}={s.id}; path=/"

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not self._head_only:
            self.wfile.write(body)

    def send_page(
        self,
        status: int,
        html: str,
        *,
        session: Session | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        headers = dict(extra or {})
        if session is not None:
            # What PHP's session_start() sends with the default cache limiter.
            headers.update(
                {
                    "Expires": "Thu, 19 Nov 1981 08:52:00 GMT",
                    "Cache-Control": "no-store, no-cache, must-revalidate",
                    "Pragma": "no-cache",
                }
            )
        self._send(status, html.encode("utf-8"), "text/html; charset=UTF-8", headers)

    def redirect(self, location: str, session: Session | None = None, new_session: bool = False) -> None:
        headers = {"Location": location}
        if session is not None and new_session:
            headers["Set-Cookie"] = self._cookie_header(session)
        self._send(HTTPStatus.SEE_OTHER, b"", "text/html; charset=UTF-8", headers)

    def html(self, status: int, render: str, s: Session, new: bool) -> None:
        extra = {"Set-Cookie": self._cookie_header(s)} if new else {}
        self.send_page(status, render, session=s, extra=extra)

    def not_found(self) -> None:
        s, _ = self._session(create=False)
        self.send_page(
            HTTPStatus.NOT_FOUND,
            pages.message_page(
                "Page not found",
                "We could not find that page. It may have moved.",
                basket_count=s.count if s else 0,
            ),
        )

    # -- pages ------------------------------------------------------------------
    def page_home(self) -> None:
        s, new = self._session()
        assert s is not None
        self.html(HTTPStatus.OK, pages.home(s.count), s, new)

    def page_about(self) -> None:
        s, new = self._session()
        assert s is not None
        self.html(HTTPStatus.OK, pages.about(s.count), s, new)

    def page_product(self, slug: str) -> None:
        product = BY_SLUG.get(slug)
        if product is None:
            self.not_found()
            return
        s, new = self._session()
        assert s is not None
        self.html(HTTPStatus.OK, pages.product_page(product, basket_count=s.count, csrf=s.csrf), s, new)

    def page_basket(self) -> None:
        s, new = self._session()
        assert s is not None
        flash = "Added to your basket." if self._query().get("added") else ""
        page = pages.basket_page(s.basket, basket_count=s.count, csrf=s.csrf, flash=flash)
        self.html(HTTPStatus.OK, page, s, new)

    def page_checkout(self, error: str = "") -> None:
        s, new = self._session()
        assert s is not None
        if s.basket and s.pending_order is None:
            s.pending_order = f"KF-{secrets.randbelow(900000) + 100000}"
        page = pages.checkout_page(
            s.basket,
            basket_count=s.count,
            order_ref=s.pending_order if s.basket else None,
            provider_origin=self.server.provider_origin,
            error=error,
        )
        self.html(HTTPStatus.OK, page, s, new)

    def page_checkout_complete(self) -> None:
        """Return from the payment provider: confirm the payment server-to-server, then place the order."""
        s, _ = self._session(create=False)
        q = self._query()
        order_ref, payment_ref = q.get("order", ""), q.get("payment", "")
        with self.server.orders_lock:
            existing = self.server.orders.get(order_ref)
        if s is not None and existing is not None and order_ref in s.orders:
            self.redirect(f"/orders/{quote(order_ref)}")
            return
        if s is None or not s.basket or not order_ref or order_ref != s.pending_order:
            self.send_page(
                HTTPStatus.BAD_REQUEST,
                pages.message_page(
                    "Checkout expired",
                    "We could not match this payment to your basket. Nothing was charged twice; "
                    "please contact us if you were charged.",
                    basket_count=s.count if s else 0,
                ),
            )
            return
        payment = self._fetch_payment(payment_ref)
        rows, total = pages.basket_lines(s.basket)
        if payment is None:
            self.send_page(
                HTTPStatus.BAD_GATEWAY,
                pages.message_page(
                    "Payment not confirmed",
                    "Our payment provider could not confirm the payment. Please try again.",
                    basket_count=s.count,
                ),
            )
            return
        if not (
            payment.get("status") == "approved"
            and payment.get("order") == order_ref
            and payment.get("amount") == total
            and payment.get("merchant") == pages.MERCHANT_ID
        ):
            self.page_checkout(error="The payment did not match your order. You have not been charged.")
            return
        order = Order(
            ref=order_ref,
            lines=[(p.slug, qty, line) for p, qty, line in rows],
            total=total,
            payment_ref=str(payment.get("id", "")),
            placed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self.server.orders_lock:
            self.server.orders[order_ref] = order
        s.orders.append(order_ref)
        s.basket.clear()
        s.pending_order = None
        self.redirect(f"/orders/{quote(order_ref)}")

    def _fetch_payment(self, payment_ref: str) -> dict[str, object] | None:
        if not payment_ref or not payment_ref.replace("_", "").isalnum():
            return None
        url = f"{self.server.provider_origin}/api/payments/{payment_ref}"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - fixed http origin
                data = json.loads(resp.read(64 * 1024))
        except (urllib.error.URLError, OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def page_order(self, ref: str) -> None:
        s, _ = self._session(create=False)
        with self.server.orders_lock:
            order = self.server.orders.get(unquote(ref))
        if order is None or s is None or order.ref not in s.orders:
            self.not_found()
            return
        self.send_page(
            HTTPStatus.OK, pages.order_page(order.ref, order.lines, order.total, order.payment_ref), session=s
        )

    # -- basket forms -----------------------------------------------------------
    def _basket_form(self) -> tuple[Session, bool, str, int] | None:
        """Validate a basket form post; answers the error itself and returns None when bad."""
        form = self._posted
        s, new = self._session()
        assert s is not None
        if form is None:
            page = pages.message_page("Request too large", "That form was too large.", basket_count=s.count)
            self.send_page(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, page)
            return None
        if new or not secrets.compare_digest(form.get("csrf", ""), s.csrf):
            self.html(
                HTTPStatus.FORBIDDEN,
                pages.message_page(
                    "Session expired",
                    "Your session expired before the form was sent. Please try again.",
                    basket_count=s.count,
                ),
                s,
                new,
            )
            return None
        slug = form.get("product", "")
        try:
            qty = int(form.get("qty", "1"))
        except ValueError:
            qty = -1
        if slug not in BY_SLUG or not 0 <= qty <= MAX_QTY:
            self.html(
                HTTPStatus.BAD_REQUEST,
                pages.message_page(
                    "Could not update basket", f"Choose a quantity from 1 to {MAX_QTY}.", basket_count=s.count
                ),
                s,
                new,
            )
            return None
        return s, new, slug, qty

    def post_basket_add(self) -> None:
        got = self._basket_form()
        if got is None:
            return
        s, new, slug, qty = got
        s.basket[slug] = min(MAX_QTY, s.basket.get(slug, 0) + max(qty, 1))
        self.redirect("/basket?added=1", s, new)

    def post_basket_update(self) -> None:
        got = self._basket_form()
        if got is None:
            return
        s, new, slug, qty = got
        if qty == 0:
            s.basket.pop(slug, None)
        else:
            s.basket[slug] = qty
        self.redirect("/basket", s, new)

    # -- static files -----------------------------------------------------------
    def serve_static(self, url_path: str) -> None:
        planted = PLANTED_URLS.get(url_path)
        if planted is not None:
            self._send_file(PLANTED / planted)
            return
        rel = posixpath.normpath(unquote(url_path)).lstrip("/")
        if rel.startswith("..") or "\x00" in rel:
            self.not_found()
            return
        root = self.server.web_root
        target = (root / rel).resolve() if rel not in ("", ".") else root
        if target != root and root not in target.parents:
            self.not_found()
            return
        if target.is_dir():
            if not url_path.endswith("/"):
                self.redirect(url_path + "/")
                return
            if url_path in LISTED_DIRS:
                self._autoindex(url_path, target)
            else:
                self.send_page(
                    HTTPStatus.FORBIDDEN,
                    pages.message_page(
                        "Forbidden", "You don't have permission to access this resource.", basket_count=0
                    ),
                )
            return
        if not target.is_file():
            self.not_found()
            return
        self._send_file(target)

    def _send_file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except OSError:
            self.not_found()
            return
        ctype = mimetypes.guess_type(path.name)[0] or "text/plain"
        if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
            ctype += "; charset=UTF-8"
        self._send(
            HTTPStatus.OK,
            data,
            ctype,
            {"Last-Modified": formatdate(mtime, usegmt=True), "Cache-Control": "max-age=3600"},
        )

    def _autoindex(self, url_path: str, folder: Path) -> None:
        """An Apache mod_autoindex style listing (deliberate weakness on /uploads/)."""
        rows = []
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.startswith("."):
                continue
            st = entry.stat()
            name = entry.name + ("/" if entry.is_dir() else "")
            size = "  - " if entry.is_dir() else _human_size(st.st_size)
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(st.st_mtime))
            rows.append(
                f'<tr><td valign="top">&nbsp;</td><td><a href="{quote(name)}">{escape(name)}</a></td>'
                f'<td align="right">{when}  </td><td align="right">{size}</td><td>&nbsp;</td></tr>'
            )
        host, port = self.server.server_address[:2]
        title = f"Index of {escape(url_path.rstrip('/'))}"
        body = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>{title}</title>
 </head>
 <body>
<h1>{title}</h1>
  <table>
   <tr><th valign="top">&nbsp;</th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top">&nbsp;</td><td><a href="/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
{chr(10).join(rows)}
   <tr><th colspan="5"><hr></th></tr>
</table>
<address>{SERVER_BANNER} Server at {host!s} Port {port}</address>
</body></html>
"""  # noqa: E501 - the listing mimics Apache's markup
        self._send(HTTPStatus.OK, body.encode("utf-8"), "text/html;charset=UTF-8")


def _human_size(n: int) -> str:
    if n < 1024:
        return f"{n} "
    if n < 1024 * 1024:
        return f"{n / 1024:.1f}K"
    return f"{n / (1024 * 1024):.1f}M"
