"""The hot path's pipelined Redis client: ordering under concurrency, errors, a lost
connection, a Redis that stops answering, and reconnecting."""
from __future__ import annotations

import asyncio

import hiredis
import pytest

from server.storage.fastredis import FastRedis


async def test_concurrent_calls_get_their_own_replies(backends):
    client = FastRedis(backends.redis_url)
    try:
        await asyncio.gather(*(client.call("SET", f"fr:k{i}", f"v{i}") for i in range(200)))
        got = await asyncio.gather(*(client.call("GET", f"fr:k{i}") for i in range(200)))
        assert got == [f"v{i}".encode() for i in range(200)]
        assert await client.call("MGET", "fr:k1", "fr:nope") == [b"v1", None]
    finally:
        await client.close()


async def test_error_replies_raise_and_the_connection_stays_usable(backends):
    client = FastRedis(backends.redis_url)
    try:
        with pytest.raises(hiredis.ReplyError):
            await client.call("NOSUCHCOMMAND")
        assert await client.call("PING") in (b"PONG", "PONG")
        script = "return ARGV[1]"
        import hashlib

        sha = hashlib.sha1(script.encode()).hexdigest()
        await client.call("SCRIPT", "FLUSH")
        assert await client.evalsha_or_load(sha, script, [], ["x"]) == b"x"  # loaded on NOSCRIPT
    finally:
        await client.close()


async def test_a_silent_server_fails_pending_calls_and_the_next_call_reconnects():
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)  # accepts, never answers
    port = silent.sockets[0].getsockname()[1]
    client = FastRedis(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    try:
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(client.call("PING"), 5)
    finally:
        await client.close()
        silent.close()


async def test_lost_connection_fails_pending_and_reconnects(backends, tmp_path):
    from server.embedded import EmbeddedRedis

    own = EmbeddedRedis(tmp_path)
    await own.start()
    client = FastRedis(own.uri)
    try:
        assert await client.call("SET", "a", "1") in (b"OK", "OK")
        await own.stop()
        with pytest.raises((ConnectionError, OSError)):
            await client.call("GET", "a")
    finally:
        await client.close()
