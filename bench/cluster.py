#!/usr/bin/env python3
"""Cluster benchmark: N synthetic stores (default 1,000) on local HTTP servers, audited by
1 and then 2 Celery worker processes through RabbitMQ, Redis and PostgreSQL.

Usage: .venv/bin/python bench/cluster.py [--stores 1000] [--servers 4] [--concurrency 1] [--repeats 3]

The synthetic stores are paths on a few loopback ports of one nginx (Debian's package).

Each store gets one light audit task (one real HTTP GET through the runner and the
storage layer) and the monitors of all stores run as batched tasks (200 stores per
task). Prints throughput (audit tasks/s), queue lag p50/p99 (enqueue to start),
PostgreSQL commits and row writes per second, CPU per store of the workers, of the
PostgreSQL backends serving the benchmark and of the synthetic HTTP servers (apart,
so they are not mistaken for ShopGuard's cost), the load average, and the scaling
ratio 2 workers / 1 of each pair of rounds. On a shared machine, run several pairs:
the ratio follows the CPU share the workers get (see docs/scaling.md).
Needs the machine's RabbitMQ (guest), Redis and PostgreSQL (trust); creates and
drops its own database and queues. No Debian tool distributes ShopGuard's checks,
so there is no anchor ratio; Celery itself is the engine being measured.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = str(Path(__file__).resolve().parent / "plugins")
sys.path.insert(0, PLUGINS)
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SELECTOR = "scanning.bench.fetch"


NGINX_CONF = """
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp;
    proxy_temp_path {d}/tmp;
    fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp;
    scgi_temp_path {d}/tmp;
{servers}
}}
"""


def start_stores(work: Path, n: int) -> tuple[subprocess.Popen[bytes], list[str]]:
    """nginx on ``n`` loopback ports, answering every path (each store is a path under one
    of them): the synthetic shops cost next to no CPU, so the workers' scaling is measured,
    not the test servers'."""
    ports = []
    for _ in range(n):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    answer = 'location / { default_type text/html; return 200 "<html>shop</html>"; }'
    servers = "\n".join(f"    server {{ listen 127.0.0.1:{p}; {answer} }}" for p in ports)
    (work / "tmp").mkdir(exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(d=work, servers=servers))
    proc = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(work), "-g", "daemon off;"], start_new_session=True
    )
    for port in ports:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            proc.kill()
            raise SystemExit(f"nginx did not listen on {port}; see {work / 'error.log'}")
    return proc, [f"http://127.0.0.1:{p}/" for p in ports]


def process_group_pids(pgid: int) -> set[int]:
    """Every live process of a process group (nginx's master and worker)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                out.add(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def pg_counters(dbname: str) -> tuple[int, int]:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database"
            " WHERE datname = %s",
            (dbname,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def group_cpu_s(pgids: set[int]) -> float:
    """CPU seconds (user + system) used so far by every live process of these process groups."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids:  # field 5 (pgrp) is index 2 after the comm
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def pids_cpu_s(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pg_backends(dbname: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` (ours alone: the server is shared)."""
    out = {}
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmd.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text.startswith("postgres: ") and f" {dbname} " in text:
            pid = int(cmd.parent.name)
            out[pid] = pids_cpu_s({pid})
    return out


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_busy_s() -> float:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def one_round(
    n_workers: int, args: argparse.Namespace, urls: list[str], work: Path, server_pids: set[int]
) -> dict[str, float | str]:
    from sqlalchemy import func, select

    from shopguard.cluster import enqueue_audit, enqueue_monitors
    from shopguard.cluster.models import ClusterTask
    from shopguard.config import load_config
    from shopguard.db import open_database

    dbname = f"sg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    prefix = f"sgbench-{uuid.uuid4().hex[:8]}"
    db_url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    text = f"""
[response]
auto_open = false
[cluster]
broker_url = "amqp://guest@127.0.0.1:5672//"
broker_password = {{env = "SG_BENCH_AMQP_PW"}}
result_backend = "redis://127.0.0.1:6379/0"
redis_url = "redis://127.0.0.1:6379/0"
database_url = "{db_url}"
queue_prefix = "{prefix}"
per_store_concurrency = 1
per_host_concurrency = 1000
monitor_batch_size = 200
"""
    for i in range(args.stores):
        text += f'[[stores]]\nname = "s{i}"\nstorefront_url = "{urls[i % len(urls)]}store{i}/"\n'
    cfg_path = work / f"{prefix}.toml"
    cfg_path.write_text(text)
    config = load_config(cfg_path)
    db = open_database(db_url)
    env = dict(os.environ, SHOPGUARD_PLUGINS="sg_bench_plugin", PYTHONPATH=PLUGINS, SG_BENCH_AMQP_PW="guest")
    procs = []
    logs = []
    for w in range(n_workers):
        log = work / f"{prefix}-w{w}.log"
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "shopguard", "worker", "--config", str(cfg_path),
             "-C", str(args.concurrency), "-n", f"b{w}-{prefix}@%h", "--loglevel", "WARNING"],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
    try:
        # Time starts when every worker is consuming (startup is not throughput), then
        # a short settle so that the pool processes are forked and idle.
        from shopguard.cluster.app import make_app

        names = {f"b{w}-{prefix}@{socket.gethostname()}" for w in range(n_workers)}
        control = make_app(config)
        deadline = time.time() + args.timeout
        while True:
            answered = {name for reply in control.control.ping(timeout=0.5) for name in reply}
            if names <= answered:
                break
            if time.time() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(f"workers did not start; see {logs}")
            time.sleep(0.2)
        time.sleep(args.warmup)
        xact0, rows0 = pg_counters(dbname)
        pgids = {p.pid for p in procs}
        cpu0, busy0 = group_cpu_s(pgids), machine_busy_s()
        srv0, own0, pg0 = pids_cpu_s(server_pids), pids_cpu_s({os.getpid()}), pg_backends(dbname)
        load0 = load_average()
        t0 = time.time()
        # Monitor batches first: they are the big tasks; queued last, the run's wall time
        # would hinge on whichever worker drew the final batch while the other sits idle.
        monitors = enqueue_monitors(config, config.stores, [SELECTOR])
        audit = enqueue_audit(config, config.stores, [SELECTOR])
        t_enq = time.time() - t0
        total = len(audit) + len(monitors)
        while True:
            with db() as s:
                done = s.scalar(
                    select(func.count()).select_from(ClusterTask).where(ClusterTask.status == "finished")
                )
            if done >= total:
                break
            if time.time() - t0 > args.timeout:
                raise SystemExit(f"timeout: {done}/{total} tasks finished; see {logs}")
            time.sleep(0.2)
        elapsed = time.time() - t0
        cpu1, busy1 = group_cpu_s(pgids), machine_busy_s()
        srv1, own1, pg1 = pids_cpu_s(server_pids), pids_cpu_s({os.getpid()}), pg_backends(dbname)
        pg_cpu = sum(v - pg0.get(pid, 0.0) for pid, v in pg1.items())
        load1 = load_average()
        time.sleep(1.0)  # PostgreSQL flushes its statistics counters about once a second
        xact1, rows1 = pg_counters(dbname)
        with db() as s:
            rows = s.execute(select(ClusterTask.kind, ClusterTask.enqueued_at, ClusterTask.started_at,
                                    ClusterTask.finished_at)).all()  # fmt: skip
        lags = [(st - enq).total_seconds() for _, enq, st, _ in rows]
        audit_durs = [(fin - st).total_seconds() for k, _, st, fin in rows if k == "audit"]
        monitor_durs = [(fin - st).total_seconds() for k, _, st, fin in rows if k == "monitor"]
        return {
            "workers": n_workers,
            "tasks": total,
            "enqueue_s": t_enq,
            "elapsed_s": elapsed,
            "stores_per_s": args.stores / elapsed,
            "tasks_per_s": total / elapsed,
            "lag_p50_s": pct(lags, 50),
            "lag_p99_s": pct(lags, 99),
            "audit_task_p50_s": pct(audit_durs, 50),
            "monitor_batch_p50_s": pct(monitor_durs, 50) if monitor_durs else 0.0,
            "pg_commits_per_s": (xact1 - xact0) / elapsed,
            "pg_rows_per_s": (rows1 - rows0) / elapsed,
            "pg_rows_per_store": (rows1 - rows0) / args.stores,
            "worker_cpu_ms_per_store": (cpu1 - cpu0) / args.stores * 1000,
            "pg_backend_cpu_ms_per_store": pg_cpu / args.stores * 1000,
            "http_servers_cpu_ms_per_store": (srv1 - srv0) / args.stores * 1000,
            "bench_cpu_ms_per_store": (own1 - own0) / args.stores * 1000,
            "machine_busy_ms_per_store": (busy1 - busy0) / args.stores * 1000,
            "machine_cpu_util": (busy1 - busy0) / elapsed / (os.cpu_count() or 1),
            "worker_cpu_util": (cpu1 - cpu0) / elapsed,
            "load_before": load0.replace(" ", "/"),
            "load_after": load1.replace(" ", "/"),
        }
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        from shopguard.cluster.app import make_app

        app = make_app(config)
        with app.connection_for_write() as conn:
            for q in config.cluster.queues if config.cluster else ():
                ch = conn.channel()
                with contextlib.suppress(Exception):
                    ch.queue_delete(q)
        db.kw["bind"].dispose()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _fmt(r: dict[str, float | str]) -> str:
    return " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stores", type=int, default=1000)
    ap.add_argument("--servers", type=int, default=4, help="local HTTP servers the stores are spread over")
    ap.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    ap.add_argument("--repeats", type=int, default=1, help="pairs of rounds (1 worker, then 2 workers)")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds to wait after the workers are ready")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    os.environ.setdefault("SG_BENCH_AMQP_PW", "guest")
    # A plain `kill` ends the rounds through their cleanup (workers, queues, database).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import sg_bench_plugin  # noqa: F401  (the publisher routes by the registered checks)

    store_dir = Path(tempfile.mkdtemp(prefix="sg-bench-nginx-"))
    nginx, urls = start_stores(store_dir, args.servers)
    server_pids = process_group_pids(nginx.pid)  # its own session: the group is nginx's processes
    ones: list[dict[str, float | str]] = []
    twos: list[dict[str, float | str]] = []
    ratios: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.repeats):
                for n, out in ((1, ones), (2, twos)):
                    r = one_round(n, args, urls, Path(tmp), server_pids)
                    out.append(r)
                    print(_fmt(r), flush=True)
                ratios.append(float(ones[-1]["elapsed_s"]) / float(twos[-1]["elapsed_s"]))
                print(f"scaling ratio 2 workers / 1 worker: {ratios[-1]:.2f}x (target 1.8x)", flush=True)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(store_dir, ignore_errors=True)
    if len(ratios) > 1:
        listed = ", ".join(f"{x:.2f}" for x in ratios)
        print(f"scaling ratios: {listed}; median {statistics.median(ratios):.2f}x")

    def med(rows: list[dict[str, float | str]], key: str) -> float:
        return statistics.median(float(r[key]) for r in rows)

    rows = ones + twos
    w, pg, srv = (med(rows, k) for k in ("worker_cpu_ms_per_store", "pg_backend_cpu_ms_per_store",
                                          "http_servers_cpu_ms_per_store"))  # fmt: skip
    writes = med(rows, "pg_rows_per_store")
    print(f"per store (1 audit + 1 monitor check): {writes:.1f} PostgreSQL row writes, "
          f"CPU: {w:.1f} ms ShopGuard worker, {pg:.1f} ms PostgreSQL backends, {srv:.1f} ms synthetic HTTP "
          f"servers (broker and Redis are shared with other jobs here: not attributable)")  # fmt: skip
    # What 2 cores allow: one worker is bound by its own CPU per store (it also waits for
    # the database and the broker, so it measures below that); any number of workers by the
    # CPU of everything on the machine per store. The ratio is bounded by the machine's
    # ceiling over what one worker measured.
    one = 1000 / w
    ceiling = 2 * 1000 / (w + pg + srv)
    measured_one = med(ones, "stores_per_s")
    best = min(2.0, ceiling / measured_one)
    print(f"2-core model from CPU alone: 1 worker <= {one:.0f} stores/s (measured {measured_one:.0f}); "
          f"the machine <= {ceiling:.0f} stores/s (workers + PostgreSQL + HTTP servers); "
          f"so a 2/1 ratio of at most {best:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
