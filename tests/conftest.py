"""Test fixtures: real embedded MongoDB-wire and Redis servers (or MONGODB_URI /
REDIS_URL when set), started once per session on free ports; each app under test
gets its own database and Redis key prefix."""
from __future__ import annotations

import os
from typing import AsyncIterator

import pytest

from server.embedded import EmbeddedMongo, EmbeddedRedis
from tests.support import Backends, RunningApp, start_app, stop_app


@pytest.fixture(scope="session")
async def backends(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Backends]:
    started = []
    root = tmp_path_factory.mktemp("embedded")
    mongo_uri = os.environ.get("MONGODB_URI", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not mongo_uri:
        mongo = EmbeddedMongo(root)
        await mongo.start()
        started.append(mongo)
        mongo_uri = mongo.uri
    if not redis_url:
        redis = EmbeddedRedis(root)
        await redis.start()
        started.append(redis)
        redis_url = redis.uri
    yield Backends(mongo_uri, redis_url)
    for server in reversed(started):
        await server.stop()


@pytest.fixture(scope="session")
async def app(backends: Backends) -> AsyncIterator[RunningApp]:
    """One app for the tests that do not change global state."""
    running = await start_app(backends)
    yield running
    await stop_app(running)




@pytest.fixture(scope="session")
async def idapp(backends: Backends) -> AsyncIterator[RunningApp]:
    """An app for identity flows: per-IP limits raised, since every test calls from 127.0.0.1."""
    running = await start_app(backends, overrides={
        "sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000, "resend_interval_seconds": 1},
    })
    yield running
    await stop_app(running)
