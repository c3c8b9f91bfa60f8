"""Embedded servers: a failure to start says which server and why."""
from __future__ import annotations

import pytest

from server.embedded import DataDirLock, EmbeddedRedis, EmbeddedStartError, redis_server_binary


class BrokenRedis(EmbeddedRedis):
    def argv(self) -> list[str]:
        return [*super().argv(), "--no-such-option", "1"]


class MissingBinaryRedis(EmbeddedRedis):
    def argv(self) -> list[str]:
        return ["/nonexistent/redis-server"]


async def test_a_server_that_exits_during_start_is_named_with_its_reason(tmp_path):
    with pytest.raises(EmbeddedStartError) as info:
        await BrokenRedis(tmp_path).start(timeout=10)
    msg = str(info.value)
    assert "Redis" in msg and "exited during start-up" in msg
    assert "no-such-option" in msg or "Bad directive" in msg  # the server's own words


async def test_a_missing_binary_is_named(tmp_path):
    with pytest.raises(EmbeddedStartError, match="Redis.*could not be started"):
        await MissingBinaryRedis(tmp_path).start(timeout=5)


def test_redis_binary_is_found():
    assert redis_server_binary()


async def test_redis_runs_with_aof_under_its_data_dir(tmp_path):
    server = EmbeddedRedis(tmp_path)
    await server.start()
    try:
        import redis.asyncio as aioredis

        client = aioredis.from_url(server.uri)
        assert (await client.config_get("appendonly"))["appendonly"] == "yes"
        assert (await client.config_get("bind"))["bind"] == "127.0.0.1"
        await client.aclose()
    finally:
        await server.stop()
    assert (tmp_path / "redis").is_dir()


def test_data_dir_lock_is_exclusive(tmp_path):
    a, b = DataDirLock(tmp_path), DataDirLock(tmp_path)
    a.acquire()
    try:
        with pytest.raises(EmbeddedStartError, match="already using"):
            b.acquire()
    finally:
        a.release()
    b.acquire()
    b.release()
