"""Storage of 一件事 parents (MongoDB); their children are ordinary applications with ``parent``."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

BUNDLE_APPLICATIONS = CollectionSpec("bundle_applications", (IndexModel([("applicant_key", ASCENDING)]),))
COLLECTIONS = [BUNDLE_APPLICATIONS]


class BundleStore:
    def __init__(self, db: AsyncDatabase):
        self._parents = db[BUNDLE_APPLICATIONS.name]

    async def insert(self, doc: dict[str, Any]) -> None:
        await self._parents.insert_one(doc)

    async def get(self, parent_id: str) -> dict[str, Any] | None:
        return await self._parents.find_one({"_id": parent_id})
