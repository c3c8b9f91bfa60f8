"""Storage of the holder side of the wallet (MongoDB): shares (亮证), the holder's usage log
(用证记录) and expiry reminders."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

SHARES = CollectionSpec("certificate_shares", (IndexModel([("certificate_id", ASCENDING)]),))
# 用证记录: every use of a certificate, readable by its holder.
USAGE = CollectionSpec("certificate_usage", (IndexModel([("holder", ASCENDING), ("at", DESCENDING)]),))
REMINDERS = CollectionSpec("certificate_reminders", (IndexModel([("holder", ASCENDING)]),))
COLLECTIONS = [SHARES, USAGE, REMINDERS]


class HoldingStore:
    def __init__(self, db: AsyncDatabase):
        self._shares = db[SHARES.name]
        self._usage = db[USAGE.name]
        self._reminders = db[REMINDERS.name]


    async def insert_share(self, doc: dict[str, Any]) -> None:
        await self._shares.insert_one(doc)

    async def share(self, token_hash: str) -> dict[str, Any] | None:
        return await self._shares.find_one({"_id": token_hash})

    async def record_usage(self, doc: dict[str, Any]) -> None:
        await self._usage.insert_one(doc)

    async def usage_of(self, holder: str, limit: int, before: int | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"holder": holder}
        if before is not None:
            query["at"] = {"$lt": before}
        return await self._usage.find(query).sort("at", DESCENDING).limit(limit).to_list()

    async def add_reminder(self, doc: dict[str, Any]) -> bool:
        try:
            await self._reminders.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def reminders_of(self, holder: str) -> list[dict[str, Any]]:
        return await self._reminders.find({"holder": holder}).sort("valid_until", 1).to_list()
