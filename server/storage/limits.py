"""Counters in Redis for rate limits and one-use markers: attempts per subject per day or
window (real-name tries, login failures), and "seen once" markers (assertion ``jti``s,
one-time passwords). Every domain uses this one implementation."""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from server.storage.redis import Keys, ScriptBatcher, count_in_window

# Never below zero, never a counter without its window's expiry.
_REFUND_LUA = ("local v = tonumber(redis.call('GET', KEYS[1])) "
               "if v and v > 0 then return redis.call('DECR', KEYS[1]) end return 0")


class Limits:
    def __init__(self, redis: aioredis.Redis, keys: Keys):
        self._redis = redis
        self._keys = keys
        self._refund = redis.register_script(_REFUND_LUA)
        self._batch = ScriptBatcher(redis)

    async def add_day(self, what: str, subject: str, day: str) -> int:
        """Count one more attempt of ``what`` by ``subject`` on ``day`` (kept two days)."""
        return await count_in_window(self._redis, self._keys("attempts", what, subject, day), 2 * 86400)

    async def add_window(self, what: str, subject: str, ttl: int) -> int:
        """Count one more attempt in a window that ends ``ttl`` seconds after the last one."""
        return await count_in_window(self._redis, self._keys("attempts", what, subject), ttl)

    async def spend(self, what: str, subjects: list[str], limit: int, window: int) -> tuple[int, int]:
        """Take one guess from each subject's budget of ``limit`` per ``window`` seconds (a
        fixed window from the first guess), counted before the guess is checked so that
        simultaneous guesses from several processes cannot all slip under the limit.
        (0, highest count) when every budget had one left; otherwise (seconds until the
        longest-blocked window ends, highest count). ``refund`` a guess that was right."""
        keys = [self._keys("attempts", what, s) for s in subjects]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, b"0", ex=window, nx=True)
                pipe.incrby(key, 1)
                pipe.pttl(key)
            replies = await pipe.execute()
        counts, ttls = [int(c) for c in replies[1::3]], replies[2::3]
        waits = [max(1, (ttl + 999) // 1000) for count, ttl in zip(counts, ttls) if count > limit]
        return max(waits, default=0), max(counts)

    async def refund(self, what: str, subjects: list[str]) -> None:
        """Give back a guess taken with ``spend`` (it was right); a window that ended meanwhile
        stays ended."""
        await asyncio.gather(*(self._batch.run(self._refund, [self._keys("attempts", what, s)], [])
                               for s in subjects))

    async def peek(self, what: str, subject: str) -> int:
        value = await self._redis.get(self._keys("attempts", what, subject))
        return int(value) if value else 0

    async def reset(self, what: str, subject: str) -> None:
        await self._redis.delete(self._keys("attempts", what, subject))

    async def first_use(self, what: str, token: str, ttl: int) -> bool:
        """True the first time ``token`` is seen within ``ttl`` seconds (one-time codes, jti)."""
        return bool(await self._redis.set(self._keys("used", what, token), b"1", ex=ttl, nx=True))
