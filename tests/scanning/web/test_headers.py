"""Header grading (Observatory-compatible) and the headers/cookies/SRI checks."""

from __future__ import annotations

import httpx
import pytest
from webscan_helpers import findings_of, make_store
from webscan_servers import Answer, Site, serve

from shopguard.findings import Severity
from shopguard.scanning.web import csp, grading
from shopguard.scanning.web.client import Response
from shopguard.scanning.web.html import parse_page
from shopguard.scanning.web.observatory import grade, score

HARDENED = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def resp(url: str, headers: dict[str, str] | list[tuple[str, str]], body: str = "") -> Response:
    return Response(url, 200, httpx.Headers(headers), body.encode(), 0.01)


@pytest.mark.parametrize(
    ("policy", "result"),
    [
        ("default-src 'none'; script-src 'self'", "csp-implemented-with-no-unsafe-default-src-none"),
        ("default-src 'self'", "csp-implemented-with-no-unsafe"),
        ("default-src 'self'; script-src 'self' 'unsafe-inline'", "csp-implemented-with-unsafe-inline"),
        ("default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'", "csp-implemented-with-no-unsafe"),
        ("default-src 'self'; script-src *", "csp-implemented-with-unsafe-inline"),
        ("default-src https:", "csp-implemented-with-unsafe-inline"),
        ("default-src 'self'; script-src 'self' 'unsafe-eval'", "csp-implemented-with-unsafe-eval"),
        ("default-src 'self'; script-src http://cdn.example", "csp-implemented-with-insecure-scheme"),
        (
            "default-src 'self'; img-src http://img.example",
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
        ),
        (
            "default-src 'self'; style-src 'self' 'unsafe-inline'",
            "csp-implemented-with-unsafe-inline-in-style-src-only",
        ),
        ("default-src 'self'; script-$rc x", "csp-header-invalid"),
    ],
)
def test_csp_verdicts_match_observatory_names(policy, result):
    assert csp.analyze([policy]).result == result


def test_csp_meta_tag_counts_and_missing_csp_is_reported():
    html = (
        '<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'self\'"></head></html>'
    )
    assert csp.meta_policies(html) == ["default-src 'self'"]
    assert csp.analyze([]).result == "csp-not-implemented"


def test_score_and_grade_follow_the_published_chart():
    assert score(["csp-not-implemented", "x-frame-options-not-implemented", "hsts-not-implemented"]) == 35
    assert grade(35) == "D"
    # bonuses only count from 90 up
    assert score(["csp-implemented-with-no-unsafe-default-src-none", "referrer-policy-private"]) == 115
    assert score(["x-content-type-options-not-implemented", "csp-implemented-with-no-unsafe"]) == 100
    assert score(["csp-not-implemented", "referrer-policy-private"]) == 75
    assert grade(100) == "A+" and grade(89) == "A-" and grade(0) == "F"


def test_hardened_page_grades_a_plus():
    r = resp(
        "https://shop.example/",
        {**HARDENED, "Strict-Transport-Security": "max-age=63072000; preload", "Content-Type": "text/html"},
        "<script src='/app.js'></script>",
    )
    g = grading.grade_page(r, parse_page(r.url, r.text))
    assert g.grade == "A+", g.results


def test_cookie_verdicts():
    c = [grading.parse_set_cookie(v) for v in ("PHPSESSID=abc; path=/", "theme=dark; Secure")]
    assert (
        grading.cookies_result([x for x in c if x], https=True, hsts=False)
        == "cookies-session-without-secure-flag"
    )
    ok = grading.parse_set_cookie("PHPSESSID=abc; Secure; HttpOnly; SameSite=Lax")
    assert ok is not None and ok.kind == "session"
    assert grading.cookies_result([ok], True, True) == "cookies-secure-with-httponly-sessions-and-samesite"
    bad = grading.parse_set_cookie("sid=1; Secure; HttpOnly; SameSite=Sometimes")
    assert grading.cookies_result([bad], True, True) == "cookies-samesite-flag-invalid"  # type: ignore[list-item]


async def test_headers_check_on_bare_and_hardened_pages():
    site = Site(
        {
            "/": Answer(200, {}, "<html>shop</html>"),
            "/checkout": Answer(200, {}, "<html>pay</html>"),
            "/good": Answer(200, HARDENED, "<html>ok</html>"),
        }
    )
    with serve(site):
        bare = await findings_of(make_store(site.url, checkout=site.url + "checkout"), "scanning.web.headers")
        good = await findings_of(make_store(site.url + "good"), "scanning.web.headers")
    ids = {f.check_id: f for f in bare}
    assert set(ids) == {
        "scanning.web.headers.csp",
        "scanning.web.headers.x-content-type-options",
        "scanning.web.headers.x-frame-options",
        "scanning.web.headers.permissions-policy",
    }
    csp_f = ids["scanning.web.headers.csp"]
    assert csp_f.severity is Severity.MEDIUM and "6.4.3" in csp_f.refs.pci
    assert set(csp_f.evidence["pages"]) == {"storefront", "checkout"}
    assert csp_f.evidence["observatory_modifier"] == -25
    assert good == []


async def test_cors_reflection_with_credentials_is_high():
    def reflect(h):
        origin = h.headers.get("Origin", "")
        extra = (
            {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
            if origin
            else {}
        )
        h.answer(Answer(200, {**HARDENED, **extra}, "<html>x</html>"))

    site = Site({"/": reflect})
    with serve(site):
        found = await findings_of(make_store(site.url), "scanning.web.headers")
    assert [(f.check_id, f.severity) for f in found] == [("scanning.web.headers.cors", Severity.HIGH)]


async def test_hsts_graded_on_https_pages(tls_site):
    site = tls_site({"/": Answer(200, {**HARDENED, "Strict-Transport-Security": "max-age=300"}, "<html/>")})
    found = await findings_of(make_store(site.url), "scanning.web.headers")
    assert [(f.check_id, f.severity) for f in found] == [("scanning.web.headers.hsts", Severity.LOW)]
    assert found[0].evidence["max_age"] == 300


async def test_cookies_check_flags_session_cookie():
    site = Site(
        {
            "/": Answer(
                200,
                [("Set-Cookie", "PHPSESSID=1; path=/"), ("Set-Cookie", "lang=en; Secure; SameSite=Lax")],
                "x",
            )
        }
    )
    with serve(site):
        found = await findings_of(make_store(site.url), "scanning.web.cookies")
    assert len(found) == 1
    f = found[0]
    assert f.key == "PHPSESSID" and f.severity is Severity.MEDIUM
    assert f.evidence["missing"] == ["Secure", "HttpOnly", "SameSite"]
    assert "session.cookie_httponly = 1" in f.remediation


async def test_sri_check_flags_third_party_script_on_checkout_only():
    page = '<script src="/own.js"></script><script src="https://cdn.other.example/w.js"></script>'
    pinned = '<script src="https://cdn.other.example/w.js" integrity="sha384-abc" crossorigin></script>'
    site = Site({"/": Answer(200, {}, pinned), "/checkout": Answer(200, {}, page)})
    with serve(site):
        found = await findings_of(make_store(site.url, checkout=site.url + "checkout"), "scanning.web.sri")
    assert [(f.location, f.severity, f.key) for f in found] == [
        (site.url + "checkout", Severity.MEDIUM, "https://cdn.other.example/w.js")
    ]
