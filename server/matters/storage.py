"""MongoDB storage of matters: applications, uploads, idempotency keys."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

APPLICATIONS = CollectionSpec(
    "applications",
    (IndexModel([("applicant_key", ASCENDING), ("created_at", DESCENDING)]), IndexModel([("outbox_pending", ASCENDING)]),
     IndexModel([("department", ASCENDING), ("state", ASCENDING)]), IndexModel([("number", ASCENDING)], unique=True)),
)
UPLOADS = CollectionSpec("uploads", (IndexModel([("owner", ASCENDING)]),))
# Idempotency-Key per principal: _id "<principal>:<key>" claims it atomically.
IDEMPOTENCY = CollectionSpec("idempotency_keys", (IndexModel([("created_at", ASCENDING)]),))
COUNTERS = CollectionSpec("counters")
# 好差评: one rating per application (_id = application id); bad ones open a rectification.
RATINGS = CollectionSpec("ratings", (IndexModel([("department", ASCENDING)]), IndexModel([("matter", ASCENDING)])))
RECTIFICATIONS = CollectionSpec("rectifications", (IndexModel([("department", ASCENDING), ("state", ASCENDING)]),))

# 一件事 parents; their children are ordinary applications with "parent".
BUNDLE_APPLICATIONS = CollectionSpec("bundle_applications", (IndexModel([("applicant_key", ASCENDING)]),))

COLLECTIONS = [APPLICATIONS, UPLOADS, IDEMPOTENCY, COUNTERS, RATINGS, RECTIFICATIONS, BUNDLE_APPLICATIONS]


class MatterStore:
    def __init__(self, db: AsyncDatabase):
        self.apps = db[APPLICATIONS.name]
        self.uploads = db[UPLOADS.name]
        self.idem = db[IDEMPOTENCY.name]
        self.counters = db[COUNTERS.name]
        self.bundles = db[BUNDLE_APPLICATIONS.name]

    async def next_number(self, name: str) -> int:
        doc = await self.counters.find_one_and_update({"_id": name}, {"$inc": {"n": 1}}, upsert=True,
                                                      return_document=ReturnDocument.AFTER)
        return int(doc["n"])

    # -- idempotency --------------------------------------------------------------------------------

    async def claim_key(self, key: str, body_hash: str, now: int) -> dict[str, Any] | None:
        try:
            await self.idem.insert_one({"_id": key, "body_hash": body_hash, "response": None, "created_at": now})
            return None
        except DuplicateKeyError:
            return await self.idem.find_one({"_id": key})

    async def key_record(self, key: str) -> dict[str, Any] | None:
        return await self.idem.find_one({"_id": key})

    async def finish_key(self, key: str, response: dict[str, Any]) -> None:
        await self.idem.update_one({"_id": key}, {"$set": {"response": response}})

    async def release_key(self, key: str) -> None:
        await self.idem.delete_one({"_id": key, "response": None})

    async def prune_keys(self, older_than: int) -> int:
        return (await self.idem.delete_many({"created_at": {"$lt": older_than}})).deleted_count

    # -- applications -------------------------------------------------------------------------------

    async def insert(self, doc: dict[str, Any]) -> None:
        await self.apps.insert_one(doc)

    async def get(self, app_id: str) -> dict[str, Any] | None:
        return await self.apps.find_one({"_id": app_id})

    async def of_applicant(self, key: str) -> list[dict[str, Any]]:
        return await self.apps.find({"applicant_key": key}).sort("created_at", DESCENDING).limit(200).to_list()

    async def of_department(self, department: str, states: list[str] | None, matter: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"department": department}
        if states:
            query["state"] = {"$in": states}
        if matter:
            query["matter"] = matter
        return await self.apps.find(query).sort("created_at", ASCENDING).limit(500).to_list()

    async def transition(self, app_id: str, version: int, allowed: list[str], set_: dict[str, Any],
                         timeline: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Move state only from ``allowed`` states and only at ``version`` (optimistic lock).
        The whole timeline is written back (the version guard makes that safe); ``$push`` of
        documents is one of the operations nx-27017 gets wrong."""
        return await self.apps.find_one_and_update(
            {"_id": app_id, "version": version, "state": {"$in": allowed}},
            {"$set": {**set_, "timeline": timeline}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def mark_notified(self, app_id: str, version: int, upto: int) -> None:
        """Outbox done up to ``upto`` — cleared only if no newer change came meanwhile."""
        await self.apps.update_one({"_id": app_id, "version": version},
                                   {"$set": {"notified_upto": upto, "outbox_pending": False}})

    async def outbox_pending(self, older_than: int) -> list[dict[str, Any]]:
        docs = await self.apps.find({"outbox_pending": True}).limit(200).to_list()
        return [d for d in docs if d.get("updated_at", 0) < older_than]

    # -- uploads ------------------------------------------------------------------------------------

    async def insert_upload(self, doc: dict[str, Any]) -> None:
        await self.uploads.insert_one(doc)

    async def upload(self, upload_id: str) -> dict[str, Any] | None:
        return await self.uploads.find_one({"_id": upload_id})


class RatingStore:
    def __init__(self, db: AsyncDatabase):
        self.ratings = db[RATINGS.name]
        self.rects = db[RECTIFICATIONS.name]

    async def insert(self, doc: dict[str, Any]) -> bool:
        try:
            await self.ratings.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def get(self, app_id: str) -> dict[str, Any] | None:
        return await self.ratings.find_one({"_id": app_id})

    async def replace(self, app_id: str, version: int, doc: dict[str, Any]) -> bool:
        result = await self.ratings.replace_one({"_id": app_id, "version": version}, doc)
        return result.modified_count == 1

    async def of_department(self, department: str) -> list[dict[str, Any]]:
        return await self.ratings.find({"department": department}).to_list()

    async def insert_rectification(self, doc: dict[str, Any]) -> bool:
        try:
            await self.rects.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def rectification(self, rect_id: str) -> dict[str, Any] | None:
        return await self.rects.find_one({"_id": rect_id})

    async def rectifications(self, department: str, state: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"department": department}
        if state:
            query["state"] = state
        return await self.rects.find(query).sort("created_at", DESCENDING).to_list()

    async def update_rectification(self, rect_id: str, expected_state: str, set_: dict[str, Any]
                                   ) -> dict[str, Any] | None:
        return await self.rects.find_one_and_update({"_id": rect_id, "state": expected_state}, {"$set": set_},
                                                    return_document=ReturnDocument.AFTER)
