"""Storage of the append-only audit trail (MongoDB)."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from server.storage.mongo import CollectionSpec

AUDIT_LOG = CollectionSpec("audit_log", (IndexModel([("chain", ASCENDING), ("seq", ASCENDING)], unique=True),
                                         IndexModel([("chain", ASCENDING), ("event", ASCENDING)])))
# The newest (seq, hash) of each chain, kept apart from the entries: removing the last
# entries of a chain then shows as a gap between the chain and its head.
AUDIT_HEADS = CollectionSpec("audit_heads")

COLLECTIONS = [AUDIT_LOG, AUDIT_HEADS]


class AuditStore:
    def __init__(self, db: AsyncDatabase):
        self.log = db[AUDIT_LOG.name]
        self.heads = db[AUDIT_HEADS.name]

    async def last(self, chain: str) -> dict[str, Any] | None:
        docs = await self.log.find({"chain": chain}).sort("seq", DESCENDING).limit(1).to_list()
        return docs[0] if docs else None

    async def append_many(self, entries: list[dict[str, Any]]) -> int:
        """Insert entries in order; how many went in before a (chain, seq) taken by a
        concurrent writer (0 if the first was)."""
        try:
            await self.log.insert_many(entries, ordered=True)
            return len(entries)
        except DuplicateKeyError:
            return 0
        except BulkWriteError as e:
            errors = e.details.get("writeErrors", [])
            if not errors or any(err.get("code") != 11000 for err in errors):
                raise
            return int(errors[0].get("index", 0))

    async def events_in(self, chain: str, events: list[str]) -> set[str]:
        if not events:
            return set()
        docs = await self.log.find({"chain": chain, "event": {"$in": events}}, {"event": 1}).to_list()
        return {d["event"] for d in docs}

    async def advance_head(self, chain: str, seq: int, hash_: str) -> None:
        """Move the head forward (never back); one upsert."""
        try:
            await self.heads.update_one({"_id": chain, "seq": {"$lt": seq}}, {"$set": {"seq": seq, "hash": hash_}},
                                        upsert=True)
        except DuplicateKeyError:
            pass  # a concurrent writer already moved the head further

    async def head(self, chain: str) -> dict[str, Any] | None:
        return await self.heads.find_one({"_id": chain})

    async def entries(self, chain: str, *, newest_first: bool = False, limit: int = 0,
                      before_seq: int | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"chain": chain}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        cursor = self.log.find(query, {"_id": 0}).sort("seq", DESCENDING if newest_first else ASCENDING)
        if limit:
            cursor = cursor.limit(limit)
        return await cursor.to_list()
