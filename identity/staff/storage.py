"""Storage of department staff accounts (MongoDB)."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

STAFF = CollectionSpec(
    "staff_accounts",
    (IndexModel([("username", ASCENDING)], unique=True), IndexModel([("department", ASCENDING)])),
)
COLLECTIONS = [STAFF]


class StaffStore:
    def __init__(self, db: AsyncDatabase):
        self._coll = db[STAFF.name]

    async def get(self, username: str) -> dict[str, Any] | None:
        return await self._coll.find_one({"username": username})
