"""The Redis client in its modes: the same code on one server, a Cluster and a master found
through Sentinel; scripts batched into one pipeline keep each call's own reply and error."""
from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ResponseError

from server.config import RedisConfig
from server.embedded import EmbeddedRedisSentinel
from server.storage.redis import Keys, ScriptBatcher, describe, make_client

pytestmark = pytest.mark.redis_modes

_COUNT = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
_FAIL = "return redis.error_reply('refused ' .. ARGV[1])"


def client_for(backends):
    cfg = RedisConfig(mode=backends.redis_mode, nodes=list(backends.redis_nodes))
    return make_client(cfg, backends.redis_url)


async def test_batched_scripts_each_get_their_own_reply_across_slots(backends):
    redis = client_for(backends)
    keys = Keys(f"t{id(redis)}:", one_node=backends.redis_mode != "cluster")
    try:
        batcher = ScriptBatcher(redis)
        count, fail = redis.register_script(_COUNT), redis.register_script(_FAIL)
        names = [keys.tagged(f"n:{i % 40}", "c") for i in range(200)]  # 40 tags: every node of a cluster
        replies = await asyncio.gather(*(batcher.run(count, [k], [1]) for k in names))
        assert sorted(replies)[-1] == 5 and sorted(replies)[0] == 1
        assert [int(await redis.get(keys.tagged(f"n:{i}", "c"))) for i in range(40)] == [5] * 40

        # One call's error is that call's: the others in the same pipeline succeed.
        mixed = await asyncio.gather(batcher.run(count, [names[0]], [10]), batcher.run(fail, [names[1]], ["x"]),
                                     batcher.run(count, [names[2]], [10]), return_exceptions=True)
        assert mixed[0] == 15 and mixed[2] == 15
        assert isinstance(mixed[1], ResponseError) and "refused x" in str(mixed[1])

        # A server that lost its scripts (a restart, SCRIPT FLUSH) gets them again.
        await redis.script_flush()
        again = await asyncio.gather(*(batcher.run(count, [k], [1]) for k in names[:40]))
        assert again == [16, 6, 16] + [6] * 37
    finally:
        await redis.aclose()


async def test_a_script_touching_two_tags_is_refused_only_on_a_cluster(backends):
    redis = client_for(backends)
    try:
        both = redis.register_script("redis.call('SET', KEYS[1], 1) redis.call('SET', KEYS[2], 1) return 1")
        k = Keys(f"t{id(redis)}:")
        call = both(keys=[k.tagged("a", "x"), k.tagged("b", "x")])
        if backends.redis_mode == "cluster":
            with pytest.raises(Exception, match="(?i)crossslot|slot"):
                await call
        else:
            assert await call == 1
    finally:
        await redis.aclose()


async def test_events_published_anywhere_reach_a_subscriber(backends):
    """Pub/sub on a cluster is broadcast: a message published through any node arrives."""
    redis = client_for(backends)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    channels = [f"t{id(redis)}:events:{i}" for i in range(20)]
    try:
        await redis.ping()  # as the app does at start: redis-py's cluster pub/sub needs the slots known
        await pubsub.subscribe(*channels)
        for c in channels:
            await redis.publish(c, c.encode())
        got = set()
        for _ in range(200):
            msg = await pubsub.get_message(timeout=0.2)
            if msg:
                got.add(msg["data"].decode())
            if len(got) == len(channels):
                break
        assert got == set(channels)
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def test_a_burst_beyond_the_pool_waits_for_a_connection_instead_of_failing(backends):
    """redis-py's default pool raises "Too many connections" past its limit (a 503 under a
    burst of streams); ours makes the burst wait for a free connection."""
    cfg = RedisConfig(mode=backends.redis_mode, nodes=list(backends.redis_nodes), max_connections=4)
    redis = make_client(cfg, backends.redis_url)
    key, counter = (Keys(f"t{id(redis)}:").tagged("burst", n) for n in ("list", "count"))
    try:
        await redis.ping()  # as the app does at start (a cluster client learns its slots)
        # BLPOP holds its connection while it waits: 300 commands at once need far more than 4.
        replies = await asyncio.gather(*(redis.blpop([key], timeout=0.01) for _ in range(40)),
                                       *(redis.incr(counter) for _ in range(260)))
        assert replies[:40] == [None] * 40
        assert sorted(replies[40:]) == list(range(1, 261))
        if backends.redis_mode == "single":
            assert len(redis.connection_pool._available_connections) <= 4
        # Pipelines (rate-limit counters, batched scripts) wait the same way.
        async def counted() -> int:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.incr(counter)
                pipe.expire(counter, 60)
                return (await pipe.execute())[0]
        assert sorted(await asyncio.gather(*(counted() for _ in range(200)))) == list(range(261, 461))
    finally:
        await redis.aclose()


async def test_sentinel_mode_finds_the_master(tmp_path):
    sentinel = EmbeddedRedisSentinel(tmp_path, service_name="superapp")
    await sentinel.start()
    cfg = RedisConfig(mode="sentinel", sentinels=sentinel.sentinels, service_name="superapp")
    redis = make_client(cfg, "")
    try:
        assert describe(cfg, "") == f"sentinel superapp via {sentinel.sentinels[0]}"
        await redis.set("t:sentinel", b"1")
        assert await redis.get("t:sentinel") == b"1"
        batcher = ScriptBatcher(redis)
        count = redis.register_script(_COUNT)
        assert sorted(await asyncio.gather(*(batcher.run(count, ["t:n"], [1]) for _ in range(10)))) == list(
            range(1, 11))
    finally:
        await redis.aclose()
    # The master's pool is bounded too: a burst waits instead of failing.
    bounded = make_client(RedisConfig(mode="sentinel", sentinels=sentinel.sentinels, service_name="superapp",
                                      max_connections=4), "")
    try:
        assert sorted(await asyncio.gather(*(bounded.incr("t:burst") for _ in range(200)))) == list(range(1, 201))
        assert len(bounded.connection_pool._available_connections) <= 4
    finally:
        await bounded.aclose()
        await sentinel.stop()
