"""Tickets in MongoDB: one document per ticket (its timeline is its outbox, as for
applications), numbers from a daily counter, Open311 partners and their keys (hashed)."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

TICKETS = CollectionSpec("tickets", (
    IndexModel([("submitter_key", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("number", ASCENDING)], unique=True),
    IndexModel([("state", ASCENDING), ("due_at", ASCENDING)]),
    IndexModel([("lead_department", ASCENDING), ("state", ASCENDING)]),
    IndexModel([("outbox_pending", ASCENDING)]),
    IndexModel([("created_at", DESCENDING)]),
    IndexModel([("related.rectification_id", ASCENDING)], sparse=True),
    IndexModel([("related.rating_id", ASCENDING)], sparse=True),
))
COUNTERS = CollectionSpec("ticket_counters")
PARTNERS = CollectionSpec("open311_partners", (IndexModel([("key_hash", ASCENDING)], unique=True),))
COLLECTIONS = [TICKETS, COUNTERS, PARTNERS]


class TicketStore:
    def __init__(self, db: AsyncDatabase):
        self._tickets = db[TICKETS.name]
        self._counters = db[COUNTERS.name]
        self._partners = db[PARTNERS.name]

    async def next_number(self, day: str) -> int:
        doc = await self._counters.find_one_and_update({"_id": day}, {"$inc": {"n": 1}}, upsert=True,
                                                      return_document=ReturnDocument.AFTER)
        return int(doc["n"])

    async def insert(self, doc: dict[str, Any]) -> None:
        await self._tickets.insert_one(doc)

    async def get(self, ticket_id: str) -> dict[str, Any] | None:
        return await self._tickets.find_one({"_id": ticket_id})

    async def by_number(self, number: str) -> dict[str, Any] | None:
        return await self._tickets.find_one({"number": number})

    async def of_submitter(self, key: str, limit: int = 200) -> list[dict[str, Any]]:
        return await self._tickets.find({"submitter_key": key}).sort("created_at", DESCENDING).limit(limit).to_list()

    async def in_states(self, states: list[str], department: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"state": {"$in": states}}
        if department is not None:
            query["$or"] = [{"lead_department": department}, {"co_departments": department}]
        return await self._tickets.find(query).sort("created_at", ASCENDING).limit(limit).to_list()

    async def open_on_rectifications(self, rect_ids: list[str] | None, open_states: list[str],
                                     limit: int = 500) -> list[dict[str, Any]]:
        """Open tickets resting on a rectification (on the given ones, or on any)."""
        cond: dict[str, Any] = {"$in": rect_ids} if rect_ids is not None else {"$type": "string"}
        return await self._tickets.find({"related.rectification_id": cond, "state": {"$in": open_states}}
                                        ).limit(limit).to_list()

    async def on_rating(self, rating_id: str) -> list[dict[str, Any]]:
        return await self._tickets.find({"related.rating_id": rating_id}).to_list()

    async def since(self, created_after: int, limit: int = 20_000) -> list[dict[str, Any]]:
        return await self._tickets.find({"created_at": {"$gte": created_after}}).limit(limit).to_list()

    async def partner_tickets(self, partner: str | None, since: int, until: int, limit: int = 1000) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"submitter.kind": "partner", "created_at": {"$gte": since, "$lte": until}}
        if partner:
            query["submitter.partner"] = partner
        return await self._tickets.find(query).sort("created_at", DESCENDING).limit(limit).to_list()

    async def transition(self, ticket_id: str, version: int, allowed: list[str], set_: dict[str, Any],
                         timeline: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Only from ``allowed`` states and only at ``version``; the whole timeline written back."""
        return await self._tickets.find_one_and_update(
            {"_id": ticket_id, "version": version, "state": {"$in": allowed}},
            {"$set": {**set_, "timeline": timeline}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER)

    async def mark_notified(self, ticket_id: str, version: int, upto: int) -> None:
        await self._tickets.update_one({"_id": ticket_id, "version": version},
                                       {"$set": {"notified_upto": upto, "outbox_pending": False}})

    async def outbox_pending(self, older_than: int) -> list[dict[str, Any]]:
        docs = await self._tickets.find({"outbox_pending": True}).limit(200).to_list()
        return [d for d in docs if d.get("updated_at", 0) < older_than]

    # -- Open311 partners ------------------------------------------------------------------------

    async def insert_partner(self, doc: dict[str, Any]) -> None:
        await self._partners.insert_one(doc)

    async def partner_by_key(self, key_hash: str) -> dict[str, Any] | None:
        return await self._partners.find_one({"key_hash": key_hash, "status": "active"})

    async def partners(self) -> list[dict[str, Any]]:
        return await self._partners.find({}).to_list()
