"""MongoDB storage of the identity domain."""
from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

# The development population / enterprise registries stand in for the real
# 人口库 and 法人库 that production providers call over HTTP.
REGISTRY_PERSONS = CollectionSpec(
    "registry_persons", (IndexModel([("id_bidx", ASCENDING)], unique=True),)
)
REGISTRY_ENTERPRISES = CollectionSpec(
    "registry_enterprises", (IndexModel([("uscc", ASCENDING)], unique=True),)
)
STAFF = CollectionSpec(
    "staff_accounts",
    (
        IndexModel([("username", ASCENDING)], unique=True),
        IndexModel([("department", ASCENDING)]),
    ),
)
DEVICES = CollectionSpec(
    "devices",
    (
        IndexModel([("device_id", ASCENDING)], unique=True),
        IndexModel([("key_thumbprint", ASCENDING)]),
    ),
)

COLLECTIONS = [REGISTRY_PERSONS, REGISTRY_ENTERPRISES, STAFF, DEVICES]


async def devices_with_thumbprints(db: AsyncDatabase, thumbprints: list[str]) -> list[str]:
    docs = await db[DEVICES.name].find(
        {"key_thumbprint": {"$in": thumbprints}}, {"device_id": 1}
    ).to_list()
    return [d["device_id"] for d in docs]
