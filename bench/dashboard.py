"""Dashboard latency at agency scale on PostgreSQL.

Seeds a throwaway database (200 stores, 100,000 findings, check executions for every store
plus 2,000 monitors' worth of ``monitoring.*`` executions, and 2,000 monitors' state, a day
of raw results and 29 days of hourly rollups), starts ``shopguard serve`` in a second process
on loopback, and drives the overview, the findings list, the findings API and the monitoring
pages with 20 concurrent users: wrk (Debian's package), from a second process on loopback,
plays 20 users twice: as people (each pauses 0.5-1.5 s between pages, ``--think-ms``) and as
a stress test (each sends its next request the moment the last one is answered). Each page is
driven on its own for ``--seconds``, then a mix that also asks for other stores, later pages and
other monitors. Every wrk thread signs in as a different user. Prints requests per second and
p50/p95/p99 per page.

    .venv/bin/python bench/dashboard.py [--seconds 10] [--users 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from shopguard.db import open_database
from shopguard.findings import fingerprint
from shopguard.web.auth import sha256
from shopguard.web.models import WebSession
from shopguard.web.permissions import Role
from shopguard.web.users import create_user

ADMIN = os.environ.get("SHOPGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PROTOS = ["insurance", "maintenance", "hosting", "scanning", "pci", "policies", "response"]
SEVS = ["critical", "high", "medium", "low", "info"]


def seed(url: str, stores: int, findings: int, monitors: int) -> None:
    db = open_database(url)
    db.kw["bind"].dispose()
    conn = psycopg.connect(url.replace("postgresql://", "postgresql://", 1))
    now = datetime.now(UTC)
    names = [f"store-{i:03d}" for i in range(stores)]
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO runs (kind, selector, stores, status, started_at, finished_at, tool_version, pid, hostname)"  # noqa: E501
            " VALUES ('audit', 'all', '', 'finished', %s, %s, 'bench', 0, 'bench') RETURNING id",
            (now, now),
        )
        row = cur.fetchone()
        assert row is not None
        run_id = row[0]
        with cur.copy(
            "COPY check_executions (run_id, store, check_id, outcome, message, duration_s, finished_at) FROM STDIN"  # noqa: E501
        ) as cp:
            for name in names:
                for p in PROTOS:
                    for k in range(5):
                        outcome = "error" if random.random() < 0.02 else "ok"
                        cp.write_row((run_id, name, f"{p}.bench{k}", outcome, "", 0.1, now))
            for m in range(monitors):
                for _ in range(10):  # ten recent probe results per monitor
                    cp.write_row((run_id, names[m % stores], f"monitoring.uptime.m{m}", "ok", "", 0.05, now))
        with cur.copy(
            "COPY findings (store, fingerprint, check_id, source_check, protocol, severity, title, detail, location,"  # noqa: E501
            " key, evidence, remediation, refs, status, first_seen, last_seen, first_run_id, last_run_id, triage,"  # noqa: E501
            " triage_reason, triage_by) FROM STDIN"
        ) as cp:
            for i in range(findings):
                name = names[i % stores]
                p = PROTOS[i % len(PROTOS)]
                check = f"{p}.bench{i % 5}"
                loc = f"https://{name}.example/path/{i}"
                status = random.choices(["open", "new", "resolved"], [6, 1, 3])[0]
                triage = "accepted_risk" if random.random() < 0.05 else "none"
                seen = now - timedelta(minutes=i % 10000)
                cp.write_row(
                    (name, fingerprint(check, loc), check, check, p, random.choice(SEVS),
                     f"Bench finding {i}", "detail", loc, "", "{}", "Fix it.", "{}", status, seen, seen,
                     run_id, run_id, triage, "bench" if triage != "none" else "", "")
                )  # fmt: skip
        seed_monitors(cur, names, monitors, now)
        cur.execute("ANALYZE")
    conn.close()


def seed_monitors(cur: psycopg.Cursor[object], names: list[str], monitors: int, now: datetime) -> None:
    """What the monitoring daemon stores for ``monitors`` monitors: a state row each, 24 hours
    of raw results every 5 minutes, and 29 more days as hourly rollups (the downsampled form)."""
    import json

    keys = [f"{names[m % len(names)]}/m{m:04d}" for m in range(monitors)]
    with cur.copy(
        "COPY monitor_state (key, store, name, kind, target, severity, status, announced, since, fails, oks,"
        " last_check_at, last_message, reminders, changes, data, updated_at) FROM STDIN"
    ) as cp:
        for i, key in enumerate(keys):
            store, _, name = key.partition("/")
            status = "down" if i % 97 == 0 else "up"
            since = now - timedelta(hours=5)
            target = f"https://{store}.example/{name}"
            cp.write_row((key, store, name, "http", target, "high", status, status,
                          since, 0, 10, now, "HTTP 200", 0, "[]", json.dumps({}), now))  # fmt: skip
    with cur.copy(
        "COPY monitor_results (key, at, status, latency_ms, message, maintenance) FROM STDIN"
    ) as cp:
        for i, key in enumerate(keys):
            for k in range(288):
                down = i % 97 == 0 and k < 12
                cp.write_row((key, now - timedelta(minutes=5 * k), "down" if down else "up",
                              None if down else 80.0 + (k % 40), "HTTP 200", False))  # fmt: skip
    with cur.copy(
        "COPY monitor_rollups (key, hour, n, n_up, n_down, n_excluded, lat_n,"
        " lat_p50, lat_p95, lat_p99, lat_max) FROM STDIN"
    ) as cp:
        start = (now - timedelta(hours=24)).replace(minute=0, second=0, microsecond=0)
        for key in keys:
            for h in range(1, 29 * 24 + 1):
                cp.write_row((key, start - timedelta(hours=h), 12, 12, 0, 0, 12, 90.0, 130.0, 150.0, 170.0))


def session_cookies(url: str, n: int) -> list[str]:
    """``n`` analysts, each signed in (their session tokens)."""
    db = open_database(url)
    tokens = []
    with db.begin() as s:
        for i in range(n):
            token = secrets.token_urlsafe(32)
            u = create_user(
                s, f"bench{i}@shop.example", f"Bench {i}", Role.ANALYST, "load-test-password-1234"
            )
            s.add(WebSession(token_hash=sha256(token), user_id=u.id, csrf_token="x", ip="bench"))
            tokens.append(token)
    db.kw["bind"].dispose()
    return tokens


WRK_SCRIPT = """
local cookies = {%(cookies)s}
local think_ms = %(think_ms)d
local paths = {%(paths)s}
local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  wrk.headers["Cookie"] = "sg_session=" .. cookies[(id - 1) %% #cookies + 1]
  n = 0
  bad = 0
end
function delay()
  if think_ms == 0 then return 0 end
  return math.random(math.floor(think_ms / 2), math.floor(think_ms * 3 / 2))
end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n + id) %% #paths + 1])
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local non200 = 0
  for _, t in ipairs(threads) do non200 = non200 + t:get("bad") end
  io.write(string.format("RESULT %%d %%.1f %%.1f %%.1f %%.1f %%d %%d %%d\\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1e6, non200, summary.errors.timeout, summary.errors.connect))
end
"""


def run_wrk(
    base: str, cookies: list[str], paths: list[str], users: int, seconds: float, think_ms: int = 0
) -> list[float]:
    """requests, p50, p95, p99 (ms), seconds, non-200, timeouts, connect errors. ``think_ms``:
    each user waits a random 0.5x-1.5x of it between an answer and their next request."""
    lua = WRK_SCRIPT % {
        "think_ms": think_ms,
        "cookies": ", ".join(f'"{c}"' for c in cookies),
        "paths": ", ".join('"' + p.replace('"', "") + '"' for p in paths),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as f:
        f.write(lua)
        f.flush()
        threads = min(len(cookies), users)
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{users}",
                f"-d{round(seconds)}s",
                "--timeout",
                "10s",
                "-s",
                f.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    return [float(v) for v in line.split()[1:]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stores", type=int, default=200)
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--monitors", type=int, default=2000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--think-ms", type=int, default=1000, help="mean pause of a user between pages")
    args = ap.parse_args()
    name = f"sg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    proc = None
    try:
        t0 = time.perf_counter()
        seed(url, args.stores, args.findings, args.monitors)
        print(f"seeded {args.stores} stores, {args.findings} findings, {args.monitors} monitors "
              f"in {time.perf_counter() - t0:.1f}s")  # fmt: skip
        cookies = session_cookies(url, 4)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "SHOPGUARD_DB": url, "SHOPGUARD_HOME": f"/tmp/{name}"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "shopguard", "serve", "--port", str(port), "--workers", str(args.workers),
             "--no-monitoring"],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        paths = [
            "/",
            "/findings",
            "/findings?severity=critical&page=3",
            "/api/v1/findings",
            "/api/v1/overview",
            "/monitoring",
            "/monitoring?page=20",
            "/monitoring?status=down",
            "/monitoring/monitor?key=store-001/m0001",
        ]
        run_wrk(base, cookies, paths, 4, 3)  # warm-up: every page once per process at least
        # The mixed run also asks for pages no other request asked for (other stores, later
        # pages, other monitors), so what is shared between users is not all it measures.
        rng = random.Random(7)
        mixed = [*paths]
        for _ in range(40):
            store = f"store-{rng.randrange(args.stores):03d}"
            m = rng.randrange(args.monitors)
            mixed += [
                f"/findings?store={store}",
                f"/findings?page={rng.randrange(1, 200)}",
                f"/monitoring/monitor?key=store-{m % args.stores:03d}/m{m:04d}",
            ]
        worst: dict[str, float] = {}
        for label, think in (("people", args.think_ms), ("stress", 0)):
            if label == "people":
                pause = f"{args.think_ms / 2000:.1f}-{args.think_ms * 1.5 / 1000:.1f}s"
                print(f"\n{args.users} users, each pausing {pause} between pages, "
                      f"{args.workers} server process(es), {args.seconds:.0f}s per page")  # fmt: skip
            else:
                print(f"\nstress: {args.users} connections, no pause (each sends its next request the moment "
                      f"the last is answered)")  # fmt: skip
            print(f"load before: {os.getloadavg()[0]:.2f}")
            print(f"{'page':45} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
            for p in [*paths, "mixed"]:
                chosen = mixed if p == "mixed" else [p]
                n, p50, p95, p99, secs, bad, timeouts, conn = run_wrk(
                    base, cookies, chosen, args.users, args.seconds, think
                )
                worst[label] = max(worst.get(label, 0.0), p95)
                print(
                    f"{p:45} {n / secs:7.1f} {p50:8.1f} {p95:8.1f} {p99:8.1f} {int(bad + timeouts + conn):6d}"
                )
            print(f"worst p95 ({label}): {worst[label]:.1f} ms (target: under 150 ms)")
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
