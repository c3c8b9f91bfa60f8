"""Storage of registered kiosks and window devices: the registry (MongoDB) and its copy
in Redis, which the scan reads on the hot path (inside the scan script)."""
from __future__ import annotations

import json
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec
from identity.sessions.storage import subject_tag
from server.storage.redis import Client, Keys

DEVICES = CollectionSpec(
    "devices",
    (IndexModel([("device_id", ASCENDING)], unique=True), IndexModel([("key_thumbprint", ASCENDING)])),
)
COLLECTIONS = [DEVICES]


def device_cache_key(keys: Keys, device_id: str) -> str:
    """The Redis copy of a device (status, name, location, department, scopes, items), in the
    hash slot of the device's own tokens (the scan reads both in one round trip)."""
    return keys.tagged(subject_tag(f"device:{device_id}"), "device")


async def devices_with_thumbprints(db: AsyncDatabase, thumbprints: list[str]) -> list[str]:
    docs = await db[DEVICES.name].find({"key_thumbprint": {"$in": thumbprints}}, {"device_id": 1}).to_list()
    return [d["device_id"] for d in docs]


class DeviceStore:
    def __init__(self, db: AsyncDatabase, redis: Client, keys: Keys):
        self._coll = db[DEVICES.name]
        self._redis = redis
        self._keys = keys

    async def get(self, device_id: str) -> dict[str, Any] | None:
        return await self._coll.find_one({"device_id": device_id})

    async def insert(self, doc: dict[str, Any]) -> bool:
        try:
            await self._coll.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def all(self) -> list[dict[str, Any]]:
        return await self._coll.find({}).sort("device_id", 1).to_list()

    async def set_status(self, device_id: str, status: str, now: int) -> dict[str, Any] | None:
        return await self._coll.find_one_and_update({"device_id": device_id},
                                                    {"$set": {"status": status, "updated_at": now}},
                                                    return_document=ReturnDocument.AFTER)

    # -- the Redis copy -------------------------------------------------------------------------

    async def cache(self, device: dict[str, Any]) -> None:
        await self._redis.hset(device_cache_key(self._keys, device["device_id"]), mapping={
            "status": device["status"], "name": device["name"], "location": device["location"],
            "department": device["department"], "scopes": json.dumps(device["scopes"]),
            "items": json.dumps(device.get("items", [])),
        })

    async def cached(self, device_id: str) -> dict[str, Any] | None:
        raw = await self._redis.hgetall(device_cache_key(self._keys, device_id))
        if not raw:
            return None
        d = {k.decode(): v.decode() for k, v in raw.items()}
        return {**d, "device_id": device_id, "scopes": json.loads(d["scopes"]), "items": json.loads(d["items"])}
