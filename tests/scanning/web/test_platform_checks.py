"""Fingerprint, WordPress surface, admin logins, mixed content and retire.js matching."""

from __future__ import annotations

import json

import pytest
from webscan_helpers import findings_of, make_store, run_web_checks
from webscan_servers import Answer, Site, serve

from shopguard.findings import Severity
from shopguard.scanning.web import retire

WP_HOME = (
    '<html><head><meta name="generator" content="WordPress 6.1.1" />'
    '<link rel="stylesheet" href="/wp-content/themes/storefront/style.css?ver=4.2">'
    '<script src="/wp-content/plugins/contact-form-7/includes/js/index.js?ver=5.7.2"></script>'
    "</head><body class='woocommerce'>shop</body></html>"
)
XMLRPC = (
    "<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
    "<value><string>system.multicall</string></value><value><string>pingback.ping</string></value>"
    "</data></array></value></param></params></methodResponse>"
)
LOGIN = (
    "<html><body class='login'><form name='loginform' id='loginform' action='/wp-login.php' method='post'>"
    "<input type='text' name='log' id='user_login'><input type='password' name='pwd'>"
    "<input type='submit' name='wp-submit'></form></body></html>"
)


def wordpress_site() -> Site:
    def xmlrpc(h):
        if h.command == "POST":
            h.rfile.read(int(h.headers.get("Content-Length", "0")))
            h.answer(Answer(200, {"Content-Type": "text/xml"}, XMLRPC))
        else:
            h.answer(Answer(405, {}, "XML-RPC server accepts POST requests only."))

    return Site(
        {
            "/": Answer(200, {}, WP_HOME),
            "/xmlrpc.php": xmlrpc,
            "/?author=1": Answer(301, {"Location": "/author/shopadmin/"}, ""),
            "/wp-json/wp/v2/users": Answer(
                200, {"Content-Type": "application/json"}, json.dumps([{"slug": "editor"}])
            ),
            "/wp-login.php": Answer(200, {}, LOGIN),
            "/feed/": Answer(
                200,
                {"Content-Type": "application/rss+xml"},
                "<rss><channel><generator>https://wordpress.org/?v=6.1.1</generator></channel></rss>",
            ),
        },
        default=Answer(404, {}, "<html>Not found</html>"),
    )


async def test_wordpress_is_fingerprinted_and_its_surface_reported():
    site = wordpress_site()
    with serve(site):
        runs = await run_web_checks(
            make_store(site.url, concurrency=8),
            ["scanning.web.fingerprint", "scanning.web.wordpress", "scanning.web.admin"],
        )
    fp = {f.evidence["product"]: f.evidence["version"] for f in runs["scanning.web.fingerprint"].findings}
    assert fp["woocommerce"] is None and fp["wordpress"] == "6.1.1"
    assert fp["wordpress-plugin:contact-form-7"] == "5.7.2"
    wp = {f.check_id: f for f in runs["scanning.web.wordpress"].findings}
    assert wp["scanning.web.wordpress.xmlrpc"].severity is Severity.MEDIUM
    assert wp["scanning.web.wordpress.xmlrpc"].evidence["system.multicall"] is True
    users = wp["scanning.web.wordpress.user-enumeration"]
    assert users.evidence["names_found"] == 2 and set(users.evidence["via"]) == {
        "/wp-json/wp/v2/users",
        "?author=N",
    }
    [admin] = runs["scanning.web.admin"].findings
    assert admin.location == site.url + "wp-login.php" and admin.severity is Severity.MEDIUM


async def test_wordpress_checks_stay_quiet_on_other_platforms():
    site = Site({"/": Answer(200, {}, "<html><body>plain shop</body></html>")})
    with serve(site):
        runs = await run_web_checks(
            make_store(site.url), ["scanning.web.wordpress", "scanning.web.fingerprint"]
        )
    assert runs["scanning.web.wordpress"].findings == [] and runs["scanning.web.fingerprint"].findings == []
    assert site.log.count("POST /xmlrpc.php") == 0


async def test_mixed_content_on_https_checkout(tls_site):
    page = (
        "<html><script src='http://cdn.example.test/lib.js'></script><img src='http://img.example.test/a.png'>"
        "<form method='post' action='http://127.0.0.1/pay'></form></html>"
    )
    site = tls_site({"/": Answer(200, {}, "<html>ok</html>"), "/checkout": Answer(200, {}, page)})
    found = await findings_of(
        make_store(site.url, checkout=site.url + "checkout"), "scanning.web.mixed-content"
    )
    got = {f.key: f for f in found}
    assert got["active"].severity is Severity.HIGH and got["active"].location == site.url + "checkout"
    assert got["active"].evidence["forms"] == ["http://127.0.0.1/pay"]
    assert got["passive"].severity is Severity.LOW


@pytest.mark.parametrize(
    ("a", "b", "above"),
    [
        ("1.12.4", "1.9.0b1", True),
        ("1.9.0b1", "1.9.0", False),
        ("3.5.0", "3.5.0", True),
        ("1.2", "1.10", False),
        ("2.0.0-rc1", "2.0.0", False),
        ("3.0.0", "3.0.0-rc.1", True),
    ],
)
def test_retire_version_order(a, b, above):
    assert retire.is_at_or_above(a, b) is above


def test_retire_detects_by_name_and_content():
    repo = retire.load(sync_first=True)  # SHOPGUARD_RETIREJS_FILE: the shared test copy
    assert len(repo) > 50
    [d] = repo.by_url("https://shop.example/js/jquery-1.12.4.min.js")
    assert (d.library, d.version) == ("jquery", "1.12.4") and d.severity == "medium"
    assert any("CVE-2020-11022" in a.ids for a in d.advisories)
    [c] = repo.by_content(b"/*! jQuery v3.4.1 | (c) JS Foundation and other contributors */")
    assert c.version == "3.4.1" and c.advisories
    assert repo.by_content(b"/*! jQuery v3.7.1 | (c) OpenJS Foundation */")[0].advisories == ()
    assert repo.backdoored("https://cdn.polyfill.io/v3/polyfill.min.js") is not None


def test_detected_software_for_the_maintenance_protocol():
    from shopguard.findings import Finding
    from shopguard.scanning.web import DetectedSoftware, detected_software

    found = [
        Finding(
            "scanning.web.fingerprint",
            Severity.INFO,
            "t",
            "x",
            evidence={"product": "php", "version": "7.2.24", "kind": "language"},
        ),
        Finding(
            "scanning.web.js-libraries",
            Severity.MEDIUM,
            "t",
            "x",
            evidence={"library": "jquery", "version": "1.12.4"},
        ),
        Finding("scanning.web.cookies", Severity.LOW, "t", "x", evidence={"cookie": "a"}),
    ]
    assert detected_software(found) == [
        DetectedSoftware("php", "7.2.24", "language"),
        DetectedSoftware("jquery", "1.12.4", "js-library"),
    ]


MAGENTO_HTML = (
    '<script type="text/x-magento-init">{}</script>'
    '<link href="/static/version1700000000/frontend/Magento/luma/en_US/Vendor_Pay/x.css">'
)


@pytest.mark.parametrize(
    ("html", "platform"),
    [
        (
            MAGENTO_HTML,
            "magento",
        ),
        ("<script>var prestashop = {};</script>", "prestashop"),
        ('<link href="catalog/view/theme/default/stylesheet/stylesheet.css">', "opencart"),
        ('<script src="/bundles/storefront/storefront/js/storefront.js"></script>', "shopware"),
        ('<link href="/static/oscar/css/styles.css">', "django-oscar"),
        ('<meta name="generator" content="PrestaShop">', "prestashop"),
        ("<p>hand-made shop</p>", None),
    ],
)
def test_platform_markers(html, platform):
    import httpx

    from shopguard.scanning.web.client import Response
    from shopguard.scanning.web.fingerprint import from_page
    from shopguard.scanning.web.html import parse_page

    resp = Response(
        "https://shop.example/", 200, httpx.Headers({"content-type": "text/html"}), html.encode(), 0.0
    )
    fp = from_page(resp, parse_page(resp.url, html))
    assert fp.platform == platform
    if platform == "magento":
        assert any(s.product == "magento-module:Vendor_Pay" for s in fp.software)


def test_versions_seen_from_outside_are_judged_with_maintenance_eol_data():
    from datetime import date

    from shopguard.scanning.web.checks.fingerprint import eol_findings
    from shopguard.scanning.web.fingerprint import Software

    sw = [
        Software("php", "7.2.24", "X-Powered-By header", "language"),
        Software("nginx", None, "Server header"),
    ]
    [f] = eol_findings("scanning.web.fingerprint", "https://shop.example", sw, today=date(2026, 11, 25))
    assert f.check_id == "scanning.web.fingerprint.eol" and f.severity is Severity.HIGH
    assert f.evidence["eol_date"] == "2020-11-30" and "6.3.3" in f.refs.pci


async def test_customer_login_is_not_an_admin_login_but_a_generic_admin_is():
    customer = (
        "<html><head><title>My account</title></head><form><input type=password></form>Administration</html>"
    )
    admin = (
        "<html><head><title>Shop Admin - Sign in</title></head><form><input type='password'></form></html>"
    )
    site = Site(
        {"/": Answer(200, {}, "shop"), "/login": Answer(200, {}, customer), "/admin/": Answer(200, {}, admin)}
    )
    with serve(site):
        found = await findings_of(make_store(site.url, concurrency=8), "scanning.web.admin")
    assert [(f.key, f.title) for f in found] == [
        ("/admin/", "An admin login is reachable from anywhere (/admin/)")
    ]
