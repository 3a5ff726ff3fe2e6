"""The scoped client against real loopback servers, friendly and hostile."""

from __future__ import annotations

import asyncio
import time

import pytest
from webscan_helpers import make_store
from webscan_servers import Answer, Site, endless_body, gzip_bomb, redirect_to, serve, slow_answer, slow_drip

from shopguard.config import WebScan
from shopguard.scanning.web.client import (
    AddressRefused,
    BudgetExhausted,
    DeadlineReached,
    OutOfScope,
    Scope,
    ScopedClient,
    TooManyRedirects,
)


def client_for(url: str, **web: object) -> ScopedClient:
    return ScopedClient.for_store(make_store(url, **web))


async def test_reads_page_headers_and_body():
    site = Site({"/": Answer(200, {"Server": "Test/1.0"}, "<p>hello</p>")})
    with serve(site):
        async with client_for(site.url) as c:
            r = await c.get(site.url)
    assert r.status == 200 and r.text == "<p>hello</p>"
    assert r.headers["server"] == "Test/1.0"
    assert c.stats.requests == 1


async def test_loopback_storefront_allows_private_addresses_automatically():
    assert Scope.for_store(make_store("http://127.0.0.1:1/")).allow_private
    assert Scope.for_store(make_store("http://localhost:1/")).allow_private


async def test_refuses_host_outside_scope_without_a_request():
    site = Site({"/": Answer(200, {}, "x")})
    with serve(site):
        async with client_for(site.url) as c:
            with pytest.raises(OutOfScope):
                await c.get(f"http://localhost:{site.port}/")
    assert site.log == [] and c.stats.requests == 0


async def test_refuses_in_scope_host_that_resolves_to_loopback_when_not_allowed():
    site = Site({"/": Answer(200, {}, "x")})
    with serve(site):
        scope = Scope(frozenset({"localhost"}), allow_private=False)
        async with ScopedClient(scope, WebScan()) as c:
            with pytest.raises(AddressRefused, match="private or loopback"):
                await c.get(f"http://localhost:{site.port}/")
    assert site.log == []


async def test_offscope_redirect_recorded_not_followed():
    site = Site({"/": redirect_to("http://evil.example/steal")})
    with serve(site):
        async with client_for(site.url) as c:
            r = await c.get(site.url)
    assert r.status == 302 and r.blocked_redirect == "http://evil.example/steal"
    assert c.offscope_redirects == [(site.url, "http://evil.example/steal")]
    assert site.log == ["GET /"]


async def test_follows_in_scope_redirects_and_keeps_history():
    site = Site({"/": redirect_to("/a", 301), "/a": redirect_to("/b"), "/b": Answer(200, {}, "end")})
    with serve(site):
        async with client_for(site.url) as c:
            r = await c.get(site.url)
    assert r.text == "end" and [h.status for h in r.history] == [301, 302]


async def test_redirect_loop_stops():
    site = Site({"/": redirect_to("/a"), "/a": redirect_to("/")})
    with serve(site):
        async with client_for(site.url) as c:
            with pytest.raises(TooManyRedirects):
                await c.get(site.url)
    assert len(site.log) <= 3


async def test_request_budget_is_enforced():
    site = Site(default=Answer(200, {}, "x"))
    with serve(site):
        async with client_for(site.url, request_budget=3) as c:
            for i in range(3):
                await c.get(f"{site.url}p{i}")
            with pytest.raises(BudgetExhausted):
                await c.get(f"{site.url}p9")
    assert len(site.log) == 3


async def test_concurrency_limit_holds():
    site = Site(default=slow_answer(0.15, Answer(200, {}, "x")))
    with serve(site):
        async with client_for(site.url, concurrency=2) as c:
            await asyncio.gather(*(c.get(f"{site.url}p{i}") for i in range(6)))
    assert site.max_in_flight == 2


async def test_politeness_delay_spaces_request_starts():
    site = Site(default=Answer(200, {}, "x"))
    with serve(site):
        async with client_for(site.url, delay_ms=150, concurrency=4) as c:
            t = time.monotonic()
            await asyncio.gather(*(c.get(f"{site.url}p{i}") for i in range(4)))
            took = time.monotonic() - t
    assert took >= 0.45


async def test_slow_drip_cannot_hold_past_request_timeout():
    site = Site({"/": slow_drip(0.1)})
    with serve(site):
        async with client_for(site.url, timeout_s=0.8) as c:
            t = time.monotonic()
            with pytest.raises(DeadlineReached):
                await c.get(site.url)
    assert time.monotonic() - t < 2.0


async def test_overall_deadline_stops_every_request():
    site = Site(default=slow_drip(0.1))
    with serve(site):
        async with client_for(site.url, timeout_s=30, deadline_s=1.0) as c:
            t = time.monotonic()
            results = await asyncio.gather(
                *(c.get(f"{site.url}p{i}") for i in range(6)), return_exceptions=True
            )
    assert all(isinstance(r, DeadlineReached) for r in results)
    assert time.monotonic() - t < 2.5


async def test_endless_body_is_cut_at_the_size_limit():
    site = Site({"/": endless_body()})
    with serve(site):
        async with client_for(site.url, max_body_bytes=100_000) as c:
            r = await c.get(site.url)
    assert r.truncated and len(r.body) == 100_000


async def test_gzip_bomb_is_size_checked_while_decompressing():
    site = Site({"/": gzip_bomb(50 * 1024 * 1024)})
    with serve(site):
        async with client_for(site.url, max_body_bytes=1_000_000) as c:
            r = await c.get(site.url)
    assert r.truncated and len(r.body) == 1_000_000
    assert c.stats.bytes_read < 200_000  # stopped long before reading the whole bomb


async def test_plain_gzip_page_is_decoded():
    import gzip as gz

    site = Site({"/": Answer(200, {"Content-Encoding": "gzip"}, gz.compress(b"<html>ok</html>"))})
    with serve(site):
        async with client_for(site.url) as c:
            r = await c.get(site.url)
    assert r.text == "<html>ok</html>" and not r.truncated


async def test_same_page_is_fetched_once_for_many_checks():
    site = Site({"/": Answer(200, {}, "x")})
    with serve(site):
        async with client_for(site.url) as c:
            await asyncio.gather(*(c.get(site.url) for _ in range(5)))
    assert site.log == ["GET /"]
