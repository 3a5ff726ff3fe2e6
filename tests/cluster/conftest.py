"""A real fleet for the cluster tests: RabbitMQ broker, Redis results and slots, a
throwaway PostgreSQL database, demo shops, and two `shopguard worker` processes.

Queue names carry a random prefix so concurrent test runs never share queues.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from demo.run import DemoHandle
from demo.run import start as start_demo
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, load_config
from shopguard.db import open_database

PLUGINS = str(Path(__file__).parent / "plugins")
sys.path.insert(0, PLUGINS)
import sg_cluster_plugin  # noqa: E402,F401  (registers the test checks in this process too)

PG_ADMIN_URL = os.environ.get("SHOPGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BROKER_PASSWORD_ENV = "SG_TEST_BROKER_PASSWORD"
os.environ.setdefault(BROKER_PASSWORD_ENV, "guest")
N_SHOPS = 4
N_HOST_STORES = 8
HOST_LIMIT = 2
FETCH = "scanning.test-cluster.fetch"


class CountingServer(ThreadingHTTPServer):
    """Answers slowly and remembers how many requests it served at once."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _CountingHandler)
        self.delay = delay
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.total = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _CountingHandler(BaseHTTPRequestHandler):
    server: CountingServer

    def do_GET(self) -> None:
        srv = self.server
        with srv.lock:
            srv.current += 1
            srv.total += 1
            srv.peak = max(srv.peak, srv.current)
        try:
            time.sleep(srv.delay)
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with srv.lock:
                srv.current -= 1

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Worker:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.write_bytes(b"")
        out = self.log.open("ab")
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=out, start_new_session=True)

    def wait_ready(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
            tail = self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"worker {self.name} not ready:\n{tail}"
            time.sleep(0.1)

    def owns(self, pid: int) -> bool:
        """``pid`` is this worker's main process or one of its pool processes."""
        assert self.proc is not None
        try:
            return os.getpgid(pid) == self.proc.pid
        except ProcessLookupError:
            return False

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with_group = self.proc.pid
        os.killpg(with_group, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(with_group, signal.SIGKILL)
            self.proc.wait(timeout=10)


@dataclass
class Fleet:
    config_path: Path
    config: Config
    db: sessionmaker[Session]
    shops: list[DemoHandle]
    counter: CountingServer
    roots: dict[str, Path]
    workers: list[Worker] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    prefix: str = ""


def _store(name: str, url: str, root: Path) -> str:
    return f'[[stores]]\nname = "{name}"\nstorefront_url = "{url}"\nweb_roots = ["{root}"]\n'


def cluster_toml(db_url: str, prefix: str, broker: str = "amqp://guest@127.0.0.1:5672//") -> str:
    return f"""
[cluster]
broker_url = "{broker}"
broker_password = {{env = "{BROKER_PASSWORD_ENV}"}}
result_backend = "redis://127.0.0.1:6379/0"
redis_url = "redis://127.0.0.1:6379/0"
database_url = "{db_url}"
queue_prefix = "{prefix}"
per_store_concurrency = 1
per_host_concurrency = {HOST_LIMIT}
lease_seconds = 3
max_attempts = 2
refuse_retries = 0
publish_attempts = 3
check_timeout = 30
monitor_batch_size = 50
"""


@pytest.fixture(scope="module")
def cluster_db() -> Iterator[str]:
    name = f"sg_cluster_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _delete_queues(config: Config) -> None:
    from shopguard.cluster.app import make_app

    assert config.cluster is not None
    app = make_app(config)
    with app.connection_for_write() as conn:
        for q in config.cluster.queues:
            ch = conn.channel()
            try:
                ch.queue_delete(q)
            except Exception:
                pass
            finally:
                with contextlib.suppress(Exception):
                    ch.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, cluster_db: str) -> Iterator[Fleet]:
    base = tmp_path_factory.mktemp("fleet")
    prefix = f"sgt-{uuid.uuid4().hex[:10]}"
    shops = [start_demo(shop_port=0, provider_port=0) for _ in range(N_SHOPS)]
    counter = CountingServer(delay=0.4)
    threading.Thread(target=counter.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    roots: dict[str, Path] = {}
    text = cluster_toml(cluster_db, prefix)
    stores: list[tuple[str, str]] = [(f"shop{i}", h.shop_url) for i, h in enumerate(shops)]
    stores += [(f"host{i}", f"{counter.url}store{i}/") for i in range(N_HOST_STORES)]
    stores += [("poison", "http://127.0.0.1:9/")]
    for name, url in stores:
        roots[name] = base / "roots" / name
        roots[name].mkdir(parents=True)
        text += _store(name, url, roots[name])
    (roots["poison"] / "crash").write_text("1")
    cfg_path = base / "shopguard.toml"
    cfg_path.write_text(text)
    config = load_config(cfg_path)
    db = open_database(cluster_db)
    env = dict(os.environ, SHOPGUARD_PLUGINS="sg_cluster_plugin", PYTHONPATH=PLUGINS)
    env.pop("SHOPGUARD_DB", None)
    workers = []
    for i in (1, 2):
        cmd = [sys.executable, "-m", "shopguard", "worker", "--config", str(cfg_path), "-C", "2",
               "--name", f"w{i}-{prefix}@%h", "--loglevel", "INFO"]  # fmt: skip
        workers.append(Worker(f"w{i}", cmd, env, base / f"worker{i}.log"))
    for w in workers:
        w.start()
    try:
        for w in workers:
            w.wait_ready()
        yield Fleet(cfg_path, config, db, shops, counter, roots, workers, env, prefix)
    finally:
        for w in workers:
            w.stop()
        for h in shops:
            h.stop()
        counter.shutdown()
        counter.server_close()
        _delete_queues(config)
        db.kw["bind"].dispose()
