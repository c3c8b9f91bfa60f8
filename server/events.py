"""Live events for people, kiosks and clerks (server-sent events and WebSocket).

Any process may publish an event (Redis pub/sub, channel ``<prefix>events:<audience>``);
the process holding the listener's connection delivers it. Each process keeps one Redis
subscription connection and subscribes to the audiences of its own listeners only.

Every event is also kept for a day in a short Redis stream of its audience (the last 100),
and carries that stream's id: a client that reconnects names the last id it saw and gets
what it missed first (``since``), so a consent request sent while a phone changed networks
is not lost. A revoked login (logout, logout everywhere, a stolen refresh token, a deleted
account) is announced to its audience as ``session.revoked``; a stream whose token it covers
delivers it and ends (:func:`revokes`).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from server.jobs import stop_task
from server.storage.redis import Keys

log = logging.getLogger("superapp.events")
CLOSED = object()
KEEPALIVE = object()
RETAINED = 100  # events kept per audience for reconnecting clients
RETAINED_MS = 86_400_000
EVENT_ID = re.compile(r"^[0-9]{1,15}(-[0-9]{1,10})?$")  # a stream id (ms-seq; seq may be left out)

# One round trip: keep the event in the audience's stream, then publish it with its id.
_PUBLISH_LUA = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local body = ARGV[1]
if string.sub(body, 2, 2) == '}' then
  body = '{"id":"' .. id .. '"}'
else
  body = '{"id":"' .. id .. '",' .. string.sub(body, 2)
end
redis.call('PUBLISH', ARGV[2], body)
return id
"""


def audience_of_subject(subject: str) -> str:
    """The events audience of a token subject: ``staff:<name>``, ``device:<id>``, else a person."""
    kind, sep, ident = subject.partition(":")
    return f"{kind}:{ident}" if sep else f"person:{subject}"


def revokes(event: dict[str, Any], jti: str, family: str | None, issued_at: float) -> bool:
    """Whether a ``session.revoked`` event covers the stream's access token."""
    if event.get("type") != "session.revoked":
        return False
    return (event.get("jti") == jti or (family is not None and event.get("fam") == family)
            or (event.get("before") is not None and issued_at < float(event["before"])))


def event_order(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


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
        self._publish = redis.register_script(_PUBLISH_LUA)

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

    def _stream(self, audience: str) -> str:
        return self.keys.tagged(f"aud:{audience}", "events")

    async def publish(self, audience: str, event: dict[str, Any]) -> str:
        """Deliver ``event`` to ``audience``'s open streams in every process; returns its id."""
        data = json.dumps(event, ensure_ascii=False)
        event_id = await self._publish(keys=[self._stream(audience)],
                                       args=[data, self.keys("events", audience), RETAINED, RETAINED_MS])
        return event_id.decode() if isinstance(event_id, bytes) else str(event_id)

    async def since(self, audience: str, last_id: str) -> list[dict[str, Any]]:
        """The retained events of ``audience`` after ``last_id`` (oldest first), each with its id."""
        if not EVENT_ID.match(last_id):
            return []
        out = []
        for event_id, fields in await self.redis.xrange(self._stream(audience), min=f"({last_id}", max="+",
                                                        count=RETAINED):
            try:
                out.append({"id": event_id.decode(), **json.loads(fields[b"e"])})
            except (ValueError, KeyError):
                continue
        return out

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
