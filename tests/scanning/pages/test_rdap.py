"""The RDAP client against a real loopback server replaying RFC 9083 answers (data/rdap/)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdap_support import DATA, domain_requests, publish_bootstrap, rdap_site
from webscan_servers import Answer, serve, slow_answer

from shopguard.config import parse_config
from shopguard.scanning.pages.rdap import (
    RdapClient,
    RdapError,
    parse_registration,
    registrable_domain,
    servers_for,
)
from shopguard.scanning.pages.settings import DomainAge

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_registrable_domain_uses_the_public_suffix_list():
    assert registrable_domain("js.cdn.fresh-cdn.shop") == "fresh-cdn.shop"
    assert registrable_domain("static.shop.example.co.uk") == "example.co.uk"
    assert registrable_domain("WWW.Example.COM.") == "example.com"
    # github.io is a private suffix: the registration that exists is github.io itself
    assert registrable_domain("attacker.github.io") == "github.io"
    assert registrable_domain("bücher.de") == "xn--bcher-kva.de"
    for no in ("localhost", "127.0.0.1", "[::1]", "co.uk", ""):
        assert registrable_domain(no) is None, no


def test_bootstrap_longest_match_and_https_first():
    doc = {
        "services": [
            [["uk"], ["https://uk.example/rdap/"]],
            [["co.uk"], ["http://couk.example/", "https://couk.example/"]],
        ]
    }
    assert servers_for(doc, "example.co.uk", "u") == ["https://couk.example/", "http://couk.example/"]
    assert servers_for(doc, "example.uk", "u") == ["https://uk.example/rdap/"]
    assert servers_for(doc, "example.de", "u") == []
    with pytest.raises(RdapError, match=r"http://b/dns.json: services\[0\] is not"):
        servers_for({"services": [["com", "https://x/"]]}, "a.com", "http://b/dns.json")
    with pytest.raises(RdapError, match="no 'services' list"):
        servers_for({"version": "1.0"}, "a.com", "http://b/dns.json")


def test_parse_registration_reads_the_registration_event():
    doc = json.loads((DATA / "domain-old-widgets.com.json").read_text())
    assert parse_registration(doc, "u") == datetime(2003, 6, 14, 15, 44, 9, tzinfo=UTC)
    assert parse_registration({"objectClassName": "domain", "events": []}, "u") is None
    with pytest.raises(RdapError, match=r"http://r/domain/x\.com: registration eventDate 'yesterday'"):
        parse_registration(
            {"events": [{"eventAction": "registration", "eventDate": "yesterday"}]}, "http://r/domain/x.com"
        )
    with pytest.raises(RdapError, match="expected objectClassName 'domain'"):
        parse_registration({"objectClassName": "entity"}, "u")


async def test_lookups_through_the_bootstrap_then_from_the_cache(tmp_path: Path):
    site = rdap_site()
    with serve(site):
        settings = DomainAge(enabled=True, bootstrap_url=publish_bootstrap(site), cache=tmp_path / "c.json")
        async with RdapClient(settings, now=NOW) as rdap:
            got = await rdap.lookup_all(
                ["fresh-cdn.shop", "old-widgets.com", "nobody-here.shop", "x.example"]
            )
        assert got["fresh-cdn.shop"].registered == datetime(2026, 11, 1, 8, 14, 55, tzinfo=UTC)
        assert got["fresh-cdn.shop"].age_days(NOW) == pytest.approx(24.16, abs=0.01)
        assert got["fresh-cdn.shop"].source == site.url + "shop-registry/domain/fresh-cdn.shop"
        assert got["old-widgets.com"].registered is not None
        assert got["old-widgets.com"].registered.year == 2003
        assert got["nobody-here.shop"].registered is None and got["nobody-here.shop"].note == "not found"
        assert got["x.example"].error == "no RDAP server for .example"
        assert sorted(site.log) == sorted(
            [
                "GET /dns.json",
                "GET /shop-registry/domain/fresh-cdn.shop",
                "GET /com-registry/domain/old-widgets.com",
                "GET /shop-registry/domain/nobody-here.shop",
            ]
        )
        assert rdap.requests == 4
        # A second run (a new client, same cache file) asks nothing: dates do not change, the
        # bootstrap is fresh for a week and "not found" is remembered for a week.
        site.log.clear()
        async with RdapClient(settings, now=NOW) as again:
            cached = await again.lookup_all(["fresh-cdn.shop", "old-widgets.com", "nobody-here.shop"])
        assert site.log == [] and again.requests == 0
        assert cached["fresh-cdn.shop"].registered == got["fresh-cdn.shop"].registered
        assert cached["fresh-cdn.shop"].source == "cache"
        # Eight days on, only the negative answer is asked again.
        later = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
        async with RdapClient(
            settings.model_copy(update={"base_url": site.url + "shop-registry/"}), now=later
        ) as c:
            await c.lookup_all(["fresh-cdn.shop", "nobody-here.shop"])
        assert site.log == ["GET /shop-registry/domain/nobody-here.shop"]


async def test_base_url_replaces_the_bootstrap(tmp_path: Path):
    site = rdap_site()
    with serve(site):
        publish_bootstrap(site)
        settings = DomainAge(enabled=True, base_url=site.url + "shop-registry", cache=tmp_path / "c.json")
        async with RdapClient(settings, now=NOW) as rdap:
            reg = await rdap.lookup("fresh-cdn.shop")
    assert reg.registered is not None and site.log == ["GET /shop-registry/domain/fresh-cdn.shop"]


async def test_slow_broken_and_limited_registries_leave_domains_unchecked(tmp_path: Path):
    site = rdap_site()
    with serve(site):
        url = publish_bootstrap(site)
        site.routes["/shop-registry/domain/fresh-cdn.shop"] = slow_answer(3.0, Answer(200, {}, "{}"))
        site.routes["/com-registry/domain/old-widgets.com"] = Answer(200, {}, "<html>maintenance</html>")
        settings = DomainAge(enabled=True, bootstrap_url=url, cache=tmp_path / "c.json", timeout_s=0.5)
        async with RdapClient(settings, now=NOW) as rdap:
            got = await rdap.lookup_all(["fresh-cdn.shop", "old-widgets.com"])
        assert got["fresh-cdn.shop"].error == (
            f"{site.url}shop-registry/domain/fresh-cdn.shop: no answer within 0.5 s"
        )
        assert (
            got["old-widgets.com"].error
            == f"{site.url}com-registry/domain/old-widgets.com: the answer is not JSON"
        )
        # failures are not cached
        assert json.loads((tmp_path / "c.json").read_text())["domains"] == {}

        site.routes["/dns.json"] = Answer(200, {}, '{"services": "nope"}')
        fresh = settings.model_copy(update={"cache": tmp_path / "other.json"})
        async with RdapClient(fresh, now=NOW) as rdap:
            bad = await rdap.lookup("old-widgets.com")
        assert bad.error == f"{url}: not an RDAP bootstrap file (no 'services' list)"

        limited = settings.model_copy(update={"cache": tmp_path / "third.json", "max_lookups": 1})
        site.routes["/dns.json"] = Answer(
            200, {}, (DATA / "dns.json").read_text().replace("RDAP_BASE", site.url)
        )
        async with RdapClient(limited, now=NOW) as rdap:
            capped = await rdap.lookup_all(["a.shop", "b.shop"])
        assert capped["b.shop"].error == "look-up limit for one run reached"
        assert len(domain_requests(site)) == 3  # fresh-cdn (timed out), old-widgets, a.shop

        # The check's own deadline bounds all look-ups together.
        patient = settings.model_copy(update={"cache": tmp_path / "fourth.json", "timeout_s": 10})
        async with RdapClient(patient, now=NOW) as rdap:
            late = await rdap.lookup_all(["fresh-cdn.shop"], time_left=0.5)
        assert late["fresh-cdn.shop"].error == "the check ran out of time"


def test_a_corrupt_cache_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "rdap.json"
    bad.write_text("[1, 2]")
    with pytest.raises(RdapError, match=re.escape(f"{bad}: not a ShopGuard RDAP cache")):
        RdapClient(DomainAge(enabled=True, cache=bad))


def test_domain_age_settings_are_off_by_default_and_validated():
    cfg = parse_config({"stores": [{"name": "s", "storefront_url": "https://shop.example/"}]})
    assert cfg.stores[0].pages.domain_age.enabled is False
    assert cfg.stores[0].pages.domain_age.min_age_days == 90
    with pytest.raises(Exception, match="bootstrap_url"):
        parse_config(
            {
                "stores": [
                    {
                        "name": "s",
                        "storefront_url": "https://shop.example/",
                        "pages": {"domain_age": {"bootstrap_url": "ftp://x/dns.json"}},
                    }
                ]
            }
        )
