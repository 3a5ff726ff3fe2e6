"""The payment-page monitor in Debian's Chromium against a real loopback shop whose
checkout the test changes between runs (approve, then tamper)."""

from __future__ import annotations

from webscan_servers import Answer, Site, serve

from shopguard.checks import all_checks, run_checks
from shopguard.config import Config, Store
from shopguard.findings import Severity
from shopguard.scanning.pages.browser import inventory_pages
from shopguard.scanning.pages.csp import build_policy
from shopguard.scanning.pages.inventory import approve, load_approved, lookalike
from shopguard.scanning.pages.models import PageApproval

CSP = (
    "default-src 'self' http://localhost:*; script-src 'self' 'unsafe-inline' http://localhost:*; "
    "frame-ancestors 'self'"
)


def checkout_html(widget_port: int, extra: str = "") -> str:
    return (
        "<!doctype html><html><head><script src='/js/app.js'></script>"
        "<script>window.shopReady = true;</script></head><body><h1>Pay</h1>"
        f"<iframe src='http://localhost:{widget_port}/card-form?order=1'></iframe>"
        f"<script src='http://localhost:{widget_port}/widget.js'></script>{extra}</body></html>"
    )


def widget_js(port: int) -> str:
    return (
        f"var s=document.createElement('script');s.src='http://localhost:{port}/late.js';"
        "document.head.appendChild(s);"
    )


async def monitor(store: Store, sessions) -> list:
    check = next(c for c in all_checks() if c.id == "scanning.pages")
    [res] = await run_checks(Config(stores=(store,)), [store], [check], db=sessions, timeout=90)
    assert not res.errored, res.message
    return res.findings


async def test_approve_then_detect_tampering(sessions):
    provider = Site(
        {
            "/card-form": Answer(200, {}, "<form><input name=card></form>"),
            "/widget.js": Answer(200, {"Content-Type": "application/javascript"}, ""),
            "/late.js": Answer(200, {"Content-Type": "application/javascript"}, "window.late=1;"),
        }
    )
    with serve(provider):
        provider.routes["/widget.js"] = Answer(
            200, {"Content-Type": "application/javascript"}, widget_js(provider.port)
        )
        shop = Site(
            {
                "/": Answer(200, {}, "<h1>shop</h1>"),
                "/js/app.js": Answer(200, {"Content-Type": "application/javascript"}, "window.app = 1;"),
            }
        )
        shop.routes["/checkout"] = Answer(200, {"Content-Security-Policy": CSP}, checkout_html(provider.port))
        with serve(shop):
            store = Store(name="t", storefront_url=shop.url, checkout_url=shop.url + "checkout")
            first = await monitor(store, sessions)
            assert [(f.check_id, f.severity) for f in first if f.check_id == "scanning.pages.inventory"] == [
                ("scanning.pages.inventory", Severity.HIGH)
            ]
            # the widget inserts late.js at run time: seen, and flagged for missing SRI
            sri = [f for f in first if f.check_id == "scanning.pages.sri"]
            assert [f.evidence["script"] for f in sri] == [f"http://localhost:{provider.port}/late.js"]

            inventories = await inventory_pages(store)
            inv = inventories[0]
            kinds = {(s.kind, s.identifier.rsplit("/", 1)[-1], s.injected) for s in inv.scripts}
            assert ("script", "app.js", False) in kinds and ("script", "late.js", True) in kinds
            assert any(k == "inline-script" for k, _, _ in kinds)
            assert inv.iframes == [f"http://localhost:{provider.port}/card-form"]
            assert f"http://localhost:{provider.port}" in inv.destinations
            assert inv.headers["content-security-policy"] == CSP
            done = approve(sessions, "t", inventories, "payment widget and our own app code", "tester")
            assert len(done) == len(inv.scripts) + 1 + len(inv.destinations)

            clean = await monitor(store, sessions)
            assert [f.check_id for f in clean if f.check_id != "scanning.pages.sri"] == [
                "scanning.pages.observed"
            ]

            # Tamper: the app script changes, a skimmer appears, the CSP header goes.
            shop.routes["/js/app.js"] = Answer(
                200, {"Content-Type": "application/javascript"}, "window.app=2;"
            )
            skimmer = "<script src='/js/cdn-helper.js'></script>"
            shop.routes["/js/cdn-helper.js"] = Answer(200, {"Content-Type": "application/javascript"}, "1;")
            shop.routes["/checkout"] = Answer(200, {}, checkout_html(provider.port, skimmer))
            tampered = await monitor(store, sessions)
    got = {(f.check_id, f.severity) for f in tampered}
    assert ("scanning.pages.changed", Severity.HIGH) in got
    assert ("scanning.pages.headers", Severity.HIGH) in got
    unauth = [f for f in tampered if f.check_id == "scanning.pages.unauthorised"]
    assert [f.evidence["identifier"] for f in unauth] == [shop.url + "js/cdn-helper.js"]
    assert unauth[0].refs.pci == ("6.4.3", "11.6.1")

    with sessions() as s:
        approvals = list(s.query(PageApproval))
    policy = build_policy(approvals, shop.url)
    assert f"script-src 'self' http://localhost:{provider.port} 'sha256-" in policy
    assert f"frame-src 'self' http://localhost:{provider.port}" in policy
    assert "object-src 'none'" in policy
    assert set(load_approved(sessions, "t")) == {"checkout"}


def test_lookalike_domains():
    assert lookalike("https://www.googie-anaiytics.com/x.js") == "google-analytics.com"
    assert lookalike("https://js.strlpe.com/v3") == "stripe.com"
    assert lookalike("https://js.stripe.com/v3") is None
    assert lookalike("https://cdn.example.org/app.js") is None


async def test_browser_guard_refuses_internal_addresses_for_a_public_shop():
    from shopguard.scanning.pages.browser import _Guard
    from shopguard.scanning.web.client import Scope

    guard = _Guard(Scope(frozenset({"shop.example"}), allow_private=False))
    assert not await guard.allowed("http://127.0.0.1:8080/admin")
    assert not await guard.allowed("http://localhost/")
    assert not await guard.allowed("http://169.254.169.254/latest/meta-data/")
    assert not await guard.allowed("file:///etc/passwd")
    assert await guard.allowed("data:text/plain,hi")
    loopback_shop = _Guard(Scope(frozenset({"127.0.0.1"}), allow_private=True))
    assert await loopback_shop.allowed("http://127.0.0.1:8080/")


async def test_ajax_add_to_cart_step_and_a_broken_step(sessions):
    from shopguard.scanning.pages.browser import StepFailed

    added: list[str] = []

    def add(h):
        added.append(h.command)
        h.answer(Answer(200, {"Content-Type": "application/json"}, '{"ok": true}'))

    product = "<html><body><button id='add' onclick=\"fetch('/cart/add',{method:'POST'})\">Add</button>"
    site = Site(
        {
            "/p": Answer(200, {}, product),
            "/cart/add": add,
            "/checkout": Answer(200, {}, "<html><script src='/js/pay.js'></script></html>"),
            "/js/pay.js": Answer(200, {"Content-Type": "application/javascript"}, "1;"),
        }
    )
    with serve(site):
        store = Store.model_validate(
            {
                "name": "t",
                "storefront_url": site.url,
                "checkout_url": site.url + "checkout",
                "pages": {"steps": [{"goto": "/p"}, {"click": "#add"}], "settle_ms": 0},
            }
        )
        [inv] = await inventory_pages(store)
        assert added == ["POST"] and [s.identifier for s in inv.scripts] == [site.url + "js/pay.js"]
        steps = (store.pages.steps[0], store.pages.steps[1].model_copy(update={"click": "#nope"}))
        broken = store.model_copy(update={"pages": store.pages.model_copy(update={"steps": steps})})
        try:
            await inventory_pages(broken)
            raise AssertionError("expected StepFailed")
        except StepFailed as exc:
            assert "step 2 (click #nope) failed" in str(exc)


async def test_missing_chromium_is_a_clear_check_error(sessions):
    store = Store.model_validate(
        {
            "name": "t",
            "storefront_url": "http://127.0.0.1:1/",
            "checkout_url": "http://127.0.0.1:1/checkout",
            "pages": {"chromium": "/nonexistent/chromium"},
        }
    )
    check = next(c for c in all_checks() if c.id == "scanning.pages")
    [res] = await run_checks(Config(stores=(store,)), [store], [check], db=sessions, timeout=30)
    assert res.errored and "Chromium not found at /nonexistent/chromium" in res.message
