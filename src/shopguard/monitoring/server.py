"""The daemon's small loopback HTTP endpoint: /metrics, /beat/STORE/NAME, /healthz.

Deliberately tiny (GET/POST, no bodies read): it binds to 127.0.0.1 by default;
put a reverse proxy in front if cron jobs on other machines must reach it.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from shopguard.monitoring.engine import Daemon

_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Error",
}


def _response(code: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> bytes:
    head = (
        f"HTTP/1.1 {code} {_REASONS.get(code, 'Error')}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _handle(daemon: Daemon, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        line = await asyncio.wait_for(reader.readline(), timeout=5.0)
        while True:  # drain headers
            h = await asyncio.wait_for(reader.readline(), timeout=5.0)
            if h in (b"\r\n", b"\n", b""):
                break
        parts = line.decode("latin-1").split()
        if len(parts) < 2:
            writer.write(_response(400, b"bad request\n"))
            return
        method, target = parts[0], parts[1]
        url = urlsplit(target)
        path = url.path
        if method not in {"GET", "POST", "HEAD"}:
            writer.write(_response(405, b"method not allowed\n"))
        elif path == "/metrics" and daemon.metrics is not None:
            writer.write(_response(200, daemon.metrics.render(), "text/plain; version=0.0.4; charset=utf-8"))
        elif path == "/healthz":
            body = {
                "monitors": len(daemon.monitors),
                "checks_done": daemon.checks_done,
                "db_pending": daemon.writer.pending if daemon.writer else 0,
            }
            writer.write(_response(200, json.dumps(body).encode(), "application/json"))
        elif path.startswith("/beat/"):
            bits = [unquote(b) for b in path[len("/beat/") :].split("/") if b]
            if len(bits) != 2:
                writer.write(_response(404, b"use /beat/STORE/MONITOR\n"))
            else:
                token = parse_qs(url.query).get("token", [None])[0]
                code, msg = daemon.record_beat(bits[0], bits[1], token)
                writer.write(_response(code, (msg + "\n").encode()))
        else:
            writer.write(_response(404, b"not found\n"))
    except (TimeoutError, ConnectionError, UnicodeDecodeError):
        pass
    finally:
        try:
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def start_server(daemon: Daemon, host: str, port: int) -> asyncio.Server:
    return await asyncio.start_server(lambda r, w: _handle(daemon, r, w), host, port)
