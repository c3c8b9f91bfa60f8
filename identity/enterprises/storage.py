"""Storage of enterprises and their agents (MongoDB)."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

ENTERPRISES = CollectionSpec(
    "enterprises", (IndexModel([("uscc", ASCENDING)], unique=True), IndexModel([("admin_person_id", ASCENDING)]))
)
AGENTS = CollectionSpec(
    "enterprise_agents",
    (IndexModel([("enterprise_id", ASCENDING)]), IndexModel([("person_id", ASCENDING)]),
     IndexModel([("invitee_phone_bidx", ASCENDING)])),
)
# One live authorisation per (enterprise, person): _id "<enterprise>:<person>".
AGENT_CLAIMS = CollectionSpec("enterprise_agent_claims")

COLLECTIONS = [ENTERPRISES, AGENTS, AGENT_CLAIMS]


class EnterpriseStore:
    def __init__(self, db: AsyncDatabase):
        self._enterprises = db[ENTERPRISES.name]
        self._agents = db[AGENTS.name]
        self._claims = db[AGENT_CLAIMS.name]

    async def insert(self, doc: dict[str, Any]) -> bool:
        """False if an enterprise with this USCC is already bound."""
        try:
            await self._enterprises.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def get(self, enterprise_id: str) -> dict[str, Any] | None:
        return await self._enterprises.find_one({"_id": enterprise_id})

    async def by_uscc(self, uscc: str) -> dict[str, Any] | None:
        return await self._enterprises.find_one({"uscc": uscc})

    async def administered_by(self, person_id: str) -> list[dict[str, Any]]:
        return await self._enterprises.find({"admin_person_id": person_id}).to_list()

    async def many(self, ids: list[str]) -> list[dict[str, Any]]:
        return await self._enterprises.find({"_id": {"$in": ids}}).to_list() if ids else []

    # -- agents ---------------------------------------------------------------------------

    async def insert_agent(self, doc: dict[str, Any]) -> None:
        await self._agents.insert_one(doc)

    async def agent(self, agent_id: str) -> dict[str, Any] | None:
        return await self._agents.find_one({"_id": agent_id})

    async def agents_of(self, enterprise_id: str) -> list[dict[str, Any]]:
        return await self._agents.find({"enterprise_id": enterprise_id}).sort("created_at", 1).to_list()

    async def agents_for_person(self, person_id: str) -> list[dict[str, Any]]:
        return await self._agents.find({"person_id": person_id}).to_list()

    async def invitations_by_phone(self, phone_bidx: str) -> list[dict[str, Any]]:
        return await self._agents.find({"invitee_phone_bidx": phone_bidx, "status": "invited"}).to_list()

    async def update_agent(self, agent_id: str, version: int, set_: dict[str, Any]) -> dict[str, Any] | None:
        """Optimistic update: None if the version moved on meanwhile."""
        return await self._agents.find_one_and_update(
            {"_id": agent_id, "version": version}, {"$set": set_, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def claim_agent_slot(self, enterprise_id: str, person_id: str, agent_id: str) -> str:
        """Reserve the single live authorisation of a person for an enterprise; returns its holder."""
        key = f"{enterprise_id}:{person_id}"
        try:
            await self._claims.insert_one({"_id": key, "agent_id": agent_id})
            return agent_id
        except DuplicateKeyError:
            doc = await self._claims.find_one({"_id": key})
            return doc["agent_id"] if doc else agent_id

    async def release_agent_slot(self, enterprise_id: str, person_id: str, agent_id: str) -> None:
        await self._claims.delete_one({"_id": f"{enterprise_id}:{person_id}", "agent_id": agent_id})
