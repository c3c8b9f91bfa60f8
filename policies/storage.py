"""The policies domain's only database code: claims, holders to re-check, holders seen, and
policies whose publication has been announced (collections private to this module)."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

CLAIMS = CollectionSpec("policy_claims", (
    IndexModel([("policy", ASCENDING), ("period", ASCENDING), ("holder", ASCENDING)], unique=True),
    IndexModel([("holder", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("department", ASCENDING), ("state", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("policy", ASCENDING), ("period", ASCENDING), ("state", ASCENDING)]),
))
RECHECKS = CollectionSpec("policy_rechecks", (IndexModel([("due_at", ASCENDING)]),))
HOLDERS = CollectionSpec("policy_holders", (IndexModel([("kind", ASCENDING)]),))
PUBLISHED = CollectionSpec("policy_published", ())
COLLECTIONS = [CLAIMS, RECHECKS, HOLDERS, PUBLISHED]


class ClaimStore:
    def __init__(self, db: AsyncDatabase):
        self._claims = db[CLAIMS.name]

    async def insert(self, doc: dict[str, Any]) -> bool:
        """False when the holder already has a claim for this policy and period."""
        try:
            await self._claims.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def get(self, claim_id: str) -> dict[str, Any] | None:
        return await self._claims.find_one({"_id": claim_id})

    async def of_holder_policy(self, holder: str, policy: str, period: str) -> dict[str, Any] | None:
        return await self._claims.find_one({"policy": policy, "period": period, "holder": holder})

    async def of_holder(self, holder: str, limit: int = 100) -> list[dict[str, Any]]:
        return await self._claims.find({"holder": holder}).sort("created_at", -1).to_list(limit)

    async def of_department(self, department: str, states: list[str] | None, policy: str | None,
                            limit: int = 200) -> list[dict[str, Any]]:
        q: dict[str, Any] = {"department": department}
        if states:
            q["state"] = {"$in": states}
        if policy:
            q["policy"] = policy
        return await self._claims.find(q).sort("created_at", -1).to_list(limit)

    async def granted(self, policy: str, period: str, states: list[str], limit: int = 500) -> list[dict[str, Any]]:
        return await self._claims.find({"policy": policy, "period": period, "state": {"$in": states}}
                                       ).sort("created_at", 1).to_list(limit)

    async def move(self, claim_id: str, from_states: list[str], set_: dict[str, Any], note: str,
                   extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Change a claim only from one of ``from_states`` (else None): the atomic step; ``note``
        (``state@ms[@by]``) goes to its history."""
        q = {"_id": claim_id, "state": {"$in": from_states}, **(extra or {})}
        return await self._claims.find_one_and_update(
            q, {"$set": set_, "$inc": {"version": 1}, "$push": {"history": note}},
            return_document=ReturnDocument.AFTER)


class RecheckStore:
    """Holders whose facts changed, until re-evaluated (the worker's outbox)."""

    def __init__(self, db: AsyncDatabase):
        self._rechecks = db[RECHECKS.name]
        self._holders = db[HOLDERS.name]
        self._published = db[PUBLISHED.name]

    async def mark(self, holder: str, now: int) -> None:
        await self._rechecks.update_one({"_id": holder}, {"$set": {"due_at": now}}, upsert=True)

    async def done(self, holder: str, due_at: int) -> None:
        await self._rechecks.delete_one({"_id": holder, "due_at": {"$lte": due_at}})

    async def due(self, before: int, limit: int = 200) -> list[dict[str, Any]]:
        return await self._rechecks.find({"due_at": {"$lte": before}}).sort("due_at", 1).to_list(limit)

    async def seen(self, holder: str, kind: str, person_id: str, now: int) -> None:
        await self._holders.update_one({"_id": holder}, {"$set": {"kind": kind, "person_id": person_id,
                                                                  "evaluated_at": now}}, upsert=True)

    async def holders(self, kind: str, after: str, limit: int = 500) -> list[dict[str, Any]]:
        return await self._holders.find({"kind": kind, "_id": {"$gt": after}}).sort("_id", 1).to_list(limit)

    async def announce(self, code: str, now: int) -> bool:
        """True the first time a policy's publication is announced (one worker does it)."""
        try:
            await self._published.insert_one({"_id": code, "at": now})
            return True
        except DuplicateKeyError:
            return False
