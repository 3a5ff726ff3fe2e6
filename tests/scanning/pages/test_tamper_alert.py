"""PCI DSS 11.6.1 tamper detection end to end: audits of a real loopback checkout in Chromium,
alerts by e-mail to a real aiosmtpd server. The first run records the baseline, a changed page
alerts exactly once, the same change on the next run alerts no more."""

from __future__ import annotations

import time

import pytest
from aiosmtpd.controller import Controller
from sgmon_support import Mailbox, free_port, mail_url
from webscan_servers import Answer, Site, serve

from shopguard.audit import run_audit
from shopguard.config import parse_config
from shopguard.findings import FindingStatus, Severity
from shopguard.scanning.pages.tamper import diff_states, summarize

CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; report-uri /csp?key=hdr-secret-123"
JS = {"Content-Type": "application/javascript"}


@pytest.fixture
def mailbox():
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield box, ctl.port
    ctl.stop()


def page(extra: str = "") -> str:
    return f"<!doctype html><html><head><script src='/js/app.js'></script></head><body>{extra}</body></html>"


def test_a_changed_checkout_alerts_once(sessions, mailbox):
    box, port = mailbox
    shop = Site(
        {
            "/checkout": Answer(200, {"Content-Security-Policy": CSP}, page()),
            "/js/app.js": Answer(200, JS, "window.app=1;"),
            "/js/helper.js": Answer(200, JS, "window.h=1;"),
        }
    )
    with serve(shop):
        config = parse_config(
            {
                "allow_inline_secrets": True,
                "alerts": [{"name": "owner-mail", "url": {"value": mail_url(port)}, "min_severity": "high"}],
                "stores": [
                    {
                        "name": "shop",
                        "storefront_url": shop.url,
                        "checkout_url": shop.url + "checkout",
                        "pages": {"settle_ms": 100},
                    }
                ],
            }
        )

        def audit():
            run = run_audit(config, config.stores, sessions, selectors=["scanning.pages"], timeout=90)
            assert run.check_errors == 0, run.executions
            time.sleep(0.3)  # a late e-mail would arrive now
            return run

        baseline = audit()
        assert [f for f in baseline.findings if f.finding.check_id == "scanning.pages.tamper"] == []
        assert box.messages == []

        # A skimmer appears (its URL carries a token) and the CSP goes.
        shop.routes["/checkout"] = Answer(
            200, {}, page("<script src='/js/helper.js?session=tok-999'></script>")
        )
        changed = audit()
        [tamper] = [f for f in changed.findings if f.finding.check_id == "scanning.pages.tamper"]
        assert tamper.status is FindingStatus.NEW and tamper.finding.severity == Severity.HIGH
        assert len(box.messages) == 1
        mail = box.messages[0]
        assert "Subject: [ShopGuard] CHANGED: shop / checkout page scripts and headers" in mail
        assert "The checkout page changed since the last check (PCI DSS 11.6.1)." in mail
        assert f"New scripts: {shop.url}js/helper.js" in mail
        assert "Security headers removed: content-security-policy" in mail
        assert "Severity: high" in mail and "Incident: " in mail
        assert f"Target: {shop.url}checkout" in mail
        # no query strings, no header values: either may hold a token
        assert "tok-999" not in mail and "hdr-secret-123" not in mail

        again = audit()
        # the change is now the page's state: the run reports no change, and resolves the last one
        assert [f.status for f in again.findings if f.finding.check_id == "scanning.pages.tamper"] == [
            FindingStatus.RESOLVED
        ]
        assert len(box.messages) == 1

        # The next, different change alerts again, once.
        shop.routes["/js/app.js"] = Answer(200, JS, "window.app=2;")
        third = audit()
        assert [f.finding.check_id for f in third.findings if f.status is FindingStatus.NEW] == [
            "scanning.pages.tamper"
        ]
        assert len(box.messages) == 2
        assert f"Scripts whose content changed: {shop.url}js/app.js" in box.messages[1]


def test_change_summary_names_only():
    before = {"scripts": {"a": "1", "b": "2"}, "iframes": [], "headers": {"x-frame-options": "DENY"}}
    now = {"scripts": {"a": "9", "c": "3"}, "iframes": ["https://pay.example/f"], "headers": {}}
    changes = diff_states(before, now)
    assert changes == {
        "scripts_added": ["c"],
        "scripts_removed": ["b"],
        "scripts_changed": ["a"],
        "headers_removed": ["x-frame-options"],
        "iframes_added": ["https://pay.example/f"],
    }
    text = summarize(changes)
    assert "DENY" not in text
    assert text.splitlines()[0] == "New scripts: c"
    many = summarize({"scripts_added": [f"s{i}" for i in range(13)]})
    assert many.endswith("s9 (+3 more)")


def test_tamper_severity_follows_what_changed_and_which_page():
    from shopguard.scanning.pages.browser import PageInventory, ScriptItem
    from shopguard.scanning.pages.checks import _sev
    from shopguard.scanning.pages.tamper import Previous, page_state, tamper_findings

    def inv(label: str, scripts: tuple[str, ...], headers: dict[str, str]) -> PageInventory:
        items = [ScriptItem("script", s, s, "h-" + s) for s in scripts]
        return PageInventory(label, f"https://shop.example/{label}?x=1", scripts=items, headers=headers)

    base = {"x-frame-options": "DENY"}
    before = {
        "checkout": Previous(page_state(inv("checkout", ("a.js",), base)), 7),
        "basket": Previous(page_state(inv("basket", ("a.js",), base)), 7),
    }
    now = [
        inv("checkout", ("a.js",), {**base, "referrer-policy": "no-referrer"}),  # only a header added
        inv("basket", ("a.js", "evil.js"), base),  # a new script on the basket
    ]
    found = tamper_findings("scanning.pages", now, before, _sev)
    observed = [f for f in found if f.check_id == "scanning.pages.observed"]
    assert [f.location for f in observed] == ["https://shop.example/checkout", "https://shop.example/basket"]
    tamper = {f.key.split(":")[0]: f for f in found if f.check_id == "scanning.pages.tamper"}
    assert tamper["checkout"].severity == Severity.LOW
    assert tamper["basket"].severity == Severity.MEDIUM
    assert tamper["basket"].evidence["previous_run"] == 7
    assert tamper["basket"].key.startswith("basket:7:")
    # unchanged pages give only the record
    same = tamper_findings("scanning.pages", [inv("checkout", ("a.js",), base)], before, _sev)
    assert [f.check_id for f in same] == ["scanning.pages.observed"]


def test_the_monitoring_daemons_scheduled_page_scan_alerts_once_per_change(sessions, mailbox):
    """The scheduled path: `shopguard monitor`'s scan-pages job runs the audit, which alerts."""
    from sgmon_support import Running, wait_until
    from sqlalchemy import func, select

    from shopguard.db.models import RunRecord
    from shopguard.monitoring.engine import Daemon

    box, port = mailbox
    shop = Site(
        {
            "/checkout": Answer(200, {"Content-Security-Policy": CSP}, page()),
            "/js/app.js": Answer(200, JS, "window.app=1;"),
            "/js/helper.js": Answer(200, JS, "window.h=1;"),
        }
    )

    def finished_runs() -> int:
        with sessions() as s:
            return int(s.scalar(select(func.count()).where(RunRecord.status == "finished")) or 0)

    def change_mails() -> list[str]:
        return [m for m in box.messages if "CHANGED: shop / checkout page" in m]

    with serve(shop):
        config = parse_config(
            {
                "allow_inline_secrets": True,
                "alerts": [{"name": "owner-mail", "url": {"value": mail_url(port)}}],
                "stores": [
                    {
                        "name": "shop",
                        "storefront_url": shop.url,
                        "checkout_url": shop.url + "checkout",
                        "pages": {"settle_ms": 100},
                        "monitors": {
                            "use_defaults": False,
                            "alerting": {"confirm": 1, "reminder_s": 0},
                            "monitors": [
                                {
                                    "kind": "audit",
                                    "name": "scan-pages",
                                    "selectors": ["scanning.pages"],
                                    "interval_s": 0.5,
                                    "timeout_s": 120,
                                }
                            ],
                        },
                    }
                ],
            }
        )
        run = Running(Daemon(config, sessions, flush_interval=0.1))
        try:
            wait_until(lambda: finished_runs() >= 1, timeout=120)
            assert change_mails() == []
            shop.routes["/checkout"] = Answer(200, {}, page("<script src='/js/helper.js'></script>"))
            box_wait = time.monotonic() + 120
            while not change_mails() and time.monotonic() < box_wait:
                time.sleep(0.1)
            assert len(change_mails()) == 1
            # two more runs that both started after the change was seen: no further change alert
            seen = finished_runs()
            wait_until(lambda: finished_runs() >= seen + 2, timeout=180)
        finally:
            run.stop()
    assert len(change_mails()) == 1
    assert "Security headers removed: content-security-policy" in change_mails()[0]
