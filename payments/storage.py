"""The payments domain's only database code: orders (one per charged application), the
ledger (insert-only: no code here updates or deletes an entry) and the reconciliation
reports (collections private to this module)."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.clock import now_ms
from server.storage.mongo import CollectionSpec

ORDERS = CollectionSpec("payment_orders", (
    IndexModel([("application_id", ASCENDING)], unique=True),
    IndexModel([("attempt_refs", ASCENDING)]),
    IndexModel([("sweep", ASCENDING), ("updated_at", ASCENDING)]),
    IndexModel([("person_id", ASCENDING), ("state", ASCENDING)]),
    IndexModel([("refund_failed", ASCENDING), ("merchant", ASCENDING)], sparse=True),
))
LEDGER = CollectionSpec("payment_ledger", (
    IndexModel([("day", ASCENDING), ("merchant", ASCENDING)]),
    IndexModel([("order_id", ASCENDING), ("at", ASCENDING)]),
))
RECONCILIATIONS = CollectionSpec("payment_reconciliations", ())
COLLECTIONS = [ORDERS, LEDGER, RECONCILIATIONS]


class OrderStore:
    def __init__(self, db: AsyncDatabase):
        self._orders = db[ORDERS.name]

    async def insert(self, doc: dict[str, Any]) -> bool:
        """False when the application already has its order."""
        try:
            await self._orders.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def get(self, order_id: str) -> dict[str, Any] | None:
        return await self._orders.find_one({"_id": order_id})

    async def of_application(self, application_id: str) -> dict[str, Any] | None:
        return await self._orders.find_one({"application_id": application_id})

    async def of_applications(self, application_ids: list[str]) -> list[dict[str, Any]]:
        return await self._orders.find({"application_id": {"$in": application_ids}}).to_list(None)

    async def by_attempt(self, out_trade_no: str) -> dict[str, Any] | None:
        return await self._orders.find_one({"attempt_refs": {"$in": [out_trade_no]}})

    async def move(self, order_id: str, version: int, set_: dict[str, Any]) -> dict[str, Any] | None:
        """Apply ``set_`` if nobody changed the order since ``version`` was read (else None)."""
        return await self._orders.find_one_and_update(
            {"_id": order_id, "version": version},
            {"$set": {**set_, "updated_at": now_ms()}, "$inc": {"version": 1}}, return_document=ReturnDocument.AFTER)

    async def waiting(self, updated_before: int, limit: int = 100) -> list[dict[str, Any]]:
        """Orders with something to settle (``sweep``) untouched since ``updated_before``."""
        return await self._orders.find({"sweep": True, "updated_at": {"$lt": updated_before}}
                                       ).sort("updated_at", 1).to_list(limit)

    async def with_failed_refunds(self, merchant: str, limit: int = 200) -> list[dict[str, Any]]:
        """Orders of a merchant account with a refund WeChat closed or found abnormal."""
        return await self._orders.find({"refund_failed": True, "merchant": merchant}).sort("updated_at", 1
                                                                                         ).to_list(limit)

    async def unsettled_of_person(self, person_id: str) -> list[dict[str, Any]]:
        """A person's orders with money still moving (a payment to confirm, a refund to come)."""
        return await self._orders.find({"person_id": person_id, "state": {"$in": ["paying", "refunding"]}}
                                       ).to_list(100)

    async def rename_payer(self, person_id: str, pseudonym: str) -> int:
        result = await self._orders.update_many({"person_id": person_id}, {"$set": {"applicant_name": pseudonym}})
        return result.modified_count


class Ledger:
    """Every charge, waiver, payment and refund, once (the entry's ``_id`` is its natural key:
    a notification delivered twice writes nothing the second time)."""

    def __init__(self, db: AsyncDatabase):
        self._entries = db[LEDGER.name]

    async def add(self, entry: dict[str, Any]) -> bool:
        """False when that entry is already there."""
        try:
            await self._entries.insert_one(entry)
            return True
        except DuplicateKeyError:
            return False

    async def of_day(self, day: str, merchant: str) -> list[dict[str, Any]]:
        return await self._entries.find({"day": day, "merchant": merchant}).sort("at", 1).to_list(None)

    async def of_order(self, order_id: str) -> list[dict[str, Any]]:
        return await self._entries.find({"order_id": order_id}).sort("at", 1).to_list(None)


class ReconciliationStore:
    def __init__(self, db: AsyncDatabase):
        self._reports = db[RECONCILIATIONS.name]

    async def save(self, report: dict[str, Any]) -> None:
        fields = {k: v for k, v in report.items() if k != "_id"}
        if (await self._reports.update_one({"_id": report["_id"]}, {"$set": fields})).matched_count:
            return
        try:
            await self._reports.insert_one(report)
        except DuplicateKeyError:  # saved meanwhile by another run of the same day
            await self._reports.update_one({"_id": report["_id"]}, {"$set": fields})

    async def get(self, report_id: str) -> dict[str, Any] | None:
        return await self._reports.find_one({"_id": report_id})
