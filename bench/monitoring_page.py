"""The monitoring pages' database work at agency scale, one request at a time.

Seeds a throwaway PostgreSQL database with 2,000 monitors (state rows, 24 hours of raw
results every 5 minutes, 29 days of hourly rollups: what the daemon leaves after downsampling),
then times the read models behind ``/monitoring`` (first page, a later page, the down filter)
and a monitor's page (two uptime bars, the latency series, incidents), in process, without
HTTP: the part of the request this code adds. Prints p50/p95 per query.

    .venv/bin/python bench/monitoring_page.py [--monitors 2000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from dashboard import ADMIN, seed_monitors

from shopguard.db import open_database
from shopguard.web import monitor_queries as mq


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm the caches once
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(out, n=20)
    return statistics.median(out), q[18]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--monitors", type=int, default=2000)
    ap.add_argument("--stores", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    name = f"sg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        db = open_database(url)
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            seed_monitors(cur, [f"store-{i:03d}" for i in range(args.stores)], args.monitors, now)
            cur.execute("ANALYZE")
        print(f"seeded {args.monitors} monitors in {time.perf_counter() - t0:.1f}s")
        key = "store-001/m0001"

        def page(flt: mq.MonitorFilter, cached: bool = False) -> Callable[[], object]:
            cache = mq.UptimeCache() if cached else None

            def run() -> object:
                with db() as s:
                    return mq.monitor_page(s, {}, None, lambda _s: True, flt, datetime.now(UTC), cache)

            return run

        def detail() -> object:
            with db() as s:
                n = datetime.now(UTC)
                mq.slots(s, key, n, timedelta(hours=24), 48, "%H:%M")
                mq.slots(s, key, n, timedelta(days=30), 30, "%Y-%m-%d")
                return mq.incidents(s, None, n, key=key)

        cases = {
            "/monitoring (page 1 of 40), uptime computed": page(mq.MonitorFilter()),
            "/monitoring?page=20, uptime computed": page(mq.MonitorFilter(page=20)),
            "/monitoring, uptime cached (30 s)": page(mq.MonitorFilter(), cached=True),
            "/monitoring?status=down": page(mq.MonitorFilter(status="down")),
            "monitor page: bars, latency, incidents": detail,
        }
        print(f"{'query':46} {'p50 ms':>8} {'p95 ms':>8}")
        for label, fn in cases.items():
            p50, p95 = timed(fn, args.repeat)
            print(f"{label:46} {p50:8.1f} {p95:8.1f}")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        db.kw["bind"].dispose()
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
