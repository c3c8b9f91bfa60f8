"""A small pipelined Redis client for the hot path (scans, per-request token checks).

redis-py is the client everywhere else; on the hot path its per-command Python overhead
(connection pool, command parsing, observability hooks) costs more CPU than the rest of
the request. This client keeps one connection, writes each command as it comes (RESP),
and resolves replies in order with hiredis's C parser, so concurrent requests share the
connection without waiting for each other.

Only what the hot path needs: ``call(*args)`` (any command, e.g. EVALSHA or MGET) and
``evalsha_or_load``. On a lost connection, pending calls fail with ConnectionError and
the next call reconnects. Instead of a timer per call, a watchdog checks twice a second
whether the oldest pending reply is overdue; if so the connection is dropped (a Redis
that stopped answering in order cannot be trusted with the replies that follow).
"""
from __future__ import annotations

import asyncio
import collections
from typing import Any
from urllib.parse import unquote, urlparse

import hiredis


def _pack(args: tuple[Any, ...]) -> bytes:
    parts = [a if type(a) is bytes else str(a).encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join([b"$%d\r\n%s\r\n" % (len(p), p) for p in parts])


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.pending: collections.deque[asyncio.Future] = collections.deque()
        self.sent_at: collections.deque[float] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while True:
            reply = self.reader.gets()
            if reply is False:
                return
            fut = self.pending.popleft()
            self.sent_at.popleft()
            if fut.done():
                continue
            if isinstance(reply, hiredis.ReplyError):
                fut.set_exception(reply)
            else:
                fut.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.sent_at.clear()
        while self.pending:
            fut = self.pending.popleft()
            if not fut.done():
                fut.set_exception(ConnectionError("Redis connection lost"))
        if not self.lost.done():
            self.lost.set_result(None)


class FastRedis:
    def __init__(self, url: str, timeout: float = 5.0):
        u = urlparse(url)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 6379
        self.password = unquote(u.password) if u.password else None
        self.username = unquote(u.username) if u.username else None
        self.db = int((u.path or "/0").lstrip("/") or 0)
        self.ssl = u.scheme == "rediss"
        self.timeout = timeout
        self._proto: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None
        self._watchdog: asyncio.Task | None = None

    async def _connection(self) -> _Protocol:
        proto = self._proto
        if proto is not None and proto.transport is not None and not proto.transport.is_closing():
            return proto
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._proto is not None and self._proto.transport is not None \
                    and not self._proto.transport.is_closing():
                return self._proto
            loop = asyncio.get_running_loop()
            try:
                _, proto = await asyncio.wait_for(
                    loop.create_connection(_Protocol, self.host, self.port, ssl=self.ssl or None), self.timeout)
            except (OSError, asyncio.TimeoutError) as e:
                raise ConnectionError(f"Redis at {self.host}:{self.port} is not reachable: {e!r}") from None
            self._proto = proto
            if self._watchdog is None or self._watchdog.done():
                self._watchdog = asyncio.create_task(self._watch(), name="fastredis-watchdog")
            if self.password:
                auth = (self.username, self.password) if self.username else (self.password,)
                await self._send(proto, ("AUTH", *auth))
            if self.db:
                await self._send(proto, ("SELECT", self.db))
            return proto

    async def _send(self, proto: _Protocol, args: tuple[Any, ...]) -> Any:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        proto.pending.append(fut)
        proto.sent_at.append(loop.time())
        proto.transport.write(_pack(args))  # type: ignore[union-attr]
        return await fut

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.5)
            proto = self._proto
            if proto is None or proto.transport is None:
                continue
            if proto.sent_at and loop.time() - proto.sent_at[0] > self.timeout:
                proto.transport.abort()  # fails every pending call; the next call reconnects

    async def call(self, *args: Any) -> Any:
        return await self._send(await self._connection(), args)

    async def evalsha_or_load(self, sha: str, script: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self.call("EVALSHA", sha, len(keys), *keys, *args)
        except hiredis.ReplyError as e:
            if not str(e).startswith("NOSCRIPT"):
                raise
            await self.call("SCRIPT", "LOAD", script)
            return await self.call("EVALSHA", sha, len(keys), *keys, *args)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()
            await self._proto.lost
        self._proto = None
