"""Redis: PING answers PONG."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
import redis.exceptions

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.secrets import resolve
from shopguard.monitoring.settings import RedisMonitor


async def probe(spec: RedisMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    password = resolve(spec.password, ctx.allow_inline_secrets, "password")
    client = aioredis.Redis.from_url(
        spec.url, password=password, socket_timeout=spec.timeout_s, socket_connect_timeout=spec.timeout_s
    )
    start = time.perf_counter()
    try:
        pong = await asyncio.wait_for(client.ping(), timeout=spec.timeout_s)
    except (redis.exceptions.RedisError, OSError, TimeoutError) as exc:
        return ProbeResult(Status.DOWN, f"redis: {type(exc).__name__}: {exc}"[:300])
    finally:
        await client.aclose()
    latency = (time.perf_counter() - start) * 1000.0
    if not pong:
        return ProbeResult(Status.DOWN, "redis did not answer PONG", latency)
    return ProbeResult(Status.UP, "PONG", latency)
