"""Real loopback HTTP servers for the web-scan tests, friendly and hostile.

A :class:`Site` maps paths to canned answers or to behaviours (slow drip, endless
body, gzip bomb, redirect loop). It runs a ThreadingHTTPServer on 127.0.0.1 on a
free port, optionally wrapped in TLS.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Answer:
    status: int = 200
    headers: Mapping[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    body: bytes | str = b""


Behaviour = Callable[[BaseHTTPRequestHandler], None]
Route = Answer | Behaviour


@dataclass
class Site:
    routes: dict[str, Route] = field(default_factory=dict)
    default: Route | None = None
    """Answer for unknown paths (404 when None)."""
    base_headers: list[tuple[str, str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    def route(self, path_qs: str) -> Route | None:
        if path_qs in self.routes:
            return self.routes[path_qs]
        path = path_qs.split("?", 1)[0]
        if path in self.routes:
            return self.routes[path]
        return self.default


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def send_response(self, code: int, message: str | None = None) -> None:
            # Like the base class but without its own Server header: tests set their own.
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def _serve(self) -> None:
            with site.lock:
                site.log.append(f"{self.command} {self.path}")
                site.in_flight += 1
                site.max_in_flight = max(site.max_in_flight, site.in_flight)
            try:
                route = site.route(self.path)
                if route is None:
                    route = Answer(404, {"Content-Type": "text/html"}, "<h1>Not Found</h1>")
                if isinstance(route, Answer):
                    self.answer(route)
                else:
                    route(self)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            finally:
                with site.lock:
                    site.in_flight -= 1

        def answer(self, a: Answer) -> None:
            body = a.body.encode() if isinstance(a.body, str) else a.body
            self.send_response(a.status)
            items = list(a.headers.items()) if isinstance(a.headers, Mapping) else list(a.headers)
            for k, v in site.base_headers + items:
                self.send_header(k, v)
            if not any(k.lower() == "content-type" for k, _ in items):
                self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = do_OPTIONS = _serve

    return Handler


@contextmanager
def serve(site: Site, *, tls: tuple[Path, Path] | None = None) -> Iterator[Site]:
    """Run ``site`` on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        site.scheme = "https"
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


# Hostile behaviours -------------------------------------------------------


def slow_drip(interval: float = 0.2) -> Behaviour:
    """Headers at once, then one body byte per interval, for ever."""

    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000000")
        h.end_headers()
        for _ in range(10_000):
            h.wfile.write(b"a")
            h.wfile.flush()
            time.sleep(interval)

    return run


def endless_body() -> Behaviour:
    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.end_headers()  # no length: the body ends when the connection does (never)
        h.close_connection = True
        chunk = b"x" * 65536
        for _ in range(1_000_000):
            h.wfile.write(chunk)

    return run


def gzip_bomb(size: int = 50 * 1024 * 1024) -> Behaviour:
    data = gzip.compress(b"\0" * size, compresslevel=9)

    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return run


def redirect_to(target: str, status: int = 302) -> Answer:
    return Answer(status, {"Location": target}, "")


def slow_answer(delay: float, answer: Answer) -> Behaviour:
    def run(h: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        h.answer(answer)  # type: ignore[attr-defined]

    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
