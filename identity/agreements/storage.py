"""Who agreed to which version of the agreements, and when: one record per phone (by its
blind index) and version pair, written before the first SMS goes out, so the agreement is
on record even if the login is never finished."""
from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

ACCEPTANCES = CollectionSpec("agreement_acceptances")
COLLECTIONS = [ACCEPTANCES]


def _key(phone_key: str, versions: dict[str, str]) -> str:
    return f"{phone_key}:" + ":".join(f"{k}={versions[k]}" for k in sorted(versions))


class AcceptanceStore:
    def __init__(self, db: AsyncDatabase):
        self._coll = db[ACCEPTANCES.name]

    async def record(self, phone_key: str, versions: dict[str, str], at: int, ip: str, channel: str) -> None:
        await self._coll.update_one(
            {"_id": _key(phone_key, versions)},
            {"$setOnInsert": {"phone_bidx": phone_key, "versions": versions, "first_at": at},
             "$set": {"last_at": at, "ip": ip, "channel": channel}},
            upsert=True)

    async def find(self, phone_key: str, versions: dict[str, str]) -> dict[str, Any] | None:
        return await self._coll.find_one({"_id": _key(phone_key, versions)})
