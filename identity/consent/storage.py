"""Storage of consents (MongoDB): a kiosk's or window's request for a holder's data and
the holder's item-by-item decision."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

CONSENTS = CollectionSpec(
    "consents", (IndexModel([("notify", ASCENDING), ("state", ASCENDING)]), IndexModel([("scan_id", ASCENDING)]))
)
COLLECTIONS = [CONSENTS]


class ConsentStore:
    def __init__(self, db: AsyncDatabase):
        self._consents = db[CONSENTS.name]

    async def insert(self, doc: dict[str, Any]) -> None:
        await self._consents.insert_one(doc)

    async def get(self, consent_id: str) -> dict[str, Any] | None:
        return await self._consents.find_one({"_id": consent_id})

    async def for_person(self, person_id: str) -> list[dict[str, Any]]:
        return await self._consents.find({"notify": person_id}).sort("created_at", DESCENDING).limit(100).to_list()

    async def update(self, consent_id: str, version: int, set_: dict[str, Any]) -> dict[str, Any] | None:
        return await self._consents.find_one_and_update(
            {"_id": consent_id, "version": version}, {"$set": set_, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def purposes_of(self, scan_ids: list[str]) -> dict[str, str]:
        """The purpose each scan's consent request stated (用码记录 shows it)."""
        if not scan_ids:
            return {}
        docs = await self._consents.find({"scan_id": {"$in": scan_ids}}, {"scan_id": 1, "purpose": 1}).to_list()
        return {d["scan_id"]: d["purpose"] for d in docs}
