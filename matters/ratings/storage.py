"""Storage of 好差评 (MongoDB): one rating per application (``_id`` = application id); bad
ones open a rectification (整改) for the department."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

RATINGS = CollectionSpec("ratings", (IndexModel([("department", ASCENDING)]), IndexModel([("matter", ASCENDING)])))
RECTIFICATIONS = CollectionSpec("rectifications", (IndexModel([("department", ASCENDING), ("state", ASCENDING)]),))
COLLECTIONS = [RATINGS, RECTIFICATIONS]


class RatingStore:
    def __init__(self, db: AsyncDatabase):
        self._ratings = db[RATINGS.name]
        self._rects = db[RECTIFICATIONS.name]

    async def insert(self, doc: dict[str, Any]) -> bool:
        try:
            await self._ratings.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def get(self, app_id: str) -> dict[str, Any] | None:
        return await self._ratings.find_one({"_id": app_id})

    async def replace(self, app_id: str, version: int, doc: dict[str, Any]) -> bool:
        result = await self._ratings.replace_one({"_id": app_id, "version": version}, doc)
        return result.modified_count == 1

    async def of_department(self, department: str) -> list[dict[str, Any]]:
        return await self._ratings.find({"department": department}).to_list()

    async def insert_rectification(self, doc: dict[str, Any]) -> bool:
        try:
            await self._rects.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def rectification(self, rect_id: str) -> dict[str, Any] | None:
        return await self._rects.find_one({"_id": rect_id})

    async def rectifications_in(self, ids: list[str]) -> list[dict[str, Any]]:
        return await self._rects.find({"_id": {"$in": ids}}).to_list() if ids else []

    async def rectifications(self, department: str, state: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"department": department}
        if state:
            query["state"] = state
        return await self._rects.find(query).sort("created_at", DESCENDING).to_list()

    async def update_rectification(self, rect_id: str, expected_state: str, set_: dict[str, Any]
                                   ) -> dict[str, Any] | None:
        return await self._rects.find_one_and_update({"_id": rect_id, "state": expected_state}, {"$set": set_},
                                                    return_document=ReturnDocument.AFTER)
