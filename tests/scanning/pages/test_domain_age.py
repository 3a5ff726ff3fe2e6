"""Chromium loads a checkout that pulls scripts from a freshly registered domain and from an old
one; their names are mapped to loopback with --host-resolver-rules, and a loopback RDAP
service replays the registries' RFC 9083 answers (data/rdap/)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rdap_support import domain_requests, publish_bootstrap, rdap_site
from webscan_servers import Answer, Site, serve

from shopguard.checks import all_checks, run_checks
from shopguard.config import Config, Store
from shopguard.findings import Severity

JS = {"Content-Type": "application/javascript"}


async def monitor(store: Store, sessions) -> list:
    check = next(c for c in all_checks() if c.id == "scanning.pages")
    [res] = await run_checks(Config(stores=(store,)), [store], [check], db=sessions, timeout=90)
    assert not res.errored, res.message
    return res.findings


async def test_script_from_a_recently_registered_domain_is_high_on_the_checkout(sessions, tmp_path: Path):
    cdn = Site({"/skim.js": Answer(200, JS, "window.k=1;"), "/w.js": Answer(200, JS, "window.w=1;")})
    rdap = rdap_site()
    with serve(cdn), serve(rdap):
        page = (
            "<!doctype html><html><body><h1>Pay</h1>"
            f"<script src='http://fresh-cdn.shop:{cdn.port}/skim.js?v=3'></script>"
            f"<script src='http://static.old-widgets.com:{cdn.port}/w.js'></script></body></html>"
        )
        shop = Site({"/checkout": Answer(200, {}, page)})
        with serve(shop):
            # 30 days more than the age of the replayed registration (2026-11-01), whatever today is
            threshold = (datetime.now(UTC) - datetime(2026, 11, 1, tzinfo=UTC)).days + 30
            settings = {
                "settle_ms": 200,
                "chromium_args": [
                    "--host-resolver-rules=MAP fresh-cdn.shop 127.0.0.1, MAP static.old-widgets.com 127.0.0.1"
                ],
                "domain_age": {
                    "enabled": True,
                    "bootstrap_url": publish_bootstrap(rdap),
                    "min_age_days": threshold,
                    "cache": str(tmp_path / "rdap.json"),
                },
            }
            store = Store.model_validate(
                {
                    "name": "t",
                    "storefront_url": shop.url,
                    "checkout_url": shop.url + "checkout",
                    "pages": settings,
                }
            )
            found = await monitor(store, sessions)
            [fresh] = [f for f in found if f.check_id == "scanning.pages.new-domain"]
            assert fresh.severity == Severity.HIGH
            assert fresh.evidence["domain"] == "fresh-cdn.shop"
            assert fresh.evidence["url"] == f"http://fresh-cdn.shop:{cdn.port}/skim.js"
            assert fresh.evidence["registered"] == "2026-11-01T08:14:55+00:00"
            assert fresh.evidence["rdap"] == rdap.url + "shop-registry/domain/fresh-cdn.shop"
            assert fresh.refs.pci == ("6.4.3", "11.6.1")
            assert not [f for f in found if f.check_id == "scanning.pages.domain-age"]
            # the browser really fetched both scripts through the mapped names
            assert sorted(cdn.log) == ["GET /skim.js?v=3", "GET /w.js"]  # fetched in parallel
            # one bootstrap, one question per registrable domain; the shop's own host is never asked
            assert sorted(rdap.log) == [
                "GET /com-registry/domain/old-widgets.com",
                "GET /dns.json",
                "GET /shop-registry/domain/fresh-cdn.shop",
            ]

            # Off (the default): no RDAP request at all, no finding.
            rdap.log.clear()
            off = store.model_copy(
                update={
                    "pages": store.pages.model_copy(
                        update={"domain_age": store.pages.domain_age.model_copy(update={"enabled": False})}
                    )
                }
            )
            quiet = await monitor(off, sessions)
            assert rdap.log == [] and not [f for f in quiet if f.check_id == "scanning.pages.new-domain"]

            # On again: the ages come from the cache, the finding is the same.
            again = await monitor(store, sessions)
            assert rdap.log == [] and domain_requests(rdap) == []
            assert [f.fingerprint for f in again if f.check_id == "scanning.pages.new-domain"] == [
                fresh.fingerprint
            ]


async def test_an_unreachable_registry_is_reported_not_fatal(sessions, tmp_path: Path):
    shop = Site(
        {
            "/checkout": Answer(
                200, {}, "<html><body><script src='http://cdn.fresh-cdn.shop:9/a.js'></script></body></html>"
            ),
        }
    )
    rdap = Site({"/dns.json": Answer(500, {}, "oops")})
    with serve(shop), serve(rdap):
        store = Store.model_validate(
            {
                "name": "t",
                "storefront_url": shop.url,
                "checkout_url": shop.url + "checkout",
                "pages": {
                    "settle_ms": 0,
                    "chromium_args": ["--host-resolver-rules=MAP cdn.fresh-cdn.shop 127.0.0.1"],
                    "domain_age": {
                        "enabled": True,
                        "bootstrap_url": rdap.url + "dns.json",
                        "cache": str(tmp_path / "rdap.json"),
                    },
                },
            }
        )
        found = await monitor(store, sessions)
    [note] = [f for f in found if f.check_id == "scanning.pages.domain-age"]
    assert note.severity == Severity.INFO
    assert note.evidence["unchecked"] == ["fresh-cdn.shop"]
    assert f"fresh-cdn.shop: {rdap.url}dns.json: HTTP 500" in note.detail
    assert not [f for f in found if f.check_id == "scanning.pages.new-domain"]
