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


class EventHub:
    def __init__(self, redis: aioredis.Redis, keys: Keys):
        self.redis = redis
        self.keys = keys
        self._listeners: dict[str, set[asyncio.Queue]] = {}
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
        while not self._stopping:
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
                if queue.qsize() < 100:
                    queue.put_nowait(event)

    async def listen(self, audience: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        async with self._lock:
            first = audience not in self._listeners
            self._listeners.setdefault(audience, set()).add(queue)
            if first and self._pubsub is not None:
                await self._pubsub.subscribe(self.keys("events", audience))
        return queue

    async def unlisten(self, audience: str, queue: asyncio.Queue) -> None:
        async with self._lock:
            queues = self._listeners.get(audience)
            if not queues:
                return
            queues.discard(queue)
            if not queues:
                del self._listeners[audience]
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
