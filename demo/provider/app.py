"""NimbusPay, the demo's fictional payment provider (a second loopback origin).

It serves the hosted card form that the shop embeds in an iframe, accepts its POST and
answers with a fake approval. Card data stays here: the shop only learns the payment id,
status and amount, through ``GET /api/payments/<id>``. It also serves the analytics widget
the shop loads on its checkout page (a third-party script; see demo/README.md).

The provider is not part of the shop's answer key: its headers are reasonable on purpose.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

STATIC = Path(__file__).resolve().parent / "static"
MERCHANTS = {"kestrel-finch": "Kestrel & Finch Coffee"}
DECLINED_CARDS = {"4000000000000002"}
"""Test card that is always declined (like the big providers' test numbers)."""
MAX_BODY = 16 * 1024
MAX_PAYMENTS = 10_000


@dataclass(frozen=True)
class Payment:
    """What the provider tells the merchant about a payment: never card data."""

    id: str
    merchant: str
    order: str
    amount: int
    currency: str
    status: str
    approval_code: str
    created: str


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def expiry_ok(value: str, now: datetime | None = None) -> bool:
    """``MM/YY`` not in the past."""
    now = now or datetime.now(UTC)
    parts = value.replace(" ", "").split("/")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return False
    month, year = int(parts[0]), int(parts[1]) % 100 + 2000
    return 1 <= month <= 12 and (year, month) >= (now.year, now.month)


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], shop_origin: str = "") -> None:
        super().__init__(address, ProviderHandler)
        self.shop_origin = shop_origin.rstrip("/")
        """Where approved payments return to (set once the shop is bound)."""
        self.payments: dict[str, Payment] = {}
        self.lock = threading.Lock()
        self.quiet = True

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class ProviderHandler(BaseHTTPRequestHandler):
    server: ProviderServer
    server_version = "NimbusPay"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "NimbusPay"

    def log_message(self, format: str, *args: object) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, status: int, html: str) -> None:
        ancestors = self.server.shop_origin or "'none'"
        csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"form-action 'self' {ancestors}; frame-ancestors {ancestors}; base-uri 'none'"
        )
        self._send(
            status,
            html.encode("utf-8"),
            "text/html; charset=utf-8",
            {"Content-Security-Policy": csp, "Cache-Control": "no-store"},
        )

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path == "/hosted/card-form":
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self._card_form(q)
        elif path.startswith("/api/payments/"):
            self._payment_api(path.removeprefix("/api/payments/"))
        elif path in ("/widgets/analytics.js", "/hosted/form.js", "/hosted/form.css"):
            name = path.rsplit("/", 1)[1]
            ctype = "text/css" if name.endswith(".css") else "application/javascript"
            extra = {"Cache-Control": "max-age=300"}
            if name == "analytics.js":
                extra["Access-Control-Allow-Origin"] = "*"
            self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), f"{ctype}; charset=utf-8", extra)
        elif path == "/":
            self._html(HTTPStatus.OK, _page("NimbusPay", "<p>NimbusPay demo payment gateway.</p>"))
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"too large\n", "text/plain; charset=utf-8")
            return
        raw = self.rfile.read(length).decode("utf-8", "replace")
        if path == "/widgets/pageview":
            self._send(HTTPStatus.NO_CONTENT, b"", "text/plain; charset=utf-8")
        elif path == "/hosted/card-form":
            self._pay({k: v[0] for k, v in parse_qs(raw).items()})
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    # -- hosted card form ---------------------------------------------------------
    def _order_params(self, q: dict[str, str]) -> tuple[str, str, int, str] | None:
        merchant, order, currency = q.get("merchant", ""), q.get("order", ""), q.get("currency", "EUR")
        try:
            amount = int(q.get("amount", ""))
        except ValueError:
            return None
        if merchant not in MERCHANTS or not order or len(order) > 40 or amount <= 0 or len(currency) != 3:
            return None
        return merchant, order, amount, currency.upper()

    def _card_form(self, q: dict[str, str], error: str = "", status: int = HTTPStatus.OK) -> None:
        params = self._order_params(q)
        if params is None:
            self._html(
                HTTPStatus.BAD_REQUEST, _page("Payment", '<p class="error">Invalid payment request.</p>')
            )
            return
        merchant, order, amount, currency = params
        err = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        body = f"""<p class="pay-to">Pay <strong>{escape(MERCHANTS[merchant])}</strong>
<span class="amount">{currency} {amount // 100}.{amount % 100:02d}</span></p>
{err}
<form method="post" action="/hosted/card-form" autocomplete="on" id="card-form">
  <input type="hidden" name="merchant" value="{escape(merchant)}">
  <input type="hidden" name="order" value="{escape(order)}">
  <input type="hidden" name="amount" value="{amount}">
  <input type="hidden" name="currency" value="{escape(currency)}">
  <label>Name on card <input name="cardholder" autocomplete="cc-name" required></label>
  <label>Card number <input name="card-number" inputmode="numeric" autocomplete="cc-number" required></label>
  <div class="row">
    <label>Expiry (MM/YY) <input name="expiry" autocomplete="cc-exp" placeholder="MM/YY" required></label>
    <label>CVV <input name="cvv" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required></label>
  </div>
  <button type="submit">Pay now</button>
</form>
<p class="secure">Secured by NimbusPay. Test card 4242 4242 4242 4242, any future date, any CVV.</p>"""
        self._html(status, _page("Card payment", body))

    def _pay(self, form: dict[str, str]) -> None:
        params = self._order_params(form)
        if params is None:
            self._html(
                HTTPStatus.BAD_REQUEST, _page("Payment", '<p class="error">Invalid payment request.</p>')
            )
            return
        merchant, order, amount, currency = params
        number = form.get("card-number", "").replace(" ", "").replace("-", "")
        cvv = form.get("cvv", "").strip()
        problem = ""
        if not form.get("cardholder", "").strip():
            problem = "Enter the name on the card."
        elif not luhn_ok(number):
            problem = "That card number is not valid."
        elif not expiry_ok(form.get("expiry", "")):
            problem = "Enter an expiry date in the future as MM/YY."
        elif not (cvv.isdigit() and len(cvv) in (3, 4)):
            problem = "The CVV is the 3 or 4 digits on the back of the card."
        elif number in DECLINED_CARDS:
            problem = "Your bank declined this payment. Try another card."
        if problem:
            # Re-render the form; the card details are not echoed back.
            self._card_form(form, error=problem, status=HTTPStatus.UNPROCESSABLE_ENTITY)
            return
        payment = Payment(
            id="pay_" + secrets.token_hex(8),
            merchant=merchant,
            order=order,
            amount=amount,
            currency=currency,
            status="approved",
            approval_code=f"{secrets.randbelow(1_000_000):06d}",
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self.server.lock:
            if len(self.server.payments) >= MAX_PAYMENTS:
                self.server.payments.pop(next(iter(self.server.payments)))
            self.server.payments[payment.id] = payment
        back = f"{self.server.shop_origin}/checkout/complete?" + urlencode(
            {"order": order, "payment": payment.id}
        )
        body = f"""<p class="approved">Payment approved</p>
<p>Approval code <strong class="approval-code">{payment.approval_code}</strong></p>
<p><a class="button" id="return-link" href="{escape(back)}"
  target="_top">Return to {escape(MERCHANTS[merchant])}</a></p>"""
        self._html(HTTPStatus.OK, _page("Payment approved", body))

    def _payment_api(self, payment_id: str) -> None:
        with self.server.lock:
            payment = self.server.payments.get(payment_id)
        if payment is None:
            self._send(HTTPStatus.NOT_FOUND, b'{"error": "no such payment"}', "application/json")
            return
        self._send(HTTPStatus.OK, json.dumps(asdict(payment)).encode(), "application/json")


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | NimbusPay</title>
<link rel="stylesheet" href="/hosted/form.css">
<script src="/hosted/form.js" defer></script>
</head>
<body>
{body}
</body>
</html>
"""
