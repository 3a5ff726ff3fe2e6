"""Benchmark: N HTTP monitors at a 60 s interval against fast local servers.

    .venv/bin/python bench/monitoring.py --n 1000 --n 10000 --seconds 150

What it does, per N:
* starts Debian's nginx (one worker) on 4 loopback ports, answering every path;
* writes a config with N HTTP monitors (interval 60 s, real-time: NOT compressed),
  each on its own path (/p/<i>), spread over the 4 ports;
* runs the real daemon (``shopguard.monitoring.engine.Daemon``, SQLite storage in
  WAL mode, metrics endpoint off) in a child process for ``--seconds``;
* measures from outside (psutil) the child's CPU % of one core and RSS over the
  steady-state part (after the first ``--warmup`` seconds: startup, imports and
  config validation excluded), and from inside: start lateness of every check
  (actual start - scheduled start on the monotonic clock), checks done, rows
  written to the database per second.

Targets from issue 7: 10,000 monitors at 60 s on one core, lateness p99 < 1 s,
CPU < 50 % of one core, memory < 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PORTS = 4


def _nginx(tmp: Path, ports: list[int]) -> subprocess.Popen[bytes]:
    servers = "\n".join(
        f"server {{ listen 127.0.0.1:{p} backlog=4096; access_log off; "
        f'location / {{ default_type text/plain; return 200 "ok\\n"; }} }}'
        for p in ports
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path {tmp}/cb; proxy_temp_path {tmp}/px; fastcgi_temp_path {tmp}/fc;
  uwsgi_temp_path {tmp}/uw; scgi_temp_path {tmp}/sc;
  {servers}
}}
"""
    )
    proc = subprocess.Popen(["/usr/sbin/nginx", "-c", str(conf), "-p", str(tmp)], stderr=subprocess.PIPE)
    time.sleep(0.5)
    if proc.poll() is not None:
        raise SystemExit(f"nginx did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
    return proc


def _free_ports(n: int) -> list[int]:
    import socket

    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def child(n: int, seconds: float, ports: list[int], dbpath: str, out: str) -> None:
    """Run the daemon for ``seconds`` and write its own figures to ``out``."""
    from shopguard.config import parse_config
    from shopguard.db import open_database
    from shopguard.monitoring.engine import Daemon

    monitors = [
        {
            "kind": "http",
            "name": f"m{i}",
            "url": f"http://127.0.0.1:{ports[i % len(ports)]}/p/{i}",
            "interval_s": 60,
            "timeout_s": 10,
        }
        for i in range(n)
    ]
    cfg = parse_config(
        {
            "stores": [
                {
                    "name": "bench",
                    "storefront_url": f"http://127.0.0.1:{ports[0]}/",
                    "monitors": {"use_defaults": False, "monitors": monitors},
                }
            ]
        }
    )
    db = None if os.environ.get("SG_BENCH_NO_DB") else open_database(f"sqlite:///{dbpath}")
    daemon = Daemon(cfg, db, listen=None)

    async def main() -> None:
        stop = asyncio.Event()
        marks: dict[str, float] = {}

        def ready(d: Daemon) -> None:
            marks["ready"] = time.monotonic()
            Path(out + ".ready").write_text("1")

        async def stopper() -> None:
            while "ready" not in marks:
                await asyncio.sleep(0.05)
            await asyncio.sleep(seconds)
            import faulthandler

            faulthandler.dump_traceback_later(30, exit=False)
            stop.set()

        async def progress() -> None:
            while not stop.is_set():
                await asyncio.sleep(10)
                lat = list(daemon.lateness)[-2000:]
                lat.sort()
                p99 = lat[int(len(lat) * 0.99)] if lat else 0.0
                print(
                    f"  [{time.monotonic() - marks.get('ready', 0):5.0f} s] checks {daemon.checks_done} "
                    f"running {len(daemon._tasks)} recent p99 {p99 * 1000:.0f} ms db pending "
                    f"{daemon.writer.pending if daemon.writer else 0}",
                    file=sys.stderr,
                    flush=True,
                )

        task = asyncio.get_running_loop().create_task(stopper())
        prog = asyncio.get_running_loop().create_task(progress())
        await daemon.run(stop, ready)
        print("  daemon stopped", file=sys.stderr, flush=True)
        await task
        prog.cancel()

    asyncio.run(main())
    lat = sorted(daemon.lateness)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q / 100 * len(lat)))] if lat else float("nan")

    from shopguard.monitoring.persist import Writer

    w = daemon.writer or Writer.__new__(Writer)
    if daemon.writer is None:
        w.rows_written = w.flushes = w.failures = 0
    Path(out).write_text(
        json.dumps(
            {
                "checks": daemon.checks_done,
                "starts": len(lat),
                "lateness_p50": pct(50),
                "lateness_p99": pct(99),
                "lateness_max": lat[-1] if lat else None,
                "rows_written": w.rows_written,
                "flushes": w.flushes,
                "db_failures": w.failures,
                "skipped_overlaps": sum(m.skipped for m in daemon.monitors.values()),
                "down": sum(1 for m in daemon.monitors.values() if m.state.status == "down"),
            }
        )
    )


def measure(n: int, seconds: float, warmup: float) -> dict[str, float]:
    import psutil

    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-"))
    ports = _free_ports(PORTS)
    nginx = _nginx(tmp, ports)
    out = str(tmp / "result.json")
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                str(n),
                str(seconds),
                ",".join(map(str, ports)),
                str(tmp / "sg.db"),
                out,
            ]
        )
        ps = psutil.Process(proc.pid)
        while not Path(out + ".ready").exists():
            if proc.poll() is not None:
                raise SystemExit("daemon child failed to start")
            time.sleep(0.05)
        startup = time.monotonic() - t0
        time.sleep(warmup)
        c0 = sum(ps.cpu_times()[:2])
        w0 = time.monotonic()
        rss_max = 0
        while time.monotonic() - w0 < seconds - warmup - 2:
            rss_max = max(rss_max, ps.memory_info().rss)
            time.sleep(0.5)
        c1 = sum(ps.cpu_times()[:2])
        w1 = time.monotonic()
        proc.wait(timeout=seconds + 120)
        res = json.loads(Path(out).read_text())
        res.update(
            n=n,
            seconds=seconds,
            startup_s=round(startup, 2),
            cpu_percent_one_core=round(100.0 * (c1 - c0) / (w1 - w0), 1),
            rss_max_mb=round(rss_max / 2**20, 1),
            db_rows_per_s=round(res["rows_written"] / seconds, 1),
            checks_per_s=round(res["checks"] / seconds, 1),
        )
        return res
    finally:
        nginx.terminate()
        nginx.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--n", type=int, action="append", help="monitor count (repeatable); default 1000 and 10000"
    )
    ap.add_argument("--seconds", type=float, default=150.0, help="run time per N (default 150 s)")
    ap.add_argument("--warmup", type=float, default=20.0, help="seconds excluded from CPU figures")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, secs, ports, db, out = args.child
        child(int(n), float(secs), [int(p) for p in ports.split(",")], db, out)
        return
    print(
        f"machine: {os.cpu_count()} CPUs; interval 60 s, real time (not compressed); "
        f"nginx x1 worker, {PORTS} ports"
    )
    for n in args.n or [1000, 10000]:
        r = measure(n, args.seconds, args.warmup)
        print(
            f"N={n:>6}: checks {r['checks']} ({r['checks_per_s']}/s, expected {n / 60:.1f}/s), "
            f"lateness p50 {r['lateness_p50'] * 1000:.1f} ms p99 {r['lateness_p99'] * 1000:.1f} ms "
            f"max {r['lateness_max'] * 1000:.0f} ms, CPU {r['cpu_percent_one_core']}% of one core, "
            f"RSS max {r['rss_max_mb']} MB, DB {r['db_rows_per_s']} rows/s in {r['flushes']} flushes, "
            f"down {r['down']}, overlaps skipped {r['skipped_overlaps']}, startup {r['startup_s']} s"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
