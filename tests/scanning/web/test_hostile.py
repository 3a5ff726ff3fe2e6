"""Hostile servers: broken TLS, a TLS server that never answers, catch-all 200 pages."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from webscan_helpers import findings_of, make_store, run_web_checks
from webscan_servers import Answer, Site, serve

from shopguard.findings import Severity
from shopguard.scanning.web.client import FetchError, ScopedClient
from shopguard.scanning.web.tls import gather_facts


@contextmanager
def raw_server(behaviour: str) -> Iterator[int]:
    """A TCP server that answers a TLS ClientHello with garbage, or with nothing."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.1)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conns.append(conn)
            if behaviour == "garbage":
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS at all" * 10)
                finally:
                    conn.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join(2)
        for c in conns:
            c.close()
        srv.close()


async def test_broken_tls_is_a_finding_not_a_crash():
    with raw_server("garbage") as port:
        store = make_store(f"https://127.0.0.1:{port}/")
        runs = await run_web_checks(store, ["scanning.web.tls", "scanning.web.reachable"])
    tls = runs["scanning.web.tls"].findings
    assert [(f.check_id, f.severity) for f in tls] == [("scanning.web.tls.handshake", Severity.HIGH)]
    reach = runs["scanning.web.reachable"].findings
    assert reach and reach[0].severity is Severity.HIGH
    assert "TLS handshake failed" in reach[0].evidence["error"]


async def test_silent_tls_server_is_bounded_by_timeouts():
    with raw_server("silent") as port:
        t = time.monotonic()
        facts = await gather_facts("127.0.0.1", port, "127.0.0.1", timeout=1.0)
        assert not facts.reachable and facts.error == "timed out"
        async with ScopedClient.for_store(make_store(f"https://127.0.0.1:{port}/", timeout_s=1.0)) as c:
            try:
                await c.get(f"https://127.0.0.1:{port}/")
                raise AssertionError("expected a FetchError")
            except FetchError:
                pass
    assert time.monotonic() - t < 4


async def test_catch_all_200_shop_gives_no_exposure_false_positives():
    env_like = "APP_NAME=shop\nAPP_ENV=production\n"  # the shop answers this for *every* path
    for body in (env_like,):
        site = Site(default=Answer(200, {"Content-Type": "text/plain"}, body))
        with serve(site):
            store = make_store(site.url, concurrency=8)
            runs = await run_web_checks(
                store, ["scanning.web.exposures", "scanning.web.directory-listing", "scanning.web.admin"]
            )
        assert {k: r.findings for k, r in runs.items()} == {k: [] for k in runs}, body
        assert not any(r.errored for r in runs.values())


async def test_exposures_confirmed_by_content_only():
    site = Site(
        {
            "/": Answer(200, {}, "<html>shop</html>"),
            "/.git/config": Answer(200, {"Content-Type": "text/plain"}, "[core]\n\tbare = false\n"),
            "/.env": Answer(200, {}, "<html><body>Welcome to our shop</body></html>"),  # HTML: a soft 404
            "/phpinfo.php": Answer(
                200, {}, "<html><head><title>phpinfo()</title></head>PHP Version 8.2</html>"
            ),
            "/backup.zip": Answer(200, {"Content-Type": "application/zip"}, b"PK\x03\x04" + b"\0" * 100),
            "/composer.json": Answer(200, {}, "not json at all"),
        },
        default=Answer(404, {}, "nope"),
    )
    with serve(site):
        found = await findings_of(make_store(site.url, concurrency=8), "scanning.web.exposures")
    got = {f.key: f.severity for f in found}
    assert got == {
        "/.git/config": Severity.HIGH,
        "/phpinfo.php": Severity.MEDIUM,
        "/backup.zip": Severity.CRITICAL,
    }


async def test_a_sweep_cut_short_by_the_budget_is_an_error_not_a_clean_result():
    site = Site(default=Answer(404, {}, "nope"))
    with serve(site):
        runs = await run_web_checks(make_store(site.url, request_budget=20), ["scanning.web.exposures"])
    run = runs["scanning.web.exposures"]
    assert run.errored and "request budget of 20 spent" in run.message


@contextmanager
def legacy_tls_server(supported: set[int], versions: frozenset[int] = frozenset({0x0303})) -> Iterator[int]:
    """Answers a ClientHello with a ServerHello choosing an offered suite it 'supports'
    (as an old OpenSSL 1.0 server with RC4/3DES would), or a handshake_failure alert."""
    import struct

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.1)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            data = b""
            while len(data) < 5 or len(data) < 5 + struct.unpack("!H", data[3:5])[0]:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            hs = data[5:]
            off = 4 + 2 + 32
            off += 1 + hs[off]
            n = struct.unpack("!H", hs[off : off + 2])[0]
            offered = [struct.unpack("!H", hs[off + 2 + i : off + 4 + i])[0] for i in range(0, n, 2)]
            chosen = next((s for s in offered if s in supported), None)
            client_version = struct.unpack("!H", hs[4:6])[0]
            if chosen is None or client_version not in versions:
                conn.sendall(b"\x15\x03\x03\x00\x02\x02\x28")
                return
            body = (
                struct.pack("!H", client_version)
                + b"\x11" * 32
                + b"\x00"
                + struct.pack("!H", chosen)
                + b"\x00"
            )
            msg = b"\x02" + struct.pack("!I", len(body))[1:] + body
            conn.sendall(b"\x16\x03\x03" + struct.pack("!H", len(msg)) + msg)

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join(2)
        srv.close()


async def test_raw_client_hello_detects_suites_openssl3_cannot_offer():
    from shopguard.scanning.web.tls import RAW_FAMILIES, raw_suite_accepted

    with legacy_tls_server({0x0005, 0x000A}) as port:  # RC4-SHA, DES-CBC3-SHA
        got = {
            name: await raw_suite_accepted("127.0.0.1", port, "shop.example", ids, 2.0)
            for name, ids in RAW_FAMILIES.items()
        }
    assert got == {"RC4": True, "3DES": True, "DES": False, "EXPORT": False}


async def test_sslv3_probe():
    from shopguard.scanning.web.tls import SSL3_SUITES, raw_suite_accepted

    with legacy_tls_server({0x002F}, frozenset({0x0300, 0x0303})) as port:
        assert await raw_suite_accepted("127.0.0.1", port, "h", SSL3_SUITES, 2.0, version=0x0300)
    with legacy_tls_server({0x002F}) as port:
        assert not await raw_suite_accepted("127.0.0.1", port, "h", SSL3_SUITES, 2.0, version=0x0300)
