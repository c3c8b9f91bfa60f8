"""The web authorisation's ``state``: one use, minutes long, bound to the person who asked
(Redis; the key names the state alone, so any process finishes what another began)."""
from __future__ import annotations

import json
from typing import Any

from server.storage.redis import Client, Keys


class AuthorizeStates:
    def __init__(self, redis: Client, keys: Keys):
        self._redis = redis
        self._keys = keys

    async def put(self, state: str, fields: dict[str, Any], ttl_seconds: int) -> None:
        await self._redis.set(self._keys("wechat-web-state", state), json.dumps(fields), ex=ttl_seconds)

    async def take(self, state: str) -> dict[str, Any] | None:
        """The state's fields, once: a second take (a replayed redirect, two at once) finds nothing."""
        raw = await self._redis.getdel(self._keys("wechat-web-state", state))
        return json.loads(raw) if raw else None
