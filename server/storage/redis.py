"""Redis through ``redis.asyncio`` (redis-py, with hiredis parsing replies). Short-lived
state only: nonces, counters, rate limits, one-use markers. Records of truth live in MongoDB.

One server, a Cluster or a master found through Sentinel (``redis.mode``); the code is the
same for all three. Every key is designed for a cluster: keys that one command, transaction
or script touches share a hash tag (``Keys.tagged``), and every key a script touches is
passed in KEYS. Pub/sub channels are not keys (in a cluster they are broadcast).
"""
from __future__ import annotations

import asyncio
from typing import Any, Union

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from server.config import RedisConfig

Client = Union[aioredis.Redis, RedisCluster]


def _host_port(item: str) -> tuple[str, int]:
    host, _, port = item.rpartition(":")
    return host, int(port)


def _options(timeout: float) -> dict[str, Any]:
    """Every command ends within ``timeout`` (a timeout is not retried, so a stalled server is
    reported quickly); a dropped connection is retried once on a new one (a restart)."""
    return {"decode_responses": False, "socket_connect_timeout": timeout, "socket_timeout": timeout,
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))}


class _WaitingCluster(RedisCluster):
    """redis-py's cluster client refuses a command when a node's pool is full
    (``MaxConnectionsError``, at 100 by default): this one makes a burst wait instead, with at
    most ``max_connections`` commands and as many pipelines in flight. Separate limits, so a
    pipeline that falls back to single commands (a MOVED during resharding) cannot deadlock."""

    def __init__(self, *args: Any, max_connections: int, **kwargs: Any):
        # Per node: every command, every pipeline, and the event hub's pub/sub connection.
        super().__init__(*args, max_connections=2 * max_connections + 8, **kwargs)
        self._commands = asyncio.Semaphore(max_connections)
        self._pipelines = asyncio.Semaphore(max_connections)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self._commands:
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # redis-py's own error
        return _WaitingPipeline(self, transaction)


class _WaitingPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        async with self.cluster_client._pipelines:
            return await super().execute(raise_on_error, allow_redirections)


class _BlockingSentinelPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """The Sentinel master's pool, bounded like the single server's (waits, never refuses)."""


def make_client(cfg: RedisConfig, url: str, timeout: float | None = None) -> Client:
    """The asyncio client for ``cfg.mode``; ``url`` is the server (single), a seed node
    (cluster) or the password/database (sentinel).

    A burst beyond ``cfg.max_connections`` commands at once waits for a free connection
    (single, Sentinel: up to the command timeout) rather than failing, as redis-py's pools
    do past their limit. A cluster client must have been used once (``wait_until_reachable``)
    before a burst: redis-py 8.1 may send a command twice while it first learns the slots."""
    wait = cfg.timeout_seconds if timeout is None else timeout
    opts = _options(wait)
    if cfg.mode == "cluster":
        seeds = [ClusterNode(*_host_port(n)) for n in cfg.nodes]
        if url and not seeds:
            return _WaitingCluster.from_url(url, max_connections=cfg.max_connections, **opts)
        return _WaitingCluster(startup_nodes=seeds, max_connections=cfg.max_connections, **opts)
    if cfg.mode == "sentinel":
        sentinel = Sentinel([_host_port(s) for s in cfg.sentinels], sentinel_kwargs={
            "socket_timeout": opts["socket_timeout"], "socket_connect_timeout": opts["socket_connect_timeout"]},
            **opts, **_url_credentials(url))
        return sentinel.master_for(cfg.service_name, connection_pool_class=_BlockingSentinelPool,
                                   max_connections=cfg.max_connections, timeout=wait, **opts)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=cfg.max_connections, timeout=wait, health_check_interval=30, **opts)
    return aioredis.Redis.from_pool(pool)


def make_sync_client(cfg: RedisConfig, url: str) -> Any:
    """The same, synchronous (for libraries that speak redis-py's blocking API)."""
    opts = {"socket_timeout": cfg.timeout_seconds, "socket_connect_timeout": cfg.timeout_seconds}
    if cfg.mode == "cluster":
        from redis.cluster import ClusterNode as SyncNode
        from redis.cluster import RedisCluster as SyncCluster

        seeds = [SyncNode(*_host_port(n)) for n in cfg.nodes]
        return SyncCluster(startup_nodes=seeds, **opts) if seeds else SyncCluster.from_url(url, **opts)
    if cfg.mode == "sentinel":
        from redis.sentinel import Sentinel as SyncSentinel

        return SyncSentinel([_host_port(s) for s in cfg.sentinels], **opts, **_url_credentials(url)).master_for(
            cfg.service_name, **opts)
    return redis.Redis.from_url(url, **opts)


def _url_credentials(url: str) -> dict[str, Any]:
    if not url:
        return {}
    from urllib.parse import unquote, urlparse

    u = urlparse(url)
    out: dict[str, Any] = {}
    if u.password:
        out["password"] = unquote(u.password)
    if u.username:
        out["username"] = unquote(u.username)
    if u.path.strip("/").isdigit():
        out["db"] = int(u.path.strip("/"))
    return out


def describe(cfg: RedisConfig, url: str) -> str:
    """Where Redis is, for the start-up banner (no credentials)."""
    if cfg.mode == "cluster":
        return "cluster " + (", ".join(cfg.nodes) or url.split("@")[-1])
    if cfg.mode == "sentinel":
        return f"sentinel {cfg.service_name} via {', '.join(cfg.sentinels)}"
    return url.split("@")[-1] if "@" in url else url


async def wait_until_reachable(client: Client, timeout: float) -> None:
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

    def __init__(self, prefix: str, one_node: bool = True):
        self.prefix = prefix
        # All keys on one server (single or Sentinel): a script may touch keys of several
        # tags. False on a cluster, where Redis refuses that (CROSSSLOT).
        self.one_node = one_node

    def __call__(self, *parts: str) -> str:
        """A key of its own (nothing else is ever touched together with it)."""
        return self.prefix + ":".join(parts)

    def tagged(self, tag: str, *parts: str) -> str:
        """A key in the hash slot of ``tag``: keys one command, transaction or script touches
        together share their tag, so a Redis Cluster keeps them on one node."""
        return self.prefix + "{" + tag + "}:" + ":".join(parts)


async def count_in_window(client: Client, key: str, ttl: int, delta: int = 1) -> int:
    """Add ``delta`` to a counter that expires ``ttl`` seconds after its last change."""
    async with client.pipeline(transaction=True) as pipe:
        pipe.incrby(key, delta)
        pipe.expire(key, ttl)
        value, _ = await pipe.execute()
    return int(value)


class ScriptBatcher:
    """Runs the script calls made in one turn of the event loop as one pipeline: one write
    and one read for all of them instead of one per call, which is most of a call's cost
    (redis-py's asyncio client uses a connection per command in flight). On a cluster the
    pipeline is split per node by the calls' keys. For hot paths (the scan)."""

    def __init__(self, client: Client):
        self._client = client
        self._pending: list[tuple[Any, list[Any], list[Any], asyncio.Future]] = []

    def run(self, script: Any, keys: list[Any], args: list[Any]) -> "asyncio.Future[Any]":
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((script, keys, args, future))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        asyncio.ensure_future(self._send(batch))

    async def _send(self, batch: list[tuple[Any, list[Any], list[Any], asyncio.Future]]) -> None:
        if len(batch) == 1:  # nothing to share: the script itself (which also loads it if needed)
            script, keys, args, future = batch[0]
            await _settle(future, script(keys=keys, args=args))
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for script, keys, args, _ in batch:
                # execute_command: a cluster pipeline refuses .evalsha() (a node may lack the
                # script); a NOSCRIPT reply is handled below.
                pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            results = await pipe.execute(raise_on_error=False)
        except BaseException as e:  # the connection failed: every call in it did
            for *_, future in batch:
                if not future.done():
                    future.set_exception(e)
            if not isinstance(e, Exception):
                raise
            return
        for (script, keys, args, future), result in zip(batch, results):
            if isinstance(result, redis.exceptions.NoScriptError):  # a server without it yet (a restart)
                await _settle(future, script(keys=keys, args=args))
            elif isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


async def _settle(future: asyncio.Future, call: Any) -> None:
    try:
        result = await call
    except Exception as e:
        if not future.done():
            future.set_exception(e)
        return
    if not future.done():
        future.set_result(result)
