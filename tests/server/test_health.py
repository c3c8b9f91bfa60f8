"""/healthz and /readyz, including readiness with MongoDB or Redis down."""
from __future__ import annotations

from server.embedded import EmbeddedMongo, EmbeddedRedis
from tests.support import Backends, assert_problem, start_app, stop_app


async def test_healthz_and_readyz_when_all_is_up(app):
    resp = await app.api.get("/healthz")
    assert resp.status == 200 and resp.json() == {"status": "ok"}
    resp = await app.api.get("/readyz")
    assert resp.status == 200
    assert resp.json() == {"status": "ready", "checks": {"mongodb": "ok", "redis": "ok"}}


async def test_readyz_names_redis_when_it_is_down(backends, tmp_path):
    own = EmbeddedRedis(tmp_path)
    await own.start()
    running = await start_app(Backends(backends.mongo_uri, own.uri))
    try:
        await own.stop()
        resp = await running.api.get("/readyz")
        body = assert_problem(resp, 503, "not_ready")
        assert body["checks"]["mongodb"] == "ok"
        assert body["checks"]["redis"] != "ok"
        assert [e["field"] for e in body["errors"]] == ["redis"]
        assert (await running.api.get("/healthz")).status == 200  # alive, just not ready
    finally:
        await stop_app(running)


async def test_readyz_names_mongodb_when_it_is_down(backends, tmp_path):
    own = EmbeddedMongo(tmp_path)
    await own.start()
    running = await start_app(Backends(own.uri, backends.redis_url))
    try:
        await own.stop()
        resp = await running.api.get("/readyz")
        body = assert_problem(resp, 503, "not_ready")
        assert body["checks"]["redis"] == "ok"
        assert body["checks"]["mongodb"] != "ok"
        assert [e["field"] for e in body["errors"]] == ["mongodb"]
    finally:  # its database went away with its server: nothing to drop
        running.api.close()
        await running.runner.stop()

