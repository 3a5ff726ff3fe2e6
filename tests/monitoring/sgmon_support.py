"""Real servers on loopback for the monitoring tests: HTTP targets, SMTP (aiosmtpd), a webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, parse_config
from shopguard.db import open_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Target:
    """A tiny HTTP site we can stop, start, slow down or make answer garbage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 200
        self.body = b"<html><body>Welcome to the shop</body></html>"
        self.delay = 0.0
        self.garbage = False
        self.hits = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target.hits += 1
                if target.delay:
                    time.sleep(target.delay)
                if target.garbage:
                    self.wfile.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
                    return
                try:
                    self.send_response(target.status)
                    self.send_header("Content-Length", str(len(target.body)))
                    self.end_headers()
                    self.wfile.write(target.body)
                except OSError:  # the client gave up (timeout tests)
                    pass

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        srv = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        srv.daemon_threads = True
        self._server = srv
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def target() -> Iterator[Target]:
    t = Target()
    t.start()
    yield t
    t.stop()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email
        import email.policy

        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        self.messages.append(f"Subject: {msg['Subject']}\nTo: {msg['To']}\n\n{text}")
        return "250 OK"

    def wait_for(self, pred: Callable[[str], bool], timeout: float = 10.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.messages:
                if pred(m):
                    return m
            time.sleep(0.02)
        raise AssertionError(f"no matching e-mail within {timeout} s; got {len(self.messages)} messages")


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    yield box, port
    ctl.stop()


class Webhook:
    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                hook.posts.append(json.loads(self.rfile.read(n) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    w = Webhook()
    yield w
    w.close()


@pytest.fixture
def db(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(f"sqlite:///{tmp_path / 'sg.db'}")


def mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=shopguard@example.test&to=owner@example.test&mode=insecure"


def make_config(
    url: str,
    monitors: list[dict[str, Any]],
    alerts: list[dict[str, Any]] | None = None,
    alerting: dict[str, Any] | None = None,
    **store_monitors: Any,
) -> Config:
    return parse_config(
        {
            "allow_inline_secrets": True,
            "alerts": alerts or [],
            "stores": [
                {
                    "name": "shop",
                    "storefront_url": url,
                    "monitors": {
                        "use_defaults": False,
                        "monitors": monitors,
                        "alerting": alerting or {"confirm": 2},
                        **store_monitors,
                    },
                }
            ],
        }
    )


def wait_until(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


class Running:
    """A Daemon running in its own thread and loop (as `shopguard monitor` would)."""

    def __init__(self, daemon: Any) -> None:
        import asyncio

        self.daemon = daemon
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.error: BaseException | None = None

        async def main() -> None:
            self.stop_event = asyncio.Event()
            await daemon.run(self.stop_event, lambda d: self._ready.set())

        def run() -> None:
            try:
                self.loop.run_until_complete(main())
            except BaseException as exc:
                self.error = exc
                self._ready.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self._ready.wait(15), "daemon did not start"
        if self.error:
            raise self.error

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run fn in the daemon's loop thread and return its result."""
        import asyncio

        async def wrap() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(20)
        assert not self.thread.is_alive(), "daemon did not stop"
        if self.error:
            raise self.error
