"""Liveness and readiness: do the dependencies (MongoDB, Redis) answer?"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

CHECK_TIMEOUT = 2.0
Probes = dict[str, Callable[[], Awaitable[object]]]


async def _check(probe: Callable[[], Awaitable[object]]) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT)
        return "ok"
    except asyncio.TimeoutError:
        return "timeout"
    except Exception as e:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(e).__name__}"


async def readiness(probes: Probes) -> dict[str, str]:
    names = list(probes)
    results = await asyncio.gather(*(_check(probes[n]) for n in names))
    return dict(zip(names, results))
