"""Storage of the matters domain (MongoDB): applications (with their timeline, which is
also the notification outbox), uploaded files, and number counters. Bundles and ratings
keep their own collections in their sub-packages."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

APPLICATIONS = CollectionSpec(
    "applications",
    (IndexModel([("applicant_key", ASCENDING), ("created_at", DESCENDING)]), IndexModel([("outbox_pending", ASCENDING)]),
     IndexModel([("department", ASCENDING), ("state", ASCENDING)]), IndexModel([("number", ASCENDING)], unique=True),
     IndexModel([("receiving.department", ASCENDING), ("state", ASCENDING)])),
)
UPLOADS = CollectionSpec("uploads", (IndexModel([("owner", ASCENDING)]),))
COUNTERS = CollectionSpec("counters")
COLLECTIONS = [APPLICATIONS, UPLOADS, COUNTERS]


class ApplicationStore:
    def __init__(self, db: AsyncDatabase):
        self._apps = db[APPLICATIONS.name]
        self._uploads = db[UPLOADS.name]
        self._counters = db[COUNTERS.name]

    async def next_number(self, name: str) -> int:
        doc = await self._counters.find_one_and_update({"_id": name}, {"$inc": {"n": 1}}, upsert=True,
                                                      return_document=ReturnDocument.AFTER)
        return int(doc["n"])

    # -- applications -------------------------------------------------------------------------------

    async def insert(self, doc: dict[str, Any]) -> None:
        await self._apps.insert_one(doc)

    async def get(self, app_id: str) -> dict[str, Any] | None:
        return await self._apps.find_one({"_id": app_id})

    async def many(self, app_ids: list[str]) -> list[dict[str, Any]]:
        """In the order of ``app_ids``."""
        docs = {d["_id"]: d for d in await self._apps.find({"_id": {"$in": app_ids}}).to_list()} if app_ids else {}
        return [docs[i] for i in app_ids if i in docs]

    async def set_parent(self, app_id: str, parent_id: str) -> None:
        await self._apps.update_one({"_id": app_id}, {"$set": {"parent": parent_id}})

    async def of_applicant(self, key: str) -> list[dict[str, Any]]:
        return await self._apps.find({"applicant_key": key}).sort("created_at", DESCENDING).limit(200).to_list()

    async def rename_applicant(self, key: str, name: str) -> int:
        """Every application of ``key`` shows ``name`` as its applicant (an account closed)."""
        result = await self._apps.update_many({"applicant_key": key}, {"$set": {"applicant.name": name}})
        return result.modified_count

    async def unfinished_of_applicant(self, key: str, finished: list[str]) -> list[dict[str, Any]]:
        return await self._apps.find({"applicant_key": key, "state": {"$nin": finished}}).limit(50).to_list()

    async def of_applicant_in(self, key: str, department: str) -> list[dict[str, Any]]:
        return await self._apps.find({"applicant_key": key, "department": department}).limit(500).to_list()

    async def of_department(self, department: str, states: list[str] | None, matter: str | None) -> list[dict[str, Any]]:
        """The department's applications: those it handles, and those it received for another (收受分离)."""
        query: dict[str, Any] = {"$or": [{"department": department}, {"receiving.department": department}]}
        if states:
            query["state"] = {"$in": states}
        if matter:
            query["matter"] = matter
        return await self._apps.find(query).sort("created_at", ASCENDING).limit(500).to_list()

    async def transition(self, app_id: str, version: int, allowed: list[str], set_: dict[str, Any],
                         timeline: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Move state only from ``allowed`` states and only at ``version`` (optimistic lock).
        The whole timeline is written back (the version guard makes that safe); ``$push`` of
        documents is one of the operations nx-27017 gets wrong."""
        return await self._apps.find_one_and_update(
            {"_id": app_id, "version": version, "state": {"$in": allowed}},
            {"$set": {**set_, "timeline": timeline}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def mark_notified(self, app_id: str, version: int, upto: int) -> None:
        """Outbox done up to ``upto`` — cleared only if no newer change came meanwhile."""
        await self._apps.update_one({"_id": app_id, "version": version},
                                   {"$set": {"notified_upto": upto, "outbox_pending": False}})

    async def outbox_pending(self, older_than: int) -> list[dict[str, Any]]:
        docs = await self._apps.find({"outbox_pending": True}).limit(200).to_list()
        return [d for d in docs if d.get("updated_at", 0) < older_than]

    # -- uploads ------------------------------------------------------------------------------------

    async def insert_upload(self, doc: dict[str, Any]) -> None:
        await self._uploads.insert_one(doc)

    async def upload(self, upload_id: str) -> dict[str, Any] | None:
        return await self._uploads.find_one({"_id": upload_id})

    async def uploads_in(self, upload_ids: list[str]) -> dict[str, dict[str, Any]]:
        docs = await self._uploads.find({"_id": {"$in": upload_ids}}).to_list() if upload_ids else []
        return {d["_id"]: d for d in docs}


