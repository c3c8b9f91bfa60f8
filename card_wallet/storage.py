"""MongoDB storage of the wallet domain."""
from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from server.storage.mongo import CollectionSpec

ISSUERS = CollectionSpec("issuers", (IndexModel([("code", ASCENDING)], unique=True),))
# One document per signing key (keys rotate; queries stay on scalar fields).
ISSUER_KEYS = CollectionSpec(
    "issuer_keys",
    (
        IndexModel([("kid", ASCENDING)], unique=True),
        IndexModel([("issuer", ASCENDING)]),
        IndexModel([("thumbprint", ASCENDING)]),
    ),
)

COLLECTIONS = [ISSUERS, ISSUER_KEYS]


async def issuers_with_thumbprints(db: AsyncDatabase, thumbprints: list[str]) -> list[str]:
    docs = await db[ISSUER_KEYS.name].find({"thumbprint": {"$in": thumbprints}}, {"issuer": 1}).to_list()
    return sorted({d["issuer"] for d in docs})
