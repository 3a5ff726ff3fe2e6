"""Fleet-wide concurrency limits: a counting semaphore in Redis with expiring leases.

Each holder adds a token to a sorted set scored by its expiry time. Acquiring first
drops expired tokens (a worker killed with SIGKILL frees its slot after
``lease_seconds``), then adds a token only while fewer than ``limit`` remain: one Lua
script, so it is atomic across every worker. Live holders renew their lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence

from redis.asyncio import Redis

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""
_RENEW = """
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""


class SlotTimeout(TimeoutError):
    """No slot became free in time; the task is retried later."""


class Slots:
    """Acquire several limited slots (e.g. one per store and one per host) together."""

    def __init__(self, redis: Redis, prefix: str, lease_seconds: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lease = lease_seconds
        # EVALSHA: the scripts are sent once per server, not with every call.
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew_script = redis.register_script(_RENEW)

    def key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:slots:{kind}:{name}"

    async def _try(self, key: str, limit: int, token: str) -> bool:
        now = time.time()
        got = await self._acquire(
            keys=[key], args=[now, limit, now + self.lease, token, int(self.lease * 2000)]
        )
        return bool(got)

    async def _release(self, keys: Sequence[str], token: str) -> None:
        for key in keys:
            await self.redis.zrem(key, token)

    async def _renew(self, keys: Sequence[str], token: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            for key in keys:
                await self._renew_script(
                    keys=[key], args=[time.time() + self.lease, token, int(self.lease * 2000)]
                )

    @contextlib.asynccontextmanager
    async def hold(self, limits: Sequence[tuple[str, int]], wait_s: float) -> AsyncIterator[None]:
        """Hold one slot of every ``(key, limit)``; all or none, so no deadlock between holders."""
        token = uuid.uuid4().hex
        keys = sorted({k for k, _ in limits})
        limit_of = dict(limits)
        deadline = time.monotonic() + wait_s
        pause = 0.02
        while True:
            taken: list[str] = []
            for key in keys:
                if await self._try(key, limit_of[key], token):
                    taken.append(key)
                else:
                    break
            if len(taken) == len(keys):
                break
            await self._release(taken, token)
            if time.monotonic() >= deadline:
                raise SlotTimeout(f"no free slot for {', '.join(keys)} within {wait_s:g} s")
            await asyncio.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 1.5, 1.0)
        renew = asyncio.create_task(self._renew(keys, token))
        try:
            yield
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            await self._release(keys, token)

    async def in_use(self, kind: str, name: str) -> int:
        key = self.key(kind, name)
        await self.redis.zremrangebyscore(key, "-inf", time.time())
        return int(await self.redis.zcard(key))
