"""MongoDB through PyMongo's native async API, and the idempotent schema step.

Each domain declares its collections and indexes as :class:`CollectionSpec` values in
its own storage module; :func:`ensure_schema` creates them all at start-up. Creating
every collection up front also avoids reading a never-created collection, which the
embedded nx-27017 server does not support.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure, PyMongoError
from pymongo.write_concern import WriteConcern

from server.clock import now_ms
from server.config import Settings

CANNOT_CREATE_INDEX = 67  # e.g. a unique index not prefixed by the shard key
log = logging.getLogger("superapp.storage")


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    indexes: tuple[IndexModel, ...] = field(default_factory=tuple)


def make_client(settings: Settings, uri: str) -> AsyncMongoClient:
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        appname="superapp",
        serverSelectionTimeoutMS=min(settings.mongodb.server_selection_timeout_ms, settings.mongodb.timeout_ms),
        timeoutMS=settings.mongodb.timeout_ms,
        uuidRepresentation="standard",
    )


def database(client: AsyncMongoClient, settings: Settings) -> AsyncDatabase:
    wc = WriteConcern(w=settings.mongodb.write_concern_w, j=settings.mongodb.write_concern_journal)
    return client.get_database(settings.mongodb.database, write_concern=wc)


async def wait_until_reachable(client: AsyncMongoClient, timeout: float) -> None:
    """Ping until the server answers (a replica set may still be electing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await client.admin.command("ping")
            return
        except PyMongoError:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.5)


async def ping(client: AsyncMongoClient) -> None:
    await client.admin.command("ping")


async def ensure_schema(db: AsyncDatabase, specs: Iterable[CollectionSpec]) -> list[str]:
    """Create missing collections and their indexes; safe to run again and concurrently."""
    specs = list(specs)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"collection declared twice: {sorted(n for n in names if names.count(n) > 1)}")
    existing = set(await db.list_collection_names())
    created = []
    for spec in specs:
        if spec.name not in existing:
            try:
                await db.create_collection(spec.name)
                created.append(spec.name)
            except CollectionInvalid:
                pass  # another process created it meanwhile
        if spec.indexes:
            await _create_indexes(db, spec)
    if created:
        log.info("created collections: %s", ", ".join(created))
    return created


async def _create_indexes(db: AsyncDatabase, spec: CollectionSpec) -> None:
    try:
        await db[spec.name].create_indexes(list(spec.indexes))
        return
    except OperationFailure as e:
        if e.code != CANNOT_CREATE_INDEX:
            raise
    # A sharded collection cannot have a unique index that does not start with its shard key
    # (docs/SCALING.md names the ones dropped when sharding): create the others, say which not.
    for index in spec.indexes:
        try:
            await db[spec.name].create_indexes([index])
        except OperationFailure as e:
            if e.code != CANNOT_CREATE_INDEX:
                raise
            log.warning("%s: index %s not created (%s)", spec.name, index.document.get("key"), e.details and
                        e.details.get("errmsg"))


async def insert_if_absent(db: AsyncDatabase, collection: str, key: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Insert ``doc`` unless a document matching ``key`` exists (idempotent); True if inserted."""
    result = await db[collection].update_one(
        key, {"$setOnInsert": {**key, **doc, "created_at": now_ms()}}, upsert=True
    )
    return result.upserted_id is not None
