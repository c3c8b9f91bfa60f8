"""Storage of sessions: refresh tokens (MongoDB, by SHA-256) and the per-request revocation
state of access tokens (Redis)."""
from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.fastredis import FastRedis
from server.storage.mongo import CollectionSpec
from server.storage.redis import Keys

REFRESH_TOKENS = CollectionSpec(
    "refresh_tokens",
    (IndexModel([("family", ASCENDING)]), IndexModel([("person_id", ASCENDING)]),
     IndexModel([("expires_at", ASCENDING)])),
)
COLLECTIONS = [REFRESH_TOKENS]


def revoked_jti_key(keys: Keys, jti: str) -> str:
    """An access token logged out before its expiry (also read by the scan script)."""
    return keys("revoked-jti", jti)


def revoked_family_key(keys: Keys, family: str | None) -> str:
    """A login family revoked (reuse detected, logout): its access tokens are void. A token
    without a family (devices, issuers) names a key that never exists."""
    return keys("revoked-family", family or "-")


def valid_after_key(keys: Keys, subject: str) -> str:
    """"Tokens of this subject issued before T are void" (also read by the scan script)."""
    return keys("valid-after", subject)


class RefreshTokenStore:
    """Refresh tokens, stored by the SHA-256 of the token; one family per login."""

    def __init__(self, db: AsyncDatabase):
        self._coll = db[REFRESH_TOKENS.name]

    async def insert(self, doc: dict[str, Any]) -> None:
        await self._coll.insert_one(doc)

    async def claim_for_rotation(self, token_hash: str, now: int) -> dict[str, Any] | None:
        """Mark an active, unexpired token as rotated; None if it was not active."""
        return await self._coll.find_one_and_update(
            {"_id": token_hash, "rotated_at": None, "revoked_at": None, "expires_at": {"$gt": now}},
            {"$set": {"rotated_at": now}},
            return_document=ReturnDocument.BEFORE,
        )

    async def get(self, token_hash: str) -> dict[str, Any] | None:
        return await self._coll.find_one({"_id": token_hash})

    async def revoke_family(self, family: str, now: int) -> int:
        result = await self._coll.update_many({"family": family, "revoked_at": None}, {"$set": {"revoked_at": now}})
        return result.modified_count

    async def revoke_person(self, person_id: str, now: int) -> int:
        result = await self._coll.update_many({"person_id": person_id, "revoked_at": None},
                                             {"$set": {"revoked_at": now}})
        return result.modified_count


class SessionState:
    """Redis: revoked access-token ids and per-person "tokens issued before T are void".
    The per-request check uses the hot path's pipelined connection."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, fast: FastRedis):
        self._redis = redis
        self._fast = fast
        self._keys = keys

    async def revoke_jti(self, jti: str, until_epoch: int) -> None:
        ttl = max(1, until_epoch - int(time.time()) + 5)
        await self._redis.set(revoked_jti_key(self._keys, jti), b"1", ex=ttl)

    async def revoke_family(self, family: str, ttl: int) -> None:
        await self._redis.set(revoked_family_key(self._keys, family), b"1", ex=ttl)

    async def void_before(self, subject: str, epoch: float, ttl: int) -> None:
        await self._redis.set(valid_after_key(self._keys, subject), repr(float(epoch)).encode(), ex=ttl)

    async def check(self, jti: str, subject: str, family: str | None) -> tuple[bool, float]:
        """(jti or family revoked?, tokens issued before this epoch are void) in one round trip."""
        revoked, family_revoked, after = await self._fast.call(
            "MGET", revoked_jti_key(self._keys, jti), revoked_family_key(self._keys, family),
            valid_after_key(self._keys, subject))
        return revoked is not None or family_revoked is not None, float(after) if after else 0.0
