"""Test fixtures: real embedded MongoDB-wire and Redis servers (or MONGODB_URI /
REDIS_URL when set), started once per session on free ports; each app under test
gets its own database and Redis key prefix.

Tests marked ``redis_modes`` (the ones whose rules live in Redis: SMS limits, codes and
scans, consent, sessions and revocation, idempotency, events, notification leasing) run
twice: against one Redis server and against a 3-master Redis Cluster started from the same
``redis-server`` binary (or the nodes in ``REDIS_CLUSTER_NODES``, comma-separated)."""
from __future__ import annotations

import os
from typing import AsyncIterator

import pytest

from server.embedded import EmbeddedMongo, EmbeddedRedis, EmbeddedRedisCluster
from tests.support import Backends, RunningApp, always_open_catalog, start_app, stop_app

REDIS_MODES = ["single", "cluster"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis_modes: run against one Redis server and against a Redis Cluster")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that uses the servers names its Redis mode, so the single-server ones share
    # one set of fixtures whether or not they are also run on the cluster.
    if "backends" in metafunc.fixturenames:
        modes = REDIS_MODES if metafunc.definition.get_closest_marker("redis_modes") else ["single"]
        metafunc.parametrize("backends", modes, indirect=True, scope="session")


@pytest.fixture(scope="session")
async def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    mongo = EmbeddedMongo(tmp_path_factory.mktemp("embedded-mongo"))
    await mongo.start()
    yield mongo.uri
    await mongo.stop()


@pytest.fixture(scope="session")
async def backends(request: pytest.FixtureRequest, mongo_uri: str,
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Backends]:
    mode = getattr(request, "param", "single")
    if mode == "cluster":
        nodes = [n.strip() for n in os.environ.get("REDIS_CLUSTER_NODES", "").split(",") if n.strip()]
        cluster = None
        if not nodes:
            cluster = EmbeddedRedisCluster(tmp_path_factory.mktemp("embedded-redis-cluster"))
            await cluster.start()
            nodes = cluster.addresses
        yield Backends(mongo_uri, "", "cluster", tuple(nodes))
        if cluster is not None:
            await cluster.stop()
        return
    if os.environ.get("REDIS_URL"):
        yield Backends(mongo_uri, os.environ["REDIS_URL"])
        return
    redis = EmbeddedRedis(tmp_path_factory.mktemp("embedded-redis"))
    await redis.start()
    yield Backends(mongo_uri, redis.uri)
    await redis.stop()


@pytest.fixture(scope="session")
async def app(backends: Backends) -> AsyncIterator[RunningApp]:
    """One app for the tests that do not change global state."""
    running = await start_app(backends)
    yield running
    await stop_app(running)


@pytest.fixture(scope="session")
async def idapp(backends: Backends, tmp_path_factory) -> AsyncIterator[RunningApp]:
    """An app for identity flows: per-IP limits raised, since every test calls from 127.0.0.1."""
    running = await start_app(backends, overrides={
        "sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000, "resend_interval_seconds": 1},
        # 1.5 km, not the catalog's 1 km: clients are seen to take the radius from the hall
        "halls": {"catalog_file": str(always_open_catalog(tmp_path_factory.mktemp("halls") / "halls.json",
                                                          radius_m=1500))},
    })
    yield running
    await stop_app(running)
