"""Monitors a store gets without configuring any."""

from __future__ import annotations

from shopguard.config import parse_config
from shopguard.monitoring.defaults import default_monitors, monitors_for


def _store(**kw):
    base = {"name": "shop", "storefront_url": "https://shop.example.com/"}
    return parse_config({"stores": [{**base, **kw}]}).stores[0]


def test_defaults_follow_the_store():
    store = _store(
        checkout_url="https://pay.example.com/checkout",
        host="ssh://deploy@203.0.113.5:2222",
        databases=[{"name": "main", "dsn": "mysql://shop@10.0.0.5:3306/shop", "password": {"env": "DBPW"}}],
        web_roots=["/srv/shop"],
    )
    known = ["scanning.files.malware", "maintenance.osv", "monitoring.status"]
    mons = {m.name: m for m in default_monitors(store, known)}
    assert set(mons) == {
        "host",
        "storefront",
        "checkout",
        "tls",
        "tls-pay.example.com",
        "db-main",
        "scan-files",
        "vulnerabilities",
    }
    assert mons["host"].kind == "tcp" and (mons["host"].host, mons["host"].port) == ("203.0.113.5", 2222)
    assert all(mons[n].depends_on == ("host",) for n in ("storefront", "checkout", "tls", "db-main"))
    assert mons["checkout"].watch_scripts and not mons["checkout"].watch_content
    assert mons["db-main"].kind == "mysql" and mons["db-main"].password.env == "DBPW"
    assert mons["scan-files"].selectors == ("scanning.files",) and mons["scan-files"].interval_s == 7 * 86400
    assert mons["vulnerabilities"].interval_s == 86400


def test_local_http_store_and_overrides():
    store = _store(
        storefront_url="http://127.0.0.1:8080/",
        monitors={
            "monitors": [
                {"kind": "http", "name": "storefront", "url": "http://127.0.0.1:8080/", "interval_s": 5}
            ]
        },
    )
    mons = {m.name: m for m in monitors_for(store)}
    assert "tls" not in mons and "host" not in mons and "host-resources" in mons
    assert mons["storefront"].interval_s == 5  # the configured one replaces the default
    assert not [m for m in default_monitors(store, []) if m.kind == "audit"]  # no checks installed, no jobs
    off = _store(monitors={"enabled": False})
    assert monitors_for(off) == []
