"""MongoDB storage of the wallet domain."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

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
# Issuer-supplied request ids: the same id returns the same answer.
ISSUER_REQUESTS = CollectionSpec("issuer_requests")
SHARES = CollectionSpec("certificate_shares", (IndexModel([("certificate_id", ASCENDING)]),))
# 用证记录: every use of a certificate, readable by its holder.
USAGE = CollectionSpec("certificate_usage", (IndexModel([("holder", ASCENDING), ("at", DESCENDING)]),))
REMINDERS = CollectionSpec("certificate_reminders", (IndexModel([("holder", ASCENDING)]),))

COLLECTIONS = [ISSUERS, ISSUER_KEYS, CERTIFICATES, ISSUER_REQUESTS, SHARES, USAGE, REMINDERS]


async def issuers_with_thumbprints(db: AsyncDatabase, thumbprints: list[str]) -> list[str]:
    docs = await db[ISSUER_KEYS.name].find({"thumbprint": {"$in": thumbprints}}, {"issuer": 1}).to_list()
    return sorted({d["issuer"] for d in docs})


class WalletStore:
    def __init__(self, db: AsyncDatabase):
        self.issuers = db[ISSUERS.name]
        self.issuer_keys = db[ISSUER_KEYS.name]
        self.certs = db[CERTIFICATES.name]
        self.requests = db[ISSUER_REQUESTS.name]
        self.shares = db[SHARES.name]
        self.usage = db[USAGE.name]
        self.reminders = db[REMINDERS.name]

    # -- issuers ---------------------------------------------------------------------------------

    async def issuer(self, code: str) -> dict[str, Any] | None:
        return await self.issuers.find_one({"code": code})

    async def all_issuers(self) -> list[dict[str, Any]]:
        return await self.issuers.find({}).sort("code", 1).to_list()

    async def insert_issuer(self, doc: dict[str, Any]) -> bool:
        try:
            await self.issuers.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def issuer_key(self, kid: str) -> dict[str, Any] | None:
        return await self.issuer_keys.find_one({"kid": kid})

    async def keys_of(self, issuer: str) -> list[dict[str, Any]]:
        return await self.issuer_keys.find({"issuer": issuer}).to_list()

    async def all_keys(self) -> list[dict[str, Any]]:
        return await self.issuer_keys.find({}).to_list()

    async def insert_key(self, doc: dict[str, Any]) -> bool:
        try:
            await self.issuer_keys.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    # -- idempotency of issuer requests ---------------------------------------------------------

    async def claim_request(self, key: str, body_hash: str, now: int) -> dict[str, Any] | None:
        """None if the request id is new (now claimed); else the earlier record."""
        try:
            await self.requests.insert_one({"_id": key, "body_hash": body_hash, "response": None, "at": now})
            return None
        except DuplicateKeyError:
            return await self.requests.find_one({"_id": key})

    async def finish_request(self, key: str, response: dict[str, Any]) -> None:
        await self.requests.update_one({"_id": key}, {"$set": {"response": response}})

    async def drop_request(self, key: str) -> None:
        await self.requests.delete_one({"_id": key, "response": None})

    # -- certificates ------------------------------------------------------------------------------

    async def insert_certificate(self, doc: dict[str, Any]) -> bool:
        try:
            await self.certs.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def certificate(self, cert_id: str) -> dict[str, Any] | None:
        return await self.certs.find_one({"_id": cert_id})

    async def current_by_base(self, base: str) -> dict[str, Any] | None:
        docs = await self.certs.find({"base": base}).sort("version", DESCENDING).limit(1).to_list()
        return docs[0] if docs else None

    async def of_holder(self, holder_bidx: str) -> list[dict[str, Any]]:
        docs = await self.certs.find({"holder_bidx": holder_bidx}).sort("issued_at", DESCENDING).to_list()
        return [d for d in docs if d["status"] != "superseded"]

    async def set_status(self, cert_id: str, expected: list[str], status: str, now: int,
                         reason: str = "") -> dict[str, Any] | None:
        return await self.certs.find_one_and_update(
            {"_id": cert_id, "status": {"$in": expected}},
            {"$set": {"status": status, "updated_at": now, "status_reason": reason}},
            return_document=ReturnDocument.AFTER,
        )

    async def expiring(self, before_date: str) -> list[dict[str, Any]]:
        docs = await self.certs.find({"valid_until": {"$lte": before_date}}).to_list()
        return [d for d in docs if d["status"] == "active" and d.get("valid_until")]

    # -- shares and usage -------------------------------------------------------------------------

    async def insert_share(self, doc: dict[str, Any]) -> None:
        await self.shares.insert_one(doc)

    async def share(self, token_hash: str) -> dict[str, Any] | None:
        return await self.shares.find_one({"_id": token_hash})

    async def record_usage(self, doc: dict[str, Any]) -> None:
        await self.usage.insert_one(doc)

    async def usage_of(self, holder: str, limit: int, before: int | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"holder": holder}
        if before is not None:
            query["at"] = {"$lt": before}
        return await self.usage.find(query).sort("at", DESCENDING).limit(limit).to_list()

    async def add_reminder(self, doc: dict[str, Any]) -> bool:
        try:
            await self.reminders.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def reminders_of(self, holder: str) -> list[dict[str, Any]]:
        return await self.reminders.find({"holder": holder}).sort("valid_until", 1).to_list()
