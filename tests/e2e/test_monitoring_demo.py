"""End to end: the demo shop monitored; it stops, an e-mail arrives; it starts, the recovery arrives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from demo.run import start

from shopguard.config import parse_config
from shopguard.db import open_database
from shopguard.monitoring.engine import Daemon
from shopguard.monitoring.stats import incidents, uptime


class _Box:
    def __init__(self) -> None:
        self.mail: list[tuple[float, str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        self.mail.append((time.monotonic(), str(msg["Subject"]), body.get_content() if body else ""))
        return "250 OK"

    def wait(self, word: str, timeout: float) -> tuple[float, str, str]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.mail:
                if word in m[1]:
                    return m
            time.sleep(0.02)
        raise AssertionError(f"no e-mail with {word!r} within {timeout} s: {[m[1] for m in self.mail]}")


@pytest.fixture
def smtp_box() -> Iterator[tuple[_Box, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = _Box()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    yield box, port
    ctl.stop()


@pytest.mark.e2e
def test_demo_shop_outage_is_mailed_and_recovery_follows(tmp_path, smtp_box):
    box, smtp_port = smtp_box
    shop = start(shop_port=0, provider_port=0)
    port = shop.shop_port
    interval, confirm = 0.2, 3
    cfg = parse_config(
        {
            "allow_inline_secrets": True,
            "alerts": [
                {
                    "name": "owner-mail",
                    "url": {
                        "value": f"mailto://127.0.0.1:{smtp_port}?from=shopguard@example.test&to=owner@example.test&mode=insecure"
                    },
                    "min_severity": "high",
                }
            ],
            "stores": [
                {
                    "name": "demo",
                    "storefront_url": shop.shop_url,
                    "checkout_url": shop.checkout_url,
                    "monitors": {
                        "use_defaults": False,
                        "alerting": {"confirm": confirm, "reminder_s": 0},
                        "monitors": [
                            {
                                "kind": "http",
                                "name": "storefront",
                                "url": shop.shop_url,
                                "interval_s": interval,
                                "severity": "critical",
                                "keyword": "Kestrel",
                            },
                            {
                                "kind": "journey",
                                "name": "journey",
                                "interval_s": 0.5,
                                "timeout_s": 5,
                                "home_url": shop.shop_url,
                                "product_url": shop.shop_url + "products/ethiopia-yirgacheffe",
                                "add_to_basket_url": shop.shop_url + "basket/add",
                                "add_to_basket_data": {"product": "ethiopia-yirgacheffe", "qty": "1"},
                                "form_token_field": "csrf",
                                "basket_url": shop.basket_url,
                                "basket_keyword": "Yirgacheffe",
                                "severity": "high",
                                "depends_on": ["storefront"],
                            },
                        ],
                    },
                }
            ],
        }
    )
    db = open_database(f"sqlite:///{tmp_path / 'sg.db'}")
    daemon = Daemon(cfg, db, flush_interval=0.2)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()
    th = threading.Thread(
        target=lambda: loop.run_until_complete(daemon.run(stop, lambda d: ready.set())), daemon=True
    )
    th.start()
    try:
        assert ready.wait(10)
        deadline = time.monotonic() + 10
        while (
            daemon.monitors["demo/journey"].state.status != "up"
            or daemon.monitors["demo/storefront"].state.oks < 5
        ):
            assert time.monotonic() < deadline, daemon.monitors["demo/journey"].state.last_message
            time.sleep(0.05)
        assert box.mail == []

        shop.stop()
        stopped = time.monotonic()
        when, subject, body = box.wait("DOWN", timeout=10)
        # confirmation window: `confirm` failed checks at `interval`, plus delivery
        assert when - stopped < confirm * interval + 2.0
        assert subject == "[ShopGuard] DOWN: demo / storefront"
        assert "connection refused" in body and shop.shop_url in body and "Severity: critical" in body
        time.sleep(1.0)

        shop = start(shop_port=port, provider_port=0)
        _, subject, body = box.wait("RECOVERED", timeout=10)
        assert subject == "[ShopGuard] RECOVERED: demo / storefront" and "Downtime:" in body
        time.sleep(1.0)
    finally:
        loop.call_soon_threadsafe(stop.set)
        th.join(20)
        shop.stop()
    # the journey depends on the storefront: no second page for the same outage
    assert [m[1] for m in box.mail] == [
        "[ShopGuard] DOWN: demo / storefront",
        "[ShopGuard] RECOVERED: demo / storefront",
    ]
    up = uptime(db, "demo/storefront", "24h")
    assert up.up >= 5 and up.total - up.up >= confirm  # the outage shows in uptime
    assert 0 < up.percent < 100
    inc = incidents(db, "demo/storefront")
    assert len(inc) == 1 and inc[0].ended_at is not None and "refused" in inc[0].cause
