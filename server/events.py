"""Live events for people, kiosks and clerks (server-sent events).

Any process may publish an event (Redis pub/sub, channel ``<prefix>events:<audience>``);
the process holding the listener's connection delivers it. Each process keeps one Redis
subscription connection and subscribes to the audiences of its own listeners only.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.jobs import stop_task
from server.storage.redis import Keys

log = logging.getLogger("superapp.events")
CLOSED = object()
KEEPALIVE = object()


class Mailbox:
    """One stream's pending events: what ``asyncio.Queue`` does for one reader, in a tenth of
    its memory (a Queue holds four deques, ~2.5 KB; 10 000 streams per process add up)."""

    __slots__ = ("_items", "_waiter")
    limit = 100  # a stream this far behind loses events rather than the process its memory

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future | None = None

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: Any) -> None:
        if len(self._items) >= self.limit and item is not CLOSED:
            return
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def get_nowait(self) -> Any:
        return self._items.pop(0)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class EventHub:
    def __init__(self, redis: aioredis.Redis, keys: Keys, keepalive_seconds: int = 15):
        self.redis = redis
        self.keys = keys
        # One clock for every stream's keep-alive (not a timer per stream): each second, the
        # streams of one in ``keepalive_seconds`` audiences get one, so they are spread out.
        self.keepalive_seconds = keepalive_seconds
        self._keepalive_slot = -1
        self._buckets: list[set[str]] = [set() for _ in range(keepalive_seconds)]
        self._listeners: dict[str, set[Mailbox]] = {}
        self._pubsub: aioredis.client.PubSub | None = None
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._stopping = False

    async def start(self) -> None:
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.keys("events", "_hub"))  # keeps the connection open
        self._task = asyncio.create_task(self._run(), name="event-hub")

    async def _run(self) -> None:
        prefix = self.keys("events", "")
        # The flag as well as the cancellation: a client library that turns a cancellation
        # into a connection error must not keep this loop alive after stop().
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._keep_alive(int(loop.time()))
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as e:
                log.warning("event subscription interrupted: %s", e)
                await asyncio.sleep(1)
                continue
            if msg is None or msg.get("type") != "message":
                continue
            audience = msg["channel"].decode()[len(prefix):]
            try:
                event = json.loads(msg["data"])
            except ValueError:
                continue
            for queue in list(self._listeners.get(audience, ())):
                queue.put_nowait(event)

    def listeners(self, audience: str) -> int:
        """Open streams of ``audience`` in this process."""
        return len(self._listeners.get(audience, ()))

    def _keep_alive(self, second: int) -> None:
        slot = second % self.keepalive_seconds
        if slot == self._keepalive_slot:
            return
        self._keepalive_slot = slot
        for audience in list(self._buckets[slot]):
            for queue in self._listeners.get(audience, ()):
                if queue.empty():
                    queue.put_nowait(KEEPALIVE)

    async def listen(self, audience: str) -> Mailbox:
        queue = Mailbox()
        async with self._lock:
            first = audience not in self._listeners
            self._listeners.setdefault(audience, set()).add(queue)
            if first:
                self._buckets[hash(audience) % self.keepalive_seconds].add(audience)
            if first and self._pubsub is not None:
                await self._pubsub.subscribe(self.keys("events", audience))
        return queue

    async def unlisten(self, audience: str, queue: Mailbox) -> None:
        async with self._lock:
            queues = self._listeners.get(audience)
            if not queues:
                return
            queues.discard(queue)
            if not queues:
                del self._listeners[audience]
                self._buckets[hash(audience) % self.keepalive_seconds].discard(audience)
                if self._pubsub is not None:
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.unsubscribe(self.keys("events", audience))

    async def publish(self, audience: str, event: dict[str, Any]) -> None:
        await self.redis.publish(self.keys("events", audience), json.dumps(event, ensure_ascii=False).encode())

    def close_streams(self) -> None:
        """Ask every open stream of this process to end (graceful shutdown)."""
        for queues in self._listeners.values():
            for queue in queues:
                queue.put_nowait(CLOSED)

    async def stop(self) -> None:
        self._stopping = True
        self.close_streams()
        await stop_task(self._task)
        self._task = None
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError, asyncio.TimeoutError):
                await asyncio.wait_for(self._pubsub.aclose(), 3)
            self._pubsub = None
