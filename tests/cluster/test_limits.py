"""The fleet-wide semaphore against the machine's Redis."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from redis.asyncio import Redis

from shopguard.cluster.limits import Slots, SlotTimeout


@pytest.fixture
async def redis() -> Redis:
    r = Redis.from_url("redis://127.0.0.1:6379/0")
    yield r
    await r.aclose()


async def test_at_most_limit_holders_at_once(redis: Redis) -> None:
    slots = Slots(redis, f"sgt-{uuid.uuid4().hex}", lease_seconds=5)
    key = slots.key("host", "127.0.0.1:80")
    current = peak = 0

    async def one() -> None:
        nonlocal current, peak
        async with slots.hold([(key, 3)], wait_s=10):
            current += 1
            peak = max(peak, current)
            await asyncio.sleep(0.05)
            current -= 1

    await asyncio.gather(*(one() for _ in range(12)))
    assert peak == 3
    assert await slots.in_use("host", "127.0.0.1:80") == 0


async def test_a_dead_holder_frees_its_slot_when_the_lease_expires(redis: Redis) -> None:
    slots = Slots(redis, f"sgt-{uuid.uuid4().hex}", lease_seconds=1)
    key = slots.key("store", "s")
    # A holder that vanished without releasing (a worker killed with SIGKILL).
    assert await slots._try(key, 1, "dead-worker")
    with pytest.raises(SlotTimeout, match="no free slot"):
        async with slots.hold([(key, 1)], wait_s=0.3):
            pass
    start = time.monotonic()
    async with slots.hold([(key, 1)], wait_s=5):
        waited = time.monotonic() - start
    assert 0.3 < waited < 2.0


async def test_a_live_holder_keeps_its_slot_past_the_lease(redis: Redis) -> None:
    slots = Slots(redis, f"sgt-{uuid.uuid4().hex}", lease_seconds=1)
    key = slots.key("store", "s")
    async with slots.hold([(key, 1)], wait_s=1):
        await asyncio.sleep(1.6)  # renewed every third of the lease
        assert await slots.in_use("store", "s") == 1
        with pytest.raises(SlotTimeout):
            async with slots.hold([(key, 1)], wait_s=0.2):
                pass
