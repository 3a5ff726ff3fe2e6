"""Monitoring data for the dashboard tests, written through the daemon's own persistence
(``monitoring.persist.Writer``), and a small loopback site to monitor or audit."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, parse_config
from shopguard.db.base import utcnow
from shopguard.monitoring.persist import Writer

STEP = timedelta(minutes=5)
DOWN_FROM = timedelta(hours=3)
DOWN_FOR = timedelta(minutes=30)


class Site:
    """An HTTP site on loopback that answers every path (optionally slowly)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.hits = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits += 1
                if site.delay:
                    time.sleep(site.delay)
                body = b"<html><head><title>Shop</title></head><body>Welcome to the shop</body></html>"
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            do_HEAD = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def site_config(url: str, interval_s: float = 1.0, extra_stores: tuple[str, ...] = ()) -> Config:
    """Stores whose only monitor is an HTTP check of ``url`` (no derived defaults)."""
    stores = [
        {
            "name": name,
            "storefront_url": url,
            "platform": "woocommerce",
            "monitors": {
                "use_defaults": False,
                "monitors": [
                    {"kind": "http", "name": "storefront", "url": url, "interval_s": interval_s},
                    {"kind": "http", "name": "old-page", "url": url + "old", "enabled": False},
                ],
            },
        }
        for name in ("alpha", *extra_stores)
    ]
    return parse_config(
        {
            "company": {"name": "Acme Socks Ltd", "legal_name": "Acme Socks Limited", "country": "GB"},
            "stores": stores,
        }
    )


@dataclass(frozen=True)
class Seeded:
    now: datetime
    up_checks: int
    down_checks: int


def _state(
    key: str, kind: str, target: str, status: str, since: datetime, last: datetime, msg: str
) -> dict[str, Any]:
    store, _, name = key.partition("/")
    return {
        "key": key,
        "store": store,
        "name": name,
        "kind": kind,
        "target": target,
        "severity": "critical",
        "status": status,
        "announced": status,
        "since": since,
        "fails": 3 if status == "down" else 0,
        "oks": 0 if status == "down" else 10,
        "first_fail_at": since if status == "down" else None,
        "last_check_at": last,
        "last_message": msg,
        "last_alert_at": None,
        "reminders": 0,
        "incident_id": "inc-beta-1" if status == "down" else None,
        "changes": [],
        "data": {},
        "last_beat_at": None,
        "updated_at": last,
    }


def seed_monitoring(db: sessionmaker[Session], extra: int = 0) -> Seeded:
    """24 hours of 5-minute checks of alpha/storefront with a 30-minute outage 3 hours ago
    (closed incident), beta/storefront down for 10 minutes now (open incident), and
    ``extra`` more monitors of a store "gamma" that are up."""
    now = utcnow()
    w = Writer(db)
    up = down = 0
    t = now - timedelta(hours=24) + STEP
    i = 0
    while t <= now:
        is_down = now - DOWN_FROM <= t < now - DOWN_FROM + DOWN_FOR
        w.add_result(
            {
                "key": "alpha/storefront",
                "at": t,
                "status": "down" if is_down else "up",
                "latency_ms": None if is_down else 80.0 + (i % 12) * 10,
                "message": "HTTP 502" if is_down else "HTTP 200",
                "maintenance": False,
            }
        )
        down += is_down
        up += not is_down
        t += STEP
        i += 1
    w.put_state(
        _state(
            "alpha/storefront",
            "http",
            "https://alpha.example/",
            "up",
            now - DOWN_FROM + DOWN_FOR,
            now,
            "HTTP 200",
        )
    )
    w.put_incident(
        {
            "id": "inc-alpha-1",
            "key": "alpha/storefront",
            "store": "alpha",
            "monitor": "storefront",
            "started_at": now - DOWN_FROM,
            "ended_at": now - DOWN_FROM + DOWN_FOR,
            "cause": "HTTP 502 Bad Gateway",
            "end_note": "HTTP 200",
            "suppressed": "",
        }
    )
    beta_since = now - timedelta(minutes=10)
    w.put_state(
        _state(
            "beta/storefront", "http", "https://beta.example/", "down", beta_since, now, "connection refused"
        )
    )
    w.add_result(
        {
            "key": "beta/storefront",
            "at": now,
            "status": "down",
            "latency_ms": None,
            "message": "connection refused",
            "maintenance": False,
        }
    )
    w.put_incident(
        {
            "id": "inc-beta-1",
            "key": "beta/storefront",
            "store": "beta",
            "monitor": "storefront",
            "started_at": beta_since,
            "ended_at": None,
            "cause": "connection refused",
            "end_note": "",
            "suppressed": "",
        }
    )
    for n in range(extra):
        key = f"gamma/page-{n:04d}"
        w.put_state(
            _state(key, "http", f"https://gamma.example/{n}", "up", now - timedelta(days=1), now, "HTTP 200")
        )
        w.add_result(
            {
                "key": key,
                "at": now - timedelta(minutes=1),
                "status": "up",
                "latency_ms": 50.0 + n,
                "message": "HTTP 200",
                "maintenance": False,
            }
        )

    async def flush() -> None:
        assert await w.flush(), w.last_error

    asyncio.run(flush())
    w.close()
    return Seeded(now, up, down)


def write_monitor_config(tmp_path: Path, url: str, interval_s: float) -> Path:
    """A shopguard.toml with one store whose only monitor is an HTTP check of ``url``."""
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f"""
[[stores]]
name = "alpha"
storefront_url = "{url}"

[stores.monitors]
use_defaults = false

[[stores.monitors.monitors]]
kind = "http"
name = "storefront"
url = "{url}"
interval_s = {interval_s}
""",
        encoding="utf-8",
    )
    return cfg
