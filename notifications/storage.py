"""Storage of notifications: one document per notification, _id = its dedup key."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from server.storage.mongo import CollectionSpec

NOTIFICATIONS = CollectionSpec(
    "notifications",
    (IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]), IndexModel([("application_id", ASCENDING)]),
     IndexModel([("department", ASCENDING), ("created_at", DESCENDING)])),
)
COLLECTIONS = [NOTIFICATIONS]


class NotificationStore:
    def __init__(self, db: AsyncDatabase):
        self._coll = db[NOTIFICATIONS.name]

    async def add_many(self, docs: list[dict[str, Any]]) -> int:
        """Insert those whose key is new; returns how many were."""
        if not docs:
            return 0
        try:
            return len((await self._coll.insert_many(docs, ordered=False)).inserted_ids)
        except BulkWriteError as e:
            errors = e.details.get("writeErrors", [])
            if any(err.get("code") != 11000 for err in errors):
                raise
            return len(docs) - len(errors)

    async def claim(self, owner: str, now: int, lease_ms: int) -> dict[str, Any] | None:
        """Lease one due notification: pending and due, or sending with an expired lease."""
        for status in ("pending", "sending"):
            doc = await self._coll.find_one_and_update(
                {"status": status, "next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}},
                {"$set": {"status": "sending", "lease_until": now + lease_ms, "lease_owner": owner},
                 "$inc": {"attempts": 1}},
                sort=[("next_attempt_at", ASCENDING)], return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return doc
        return None

    async def finish(self, key: str, owner: str, set_: dict[str, Any]) -> bool:
        result = await self._coll.update_one({"_id": key, "lease_owner": owner, "status": "sending"}, {"$set": set_})
        return result.modified_count == 1

    async def of_application(self, app_id: str) -> list[dict[str, Any]]:
        return await self._coll.find({"application_id": app_id}).sort("created_at", ASCENDING).to_list()

    async def recent(self, status: str | None, limit: int, department: str | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"status": status} if status else {}
        if department is not None:
            query["department"] = department
        return await self._coll.find(query).sort("created_at", DESCENDING).limit(limit).to_list()

    async def count(self, status: str) -> int:
        return await self._coll.count_documents({"status": status})
