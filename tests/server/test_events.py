"""The event hub: one subscription per process, keep-alives from one clock for every stream
(spread over the interval), and a stream that ends as soon as its client goes away."""
from __future__ import annotations

import asyncio
import socket

import jwt
import pytest

from server.config import RedisConfig
from server.events import KEEPALIVE, EventHub
from server.storage.redis import Keys, make_client
from tests.support import bearer, sms_login

pytestmark = pytest.mark.redis_modes


async def test_keep_alives_reach_every_stream_spread_over_the_interval(backends):
    redis = make_client(RedisConfig(mode=backends.redis_mode, nodes=list(backends.redis_nodes)), backends.redis_url)
    await redis.ping()
    hub = EventHub(redis, Keys(f"t{id(redis)}:"), keepalive_seconds=3)
    await hub.start()
    try:
        queues = {f"person:p{i}": await hub.listen(f"person:p{i}") for i in range(60)}
        first_seen: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        start = loop.time()
        while len(first_seen) < len(queues) and loop.time() - start < 8:
            await asyncio.sleep(0.05)
            for audience, q in queues.items():
                while not q.empty():
                    if q.get_nowait() is KEEPALIVE:
                        first_seen.setdefault(audience, loop.time() - start)
        assert set(first_seen) == set(queues)  # every stream, within the interval (+1 s tick)
        assert max(first_seen.values()) <= 3 + 1.5
        seconds = {int(t) for t in first_seen.values()}
        assert len(seconds) >= 2, first_seen  # not all at once: spread over the interval

        # An event still arrives as itself, and a queue with an event waiting gets no keep-alive.
        await hub.publish("person:p0", {"type": "scanned"})
        got = await asyncio.wait_for(queues["person:p0"].get(), 5)
        while got is KEEPALIVE:
            got = await asyncio.wait_for(queues["person:p0"].get(), 5)
        assert got["type"] == "scanned" and got["id"]  # the id a reconnecting client resumes from
    finally:
        await hub.stop()
        await redis.aclose()


async def test_a_stream_ends_when_its_client_goes_away(idapp):
    login = await sms_login(idapp.api)
    hub = idapp.runner.ctx.events
    subject = jwt.decode(login["access_token"], options={"verify_signature": False})["sub"]
    audience = f"person:{subject.split(':', 1)[-1]}"
    host, port = idapp.runner.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: {bearer(login['access_token'])['Authorization']}"
                 "\r\nAccept: text/event-stream\r\n\r\n".encode())
    sock.settimeout(5)
    assert b": connected" in await asyncio.to_thread(sock.recv, 4096)
    assert hub.listeners(audience) == 1
    sock.close()
    for _ in range(100):  # not at the next keep-alive (15 s): at once
        if hub.listeners(audience) == 0:
            break
        await asyncio.sleep(0.02)
    assert hub.listeners(audience) == 0
