"""Liveness and readiness: do MongoDB and Redis answer?"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Awaitable, Callable

from server.storage import mongo as mongo_storage

if TYPE_CHECKING:
    from server.context import AppContext

CHECK_TIMEOUT = 2.0


async def _check(probe: Callable[[], Awaitable[object]]) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT)
        return "ok"
    except asyncio.TimeoutError:
        return "timeout"
    except Exception as e:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(e).__name__}"


async def readiness(ctx: "AppContext") -> dict[str, str]:
    mongo, redis = await asyncio.gather(
        _check(lambda: mongo_storage.ping(ctx.mongo)),
        _check(ctx.redis.ping),
    )
    return {"mongodb": mongo, "redis": redis}
