"""Idempotency records (MongoDB): one document per (scope, key), claimed by its ``_id``."""
from __future__ import annotations

import secrets
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

IDEMPOTENCY = CollectionSpec("idempotency_keys", (IndexModel([("created_at", ASCENDING)]),))
COLLECTIONS = [IDEMPOTENCY]


class IdempotencyStore:
    def __init__(self, db: AsyncDatabase):
        self._coll = db[IDEMPOTENCY.name]

    async def claim(self, key: str, body_hash: str, now: int) -> tuple[bool, dict[str, Any] | None]:
        """(True, the new record with a fresh reservation) if this call claimed the key;
        otherwise (False, the record that holds it)."""
        doc = {"_id": key, "body_hash": body_hash, "response": None, "created_at": now,
               "reserved": secrets.token_hex(12)}
        try:
            await self._coll.insert_one(doc)
            return True, doc
        except DuplicateKeyError:
            return False, await self._coll.find_one({"_id": key})

    async def take_over(self, key: str, claimed_at: int, now: int) -> dict[str, Any] | None:
        """Take an unanswered claim made at ``claimed_at`` (None if someone else did)."""
        return await self._coll.find_one_and_update({"_id": key, "response": None, "created_at": claimed_at},
                                                    {"$set": {"created_at": now}}, return_document=ReturnDocument.AFTER)

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self._coll.find_one({"_id": key})

    async def finish(self, key: str, response: dict[str, Any]) -> None:
        await self._coll.update_one({"_id": key}, {"$set": {"response": response}})

    async def release(self, key: str) -> None:
        await self._coll.delete_one({"_id": key, "response": None})

    async def prune(self, older_than: int) -> int:
        return (await self._coll.delete_many({"created_at": {"$lt": older_than}})).deleted_count
