"""Storage of sessions: refresh tokens (MongoDB, by SHA-256) and the per-request revocation
state of access tokens (Redis)."""
from __future__ import annotations

import time
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec
from server.storage.redis import Client, Keys

REFRESH_TOKENS = CollectionSpec(
    "refresh_tokens",
    (IndexModel([("family", ASCENDING)]), IndexModel([("person_id", ASCENDING)]),
     IndexModel([("expires_at", ASCENDING)])),
)
COLLECTIONS = [REFRESH_TOKENS]


# The revocation state of a subject's tokens shares the subject's hash tag, so the check of
# every request is one MGET (also in a cluster), and a device's cached record with it.

def subject_tag(subject: str) -> str:
    return f"sub:{subject}"


def revoked_jti_key(keys: Keys, subject: str, jti: str) -> str:
    """An access token logged out before its expiry."""
    return keys.tagged(subject_tag(subject), "revoked-jti", jti)


def revoked_family_key(keys: Keys, subject: str, family: str | None) -> str:
    """A login family revoked (reuse detected, logout): its access tokens are void. A token
    without a family (devices, issuers) names a key that never exists."""
    return keys.tagged(subject_tag(subject), "revoked-family", family or "-")


def valid_after_key(keys: Keys, subject: str) -> str:
    """"Tokens of this subject issued before T are void" (logout everywhere, a disabled device)."""
    return keys.tagged(subject_tag(subject), "valid-after")


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

    def __init__(self, redis: Client, keys: Keys):
        self._redis = redis
        self._keys = keys

    async def revoke_jti(self, subject: str, jti: str, until_epoch: int) -> None:
        ttl = max(1, until_epoch - int(time.time()) + 5)
        await self._redis.set(revoked_jti_key(self._keys, subject, jti), b"1", ex=ttl)

    async def revoke_family(self, subject: str, family: str, ttl: int) -> None:
        await self._redis.set(revoked_family_key(self._keys, subject, family), b"1", ex=ttl)

    async def void_before(self, subject: str, epoch: float, ttl: int) -> None:
        await self._redis.set(valid_after_key(self._keys, subject), repr(float(epoch)).encode(), ex=ttl)

    async def check(self, jti: str, subject: str, family: str | None) -> tuple[bool, float]:
        """(jti or family revoked?, tokens issued before this epoch are void) in one round trip."""
        revoked, family_revoked, after = await self._redis.mget(
            revoked_jti_key(self._keys, subject, jti), revoked_family_key(self._keys, subject, family),
            valid_after_key(self._keys, subject))
        return revoked is not None or family_revoked is not None, float(after) if after else 0.0
