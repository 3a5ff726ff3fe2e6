"""reachable, server-banner and https checks against real loopback servers."""

from __future__ import annotations

from webscan_helpers import findings_of, make_store
from webscan_servers import Answer, Site, redirect_to, serve

from shopguard.findings import Severity


async def test_reachable_reports_down_checkout_and_error_status():
    site = Site({"/": Answer(200, {}, "shop"), "/checkout": Answer(500, {}, "boom")})
    with serve(site):
        store = make_store(site.url, checkout=site.url + "checkout", basket="http://127.0.0.1:1/basket")
        found = await findings_of(store, "scanning.web.reachable")
    by_loc = {f.location: f for f in found}
    assert set(by_loc) == {site.url + "checkout", "http://127.0.0.1:1/basket"}
    assert by_loc[site.url + "checkout"].severity is Severity.HIGH
    assert by_loc[site.url + "checkout"].evidence["status"] == 500
    down = by_loc["http://127.0.0.1:1/basket"]
    assert down.severity is Severity.HIGH and "cannot connect" in down.evidence["error"]


async def test_reachable_quiet_for_healthy_pages():
    site = Site({"/": Answer(200, {}, "shop"), "/checkout": Answer(200, {}, "pay")})
    with serve(site):
        assert (
            await findings_of(make_store(site.url, checkout=site.url + "checkout"), "scanning.web.reachable")
            == []
        )


async def test_reachable_reports_offscope_redirect():
    site = Site({"/": redirect_to("https://elsewhere.example/")})
    with serve(site):
        found = await findings_of(make_store(site.url), "scanning.web.reachable")
    assert [f.key for f in found] == ["offscope-redirect"]


async def test_banner_versions_reported_with_fixes():
    site = Site(
        {"/": Answer(200, {"Server": "Apache/2.4.29 (Ubuntu)", "X-Powered-By": "PHP/7.2.24"}, "shop")}
    )
    with serve(site):
        found = await findings_of(make_store(site.url), "scanning.web.server-banner")
    by = {f.key: f for f in found}
    assert by["server"].severity is Severity.LOW and "ServerTokens Prod" in by["server"].remediation
    assert (
        by["x-powered-by"].severity is Severity.MEDIUM
        and "expose_php = Off" in by["x-powered-by"].remediation
    )
    assert by["server"].evidence["value"] == "Apache/2.4.29 (Ubuntu)"
    assert "CWE-200" in by["server"].refs.cwe


async def test_banner_nginx_fix_and_no_finding_without_version():
    site = Site(
        {"/": Answer(200, {"Server": "nginx/1.22.1"}, "a"), "/c": Answer(200, {"Server": "nginx"}, "b")}
    )
    with serve(site):
        found = await findings_of(make_store(site.url), "scanning.web.server-banner")
        quiet = await findings_of(make_store(site.url + "c"), "scanning.web.server-banner")
    assert len(found) == 1 and "server_tokens off;" in found[0].remediation
    assert quiet == []


async def test_https_http_only_store_is_high():
    site = Site({"/": Answer(200, {}, "shop")})
    with serve(site):
        found = await findings_of(make_store(site.url), "scanning.web.https")
    assert len(found) == 1
    f = found[0]
    assert f.severity is Severity.HIGH and f.key == "http-only"
    assert f.refs.pci == ("4.2.1",) and f.refs.cwe == ("CWE-319",)


async def test_https_http_url_redirecting_to_https_first_hop_is_fine():
    site = Site({"/": redirect_to("https://127.0.0.1/", 301)})
    with serve(site):
        assert await findings_of(make_store(site.url), "scanning.web.https") == []


async def test_https_available_but_http_not_redirected(tls_site):
    secure = tls_site({"/": Answer(200, {}, "secure"), "/checkout": Answer(200, {}, "pay")})
    plain = Site({"/": Answer(200, {}, "plain"), "/checkout": Answer(200, {}, "pay")})
    with serve(plain):
        store = make_store(plain.url, checkout=plain.url + "checkout", https_port=secure.port)
        found = {f.location: f for f in await findings_of(store, "scanning.web.https")}
    assert found[plain.url].severity is Severity.MEDIUM and found[plain.url].key == "no-redirect"
    assert found[plain.url + "checkout"].severity is Severity.HIGH


async def test_https_store_whose_http_twin_serves_content_or_redirects_badly(tls_site):
    secure = tls_site({"/": Answer(200, {}, "secure")})
    plain = Site({"/": Answer(200, {}, "plain copy of the shop")})
    with serve(plain):
        found = await findings_of(make_store(secure.url, http_port=plain.port), "scanning.web.https")
    assert [(f.key, f.severity) for f in found] == [("no-redirect", Severity.MEDIUM)]
    hop = Site({"/": redirect_to(f"http://127.0.0.1:{plain.port}/elsewhere")})
    with serve(hop):
        found = await findings_of(make_store(secure.url, http_port=hop.port), "scanning.web.https")
    assert [(f.key, f.severity) for f in found] == [("first-hop", Severity.LOW)]
