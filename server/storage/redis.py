"""Redis through ``redis.asyncio`` (redis-py). Short-lived state only: nonces, counters,
rate limits, one-use markers. Records of truth live in MongoDB."""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError


def make_client(url: str, timeout: float = 2.0) -> aioredis.Redis:
    """A client whose every command ends within ``timeout`` (no retry of a timeout, so a
    stalled server is reported quickly); a dropped connection is retried once on a new one
    (the server was restarted)."""
    return aioredis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        retry_on_timeout=False,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
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
