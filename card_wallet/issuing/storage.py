"""Storage of the certificate registry (MongoDB): issuing authorities, their keys, and every
version of every certificate. The wallet's own records (shares, usage, reminders) are in
``card_wallet.holding.storage``."""
from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec
from server.storage.redis import Keys

ISSUERS = CollectionSpec("issuers", (IndexModel([("code", ASCENDING)], unique=True),))
# One document per signing key (keys rotate; queries stay on scalar fields).
ISSUER_KEYS = CollectionSpec(
    "issuer_keys",
    (IndexModel([("kid", ASCENDING)], unique=True), IndexModel([("issuer", ASCENDING)]),
     IndexModel([("thumbprint", ASCENDING)])),
)
# One document per version of a certificate; _id is the full identifier.
CERTIFICATES = CollectionSpec(
    "certificates",
    (IndexModel([("holder_bidx", ASCENDING), ("status", ASCENDING)]), IndexModel([("base", ASCENDING)]),
     IndexModel([("valid_until", ASCENDING)])),
)
COLLECTIONS = [ISSUERS, ISSUER_KEYS, CERTIFICATES]


async def issuers_with_thumbprints(db: AsyncDatabase, thumbprints: list[str]) -> list[str]:
    docs = await db[ISSUER_KEYS.name].find({"thumbprint": {"$in": thumbprints}}, {"issuer": 1}).to_list()
    return sorted({d["issuer"] for d in docs})


class CertificateStore:
    def __init__(self, db: AsyncDatabase, redis: aioredis.Redis, keys: Keys):
        self._issuers = db[ISSUERS.name]
        self._keys = db[ISSUER_KEYS.name]
        self._certs = db[CERTIFICATES.name]
        self._redis = redis
        self._version_key = keys("issuer-registry", "version")

    # -- the registry's version (every process caches the registry and checks this) ----------

    async def registry_version(self) -> bytes:
        """The current version; created (as 1) if Redis has none, e.g. after it lost its data."""
        version = await self._redis.get(self._version_key)
        if version is None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._version_key, b"1", nx=True)
                pipe.get(self._version_key)
                _, version = await pipe.execute()
        return version

    async def registry_changed(self) -> None:
        await self._redis.incr(self._version_key)

    # -- issuers ---------------------------------------------------------------------------------

    async def issuer(self, code: str) -> dict[str, Any] | None:
        return await self._issuers.find_one({"code": code})

    async def all_issuers(self) -> list[dict[str, Any]]:
        return await self._issuers.find({}).sort("code", 1).to_list()

    async def insert_issuer(self, doc: dict[str, Any]) -> bool:
        try:
            await self._issuers.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def issuer_key(self, kid: str) -> dict[str, Any] | None:
        return await self._keys.find_one({"kid": kid})

    async def keys_of(self, issuer: str) -> list[dict[str, Any]]:
        return await self._keys.find({"issuer": issuer}).to_list()

    async def all_keys(self) -> list[dict[str, Any]]:
        return await self._keys.find({}).to_list()

    async def insert_key(self, doc: dict[str, Any]) -> bool:
        try:
            await self._keys.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    # -- certificates ------------------------------------------------------------------------------

    async def insert_certificate(self, doc: dict[str, Any]) -> bool:
        try:
            await self._certs.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def certificate(self, cert_id: str) -> dict[str, Any] | None:
        return await self._certs.find_one({"_id": cert_id})

    async def current_by_base(self, base: str) -> dict[str, Any] | None:
        docs = await self._certs.find({"base": base}).sort("version", DESCENDING).limit(1).to_list()
        return docs[0] if docs else None

    async def of_holder(self, holder_bidx: str) -> list[dict[str, Any]]:
        docs = await self._certs.find({"holder_bidx": holder_bidx}).sort("issued_at", DESCENDING).to_list()
        return [d for d in docs if d["status"] != "superseded"]

    async def set_status(self, cert_id: str, expected: list[str], status: str, now: int,
                         reason: str = "") -> dict[str, Any] | None:
        return await self._certs.find_one_and_update(
            {"_id": cert_id, "status": {"$in": expected}},
            {"$set": {"status": status, "updated_at": now, "status_reason": reason}},
            return_document=ReturnDocument.AFTER,
        )

    async def expiring(self, before_date: str) -> list[dict[str, Any]]:
        docs = await self._certs.find({"valid_until": {"$lte": before_date}}).to_list()
        return [d for d in docs if d["status"] == "active" and d.get("valid_until")]
