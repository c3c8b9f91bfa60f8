"""The proxies domain's only database code: grants (collection private to this module)."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

LIVE = ["pending", "active"]
GRANTS = CollectionSpec("proxy_grants", (
    IndexModel([("principal_id", ASCENDING), ("state", ASCENDING)]),
    IndexModel([("proxy_id", ASCENDING), ("state", ASCENDING)]),
    IndexModel([("state", ASCENDING), ("expires_at", ASCENDING)]),
))
COLLECTIONS = [GRANTS]


class GrantStore:
    def __init__(self, db: AsyncDatabase):
        self._grants = db[GRANTS.name]

    async def insert(self, doc: dict[str, Any]) -> None:
        await self._grants.insert_one(doc)

    async def get(self, grant_id: str) -> dict[str, Any] | None:
        return await self._grants.find_one({"_id": grant_id})

    async def live_between(self, principal_id: str, proxy_id: str) -> dict[str, Any] | None:
        return await self._grants.find_one({"principal_id": principal_id, "proxy_id": proxy_id,
                                            "state": {"$in": LIVE}})

    async def of_principal(self, principal_id: str) -> list[dict[str, Any]]:
        return await self._grants.find({"principal_id": principal_id}).sort("created_at", -1).to_list(100)

    async def of_proxy(self, proxy_id: str) -> list[dict[str, Any]]:
        return await self._grants.find({"proxy_id": proxy_id}).sort("created_at", -1).to_list(100)

    async def update(self, grant_id: str, version: int, from_states: list[str], set_: dict[str, Any]
                     ) -> dict[str, Any] | None:
        """Change a grant only from one of ``from_states`` at ``version`` (else None)."""
        return await self._grants.find_one_and_update(
            {"_id": grant_id, "version": version, "state": {"$in": from_states}},
            {"$set": set_, "$inc": {"version": 1}}, return_document=ReturnDocument.AFTER)

    async def due_to_expire(self, now: int, limit: int = 200) -> list[dict[str, Any]]:
        return await self._grants.find({"state": {"$in": LIVE}, "expires_at": {"$lte": now}}).to_list(limit)
