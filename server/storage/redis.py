"""Redis through ``redis.asyncio`` (redis-py). Short-lived state only: nonces, counters,
rate limits, one-use markers. Records of truth live in MongoDB."""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.exceptions import RedisError


def make_client(url: str) -> aioredis.Redis:
    return aioredis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=3,
        socket_timeout=5,
        health_check_interval=30,
        retry_on_timeout=True,
    )


async def wait_until_reachable(client: aioredis.Redis, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await client.ping()
            return
        except (RedisError, OSError):
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.3)


class Keys:
    """Builds every Redis key this app writes, under one configurable prefix."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)


async def count_in_window(client: aioredis.Redis, key: str, ttl: int, delta: int = 1) -> int:
    """Add ``delta`` to a counter that expires ``ttl`` seconds after its last change."""
    async with client.pipeline(transaction=True) as pipe:
        pipe.incrby(key, delta)
        pipe.expire(key, ttl)
        value, _ = await pipe.execute()
    return int(value)
