"""The application context: every dependency, built once at start-up and passed in."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from server.config import Settings
from server.pii import PiiCipher
from server.storage import mongo as mongo_storage
from server.storage import redis as redis_storage

if TYPE_CHECKING:
    from server.demo import DemoData


@dataclass
class AppContext:
    settings: Settings
    mongo: AsyncMongoClient
    db: AsyncDatabase
    redis: aioredis.Redis
    keys: redis_storage.Keys
    pii: PiiCipher
    demo: "DemoData | None" = None
    started_at: float = field(default_factory=time.time)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.mongo.close()


async def build_context(settings: Settings, mongo_uri: str, redis_url: str) -> AppContext:
    mongo = mongo_storage.make_client(settings, mongo_uri)
    redis = redis_storage.make_client(redis_url)
    pii = PiiCipher(
        settings.security.key_bytes("pii_encryption_key"),
        settings.security.key_bytes("blind_index_key"),
    )
    return AppContext(
        settings=settings,
        mongo=mongo,
        db=mongo_storage.database(mongo, settings),
        redis=redis,
        keys=redis_storage.Keys(settings.redis.key_prefix),
        pii=pii,
    )
