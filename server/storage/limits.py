"""Counters in Redis for rate limits and one-use markers: attempts per subject per day or
window (real-name tries, login failures), and "seen once" markers (assertion ``jti``s,
one-time passwords). Every domain uses this one implementation."""
from __future__ import annotations

import redis.asyncio as aioredis

from server.storage.redis import Keys, count_in_window


class Limits:
    def __init__(self, redis: aioredis.Redis, keys: Keys):
        self._redis = redis
        self._keys = keys

    async def add_day(self, what: str, subject: str, day: str) -> int:
        """Count one more attempt of ``what`` by ``subject`` on ``day`` (kept two days)."""
        return await count_in_window(self._redis, self._keys("attempts", what, subject, day), 2 * 86400)

    async def add_window(self, what: str, subject: str, ttl: int) -> int:
        """Count one more attempt in a window that ends ``ttl`` seconds after the last one."""
        return await count_in_window(self._redis, self._keys("attempts", what, subject), ttl)

    async def over(self, what: str, subjects: list[str], limit: int) -> int:
        """0 if every counter of ``what`` for ``subjects`` is under ``limit``; otherwise the
        seconds until the longest-blocked one falls away (its window ends)."""
        keys = [self._keys("attempts", what, s) for s in subjects]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.pttl(key)
            replies = await pipe.execute()
        waits = [max(1, (ttl + 999) // 1000) for value, ttl in zip(replies[::2], replies[1::2])
                 if value is not None and int(value) >= limit]
        return max(waits, default=0)

    async def add_windows(self, what: str, subjects: list[str], ttl: int) -> list[int]:
        """Count one more attempt for each subject (one round trip); the new counts."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for s in subjects:
                key = self._keys("attempts", what, s)
                pipe.incrby(key, 1)
                pipe.expire(key, ttl)
            replies = await pipe.execute()
        return [int(v) for v in replies[::2]]

    async def peek(self, what: str, subject: str) -> int:
        value = await self._redis.get(self._keys("attempts", what, subject))
        return int(value) if value else 0

    async def reset(self, what: str, subject: str) -> None:
        await self._redis.delete(self._keys("attempts", what, subject))

    async def first_use(self, what: str, token: str, ttl: int) -> bool:
        """True the first time ``token`` is seen within ``ttl`` seconds (one-time codes, jti)."""
        return bool(await self._redis.set(self._keys("used", what, token), b"1", ex=ttl, nx=True))
