"""Per-test verdicts named like the HTTP Observatory's results, from one response.

Pure functions (no I/O) so they are easy to test and reuse: the header, cookie and
SRI checks all grade from here, and the page's Observatory-compatible score is
computed from the same verdicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shopguard.scanning.web import csp as csplib
from shopguard.scanning.web.client import Response
from shopguard.scanning.web.html import PageModel, same_origin
from shopguard.scanning.web.observatory import grade, score

SIX_MONTHS = 15_768_000
PRIVATE_REFERRERS = frozenset(
    {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
)
UNSAFE_REFERRERS = frozenset({"origin", "origin-when-cross-origin", "unsafe-url"})
VALID_REFERRERS = PRIVATE_REFERRERS | UNSAFE_REFERRERS | {"no-referrer-when-downgrade"}
SESSION_NAME = re.compile(
    r"sess|sid$|^sid|login|auth|token|phpsessid|frontend|ocsessid|prestashop|wordpress_|wp_woocommerce_session"
    r"|laravel|symfony|remember",
    re.IGNORECASE,
)
CART_NAME = re.compile(r"cart|basket|woocommerce_items|mage-cache|quote", re.IGNORECASE)
CSRF_NAME = re.compile(r"csrf|xsrf", re.IGNORECASE)


@dataclass(frozen=True)
class Cookie:
    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    """Lower-cased attribute names -> values (``""`` for flags)."""

    @property
    def secure(self) -> bool:
        return "secure" in self.attrs

    @property
    def httponly(self) -> bool:
        return "httponly" in self.attrs

    @property
    def samesite(self) -> str | None:
        v = self.attrs.get("samesite")
        return None if v is None else v.strip().lower()

    @property
    def is_session(self) -> bool:
        return bool(SESSION_NAME.search(self.name))

    @property
    def is_cart(self) -> bool:
        return bool(CART_NAME.search(self.name))

    @property
    def kind(self) -> str:
        if self.is_session:
            return "session"
        if self.is_cart:
            return "cart"
        if CSRF_NAME.search(self.name):
            return "anti-csrf"
        return "other"

    @property
    def deleting(self) -> bool:
        """A Set-Cookie that only clears a cookie (expired or max-age=0)."""
        if self.attrs.get("max-age", "").strip() in ("0", "-1"):
            return True
        exp = self.attrs.get("expires", "")
        return bool(re.search(r"\b19[0-9]{2}\b|\b1970\b", exp))


def parse_set_cookie(value: str) -> Cookie | None:
    parts = [p.strip() for p in value.split(";")]
    if not parts or "=" not in parts[0]:
        return None
    name = parts[0].split("=", 1)[0].strip()
    if not name:
        return None
    attrs: dict[str, str] = {}
    for p in parts[1:]:
        if not p:
            continue
        k, _, v = p.partition("=")
        attrs.setdefault(k.strip().lower(), v.strip())
    return Cookie(name, attrs)


def cookies_of(resp: Response) -> list[Cookie]:
    found = []
    for v in resp.header_values("set-cookie"):
        c = parse_set_cookie(v)
        if c is not None and not c.deleting:
            found.append(c)
    return found


def cookies_result(cookies: list[Cookie], https: bool, hsts: bool) -> str:
    if not cookies:
        return "cookies-not-found"
    if any(c.samesite is not None and c.samesite not in ("strict", "lax", "none") for c in cookies):
        return "cookies-samesite-flag-invalid"
    sessions = [c for c in cookies if c.is_session]
    if any(not c.secure for c in sessions):
        return (
            "cookies-session-without-secure-flag-but-protected-by-hsts"
            if hsts
            else ("cookies-session-without-secure-flag")
        )
    if any(not c.httponly for c in sessions):
        return "cookies-session-without-httponly-flag"
    if any(c.kind == "anti-csrf" and c.samesite is None for c in cookies):
        return "cookies-anticsrf-without-samesite-flag"
    if any(not c.secure for c in cookies):
        return "cookies-without-secure-flag-but-protected-by-hsts" if hsts else "cookies-without-secure-flag"
    if all(c.samesite in ("strict", "lax") or (c.samesite == "none" and c.secure) for c in cookies):
        return "cookies-secure-with-httponly-sessions-and-samesite"
    return "cookies-secure-with-httponly-sessions"


@dataclass(frozen=True)
class Hsts:
    result: str
    max_age: int | None = None
    include_subdomains: bool = False
    preload: bool = False


def hsts_result(resp: Response) -> Hsts:
    if urlsplit(resp.url).scheme != "https":
        return Hsts("hsts-not-implemented-no-https")
    values = resp.header_values("strict-transport-security")
    if not values:
        return Hsts("hsts-not-implemented")
    directives = {}
    for part in values[0].split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            directives[k.strip().lower()] = v.strip().strip('"')
    try:
        max_age = int(directives["max-age"])
    except (KeyError, ValueError):
        return Hsts("hsts-header-invalid")
    sub = "includesubdomains" in directives
    pre = "preload" in directives
    if max_age < SIX_MONTHS:
        return Hsts("hsts-implemented-max-age-less-than-six-months", max_age, sub, pre)
    return Hsts("hsts-implemented-max-age-at-least-six-months", max_age, sub, pre)


def xcto_result(resp: Response) -> str:
    v = resp.headers.get("x-content-type-options")
    if v is None:
        return "x-content-type-options-not-implemented"
    return (
        "x-content-type-options-nosniff"
        if v.strip().lower() == "nosniff"
        else ("x-content-type-options-header-invalid")
    )


def xfo_result(resp: Response, verdict: csplib.CspVerdict) -> str:
    if verdict.frame_ancestors:
        return "x-frame-options-implemented-via-csp"
    v = resp.headers.get("x-frame-options")
    if v is None:
        return "x-frame-options-not-implemented"
    v = v.strip().lower()
    if v in ("deny", "sameorigin"):
        return "x-frame-options-sameorigin-or-deny"
    if v.startswith("allow-from "):
        return "x-frame-options-allow-from-origin"
    return "x-frame-options-header-invalid"


def referrer_result(resp: Response) -> str:
    v = resp.headers.get("referrer-policy")
    if v is None:
        return "referrer-policy-not-implemented"
    tokens = [t.strip().lower() for t in v.split(",") if t.strip()]
    if not tokens or any(t not in VALID_REFERRERS for t in tokens):
        return "referrer-policy-header-invalid"
    last = tokens[-1]  # browsers use the last value they understand
    if last in PRIVATE_REFERRERS:
        return "referrer-policy-private"
    if last in UNSAFE_REFERRERS:
        return "referrer-policy-unsafe"
    return "referrer-policy-no-referrer-when-downgrade"


def corp_result(resp: Response) -> str:
    v = resp.headers.get("cross-origin-resource-policy")
    if v is None:
        return "corp-not-implemented"
    v = v.strip().lower()
    if v in ("same-origin", "same-site", "cross-origin"):
        return f"corp-implemented-with-{v}"
    return "corp-header-invalid"


def csp_verdict(resp: Response, page: PageModel | None) -> csplib.CspVerdict:
    metas = csplib.meta_policies(resp.text) if resp.content_type == "text/html" else []
    report_only = bool(resp.header_values("content-security-policy-report-only"))
    return csplib.analyze(resp.header_values("content-security-policy"), metas, report_only)


@dataclass(frozen=True)
class SriVerdict:
    result: str
    missing: tuple[str, ...] = ()
    """Cross-origin script URLs without an integrity attribute."""
    insecure: tuple[str, ...] = ()
    """Script URLs loaded over plain http."""


def sri_result(resp: Response, page: PageModel | None) -> SriVerdict:
    if page is None or resp.content_type not in ("text/html", "application/xhtml+xml"):
        return SriVerdict("sri-not-implemented-response-not-html")
    scripts = [s for s in page.scripts if s.src]
    if not scripts:
        return SriVerdict("sri-not-implemented-but-no-scripts-loaded")
    external = [s for s in scripts if s.src and not same_origin(s.src, resp.url)]
    insecure = tuple(s.src for s in scripts if s.src and urlsplit(s.src).scheme == "http")
    missing = tuple(s.src for s in external if s.src and not s.integrity)
    any_sri = any(s.integrity for s in external)
    if not external:
        if insecure:
            return SriVerdict("sri-not-implemented-and-external-scripts-not-loaded-securely", (), insecure)
        return SriVerdict("sri-not-implemented-but-all-scripts-loaded-from-secure-origin")
    ext_insecure = tuple(s.src for s in external if s.src and urlsplit(s.src).scheme == "http")
    if missing:
        if ext_insecure:
            return SriVerdict(
                "sri-not-implemented-and-external-scripts-not-loaded-securely", missing, insecure
            )
        return SriVerdict("sri-not-implemented-but-external-scripts-loaded-securely", missing, insecure)
    if ext_insecure:
        return SriVerdict("sri-implemented-but-external-scripts-not-loaded-securely", (), insecure)
    if any_sri and not insecure:
        return SriVerdict("sri-implemented-and-all-scripts-loaded-securely")
    return SriVerdict("sri-implemented-and-external-scripts-loaded-securely")


@dataclass(frozen=True)
class PageGrade:
    results: dict[str, str]
    score: int
    grade: str


def grade_page(resp: Response, page: PageModel | None) -> PageGrade:
    """Every header-level Observatory test we can judge from this one response.
    Redirection is judged by scanning.web.https and is not part of this score."""
    verdict = csp_verdict(resp, page)
    hsts = hsts_result(resp)
    https = urlsplit(resp.url).scheme == "https"
    hsts_ok = hsts.result.startswith("hsts-implemented")
    results = {
        "content-security-policy": verdict.result,
        "cookies": cookies_result(cookies_of(resp), https, hsts_ok),
        "referrer-policy": referrer_result(resp),
        "strict-transport-security": hsts.result,
        "subresource-integrity": sri_result(resp, page).result,
        "x-content-type-options": xcto_result(resp),
        "x-frame-options": xfo_result(resp, verdict),
        "cross-origin-resource-policy": corp_result(resp),
    }
    points = score(results.values())
    return PageGrade(results, points, grade(points))
