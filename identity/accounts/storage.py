"""Storage of person accounts: MongoDB (records of truth) and Redis (SMS login codes).

Uniqueness of a phone, a WeChat identity and an ID number is claimed through the ``_id``
of a binding document (``phone_bindings``, ``wechat_bindings``, ``id_bindings``): an
insert either wins or raises DuplicateKeyError, on real MongoDB and on nx-27017 alike.
"""
from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec, insert_if_absent
from server.storage.redis import Keys, count_in_window

# The development population / enterprise registries stand in for the real
# 人口库 and 法人库 that production providers call over HTTP.
REGISTRY_PERSONS = CollectionSpec("registry_persons", (IndexModel([("id_bidx", ASCENDING)], unique=True),))
REGISTRY_ENTERPRISES = CollectionSpec("registry_enterprises", (IndexModel([("uscc", ASCENDING)], unique=True),))
PERSONS = CollectionSpec("persons", (IndexModel([("realname.birth_date", ASCENDING)]),))  # birthdays (policies)
PHONE_BINDINGS = CollectionSpec("phone_bindings", (IndexModel([("person_id", ASCENDING)]),))
WECHAT_BINDINGS = CollectionSpec(
    "wechat_bindings", (IndexModel([("person_id", ASCENDING)]), IndexModel([("unionid", ASCENDING)]))
)
# unionid -> person: the same WeChat user across our mini-programs / official accounts.
WECHAT_UNIONS = CollectionSpec("wechat_unions", (IndexModel([("person_id", ASCENDING)]),))
ID_BINDINGS = CollectionSpec("id_bindings", (IndexModel([("person_id", ASCENDING)]),))
COLLECTIONS = [REGISTRY_PERSONS, REGISTRY_ENTERPRISES, PERSONS, PHONE_BINDINGS, WECHAT_BINDINGS, WECHAT_UNIONS,
               ID_BINDINGS]


class RegistryStore:
    """The development registries (read-only for the app; filled by the demo data and, for
    people with cross-border documents, :meth:`add_person`)."""

    def __init__(self, db: AsyncDatabase):
        self._db = db

    async def person_by_id_bidx(self, id_bidx: str) -> dict[str, Any] | None:
        return await self._db[REGISTRY_PERSONS.name].find_one({"id_bidx": id_bidx})

    async def add_person(self, id_bidx: str, fields: dict[str, Any]) -> bool:
        """A person of the development population registry (kept if already there)."""
        return await insert_if_absent(self._db, REGISTRY_PERSONS.name, {"id_bidx": id_bidx}, fields)

    async def enterprise(self, uscc: str) -> dict[str, Any] | None:
        return await self._db[REGISTRY_ENTERPRISES.name].find_one({"uscc": uscc})


class PersonStore:
    def __init__(self, db: AsyncDatabase):
        self._db = db
        self._persons = db[PERSONS.name]

    async def born_on(self, iso_day: str, limit: int = 10000) -> list[str]:
        """Ids of the verified persons born on this day (a daily job: birthdays crossing an age)."""
        docs = await self._persons.find({"realname.birth_date": iso_day}, {"_id": 1}).to_list(limit)
        return [d["_id"] for d in docs]

    async def get(self, person_id: str) -> dict[str, Any] | None:
        return await self._persons.find_one({"_id": person_id})

    async def insert(self, doc: dict[str, Any]) -> None:
        await self._persons.insert_one(doc)

    async def update(self, person_id: str, set_: dict[str, Any], now: int,
                     max_: dict[str, Any] | None = None, unset: list[str] | None = None) -> dict[str, Any] | None:
        update: dict[str, Any] = {"$set": {**set_, "updated_at": now}}
        if max_:
            update["$max"] = max_
        if unset:
            update["$unset"] = {k: "" for k in unset}
        return await self._persons.find_one_and_update(
            {"_id": person_id}, update, return_document=ReturnDocument.AFTER
        )

    # -- bindings: claim by _id ------------------------------------------------------------

    async def claim(self, kind: str, key: str, person_id: str, now: int, **extra: Any) -> str:
        """Bind ``key`` to ``person_id``; returns the person it is bound to (maybe another)."""
        coll = self._db[_BINDINGS[kind]]
        try:
            await coll.insert_one({"_id": key, "person_id": person_id, "at": now, **extra})
            return person_id
        except DuplicateKeyError:
            doc = await coll.find_one({"_id": key})
            return doc["person_id"] if doc else person_id

    async def bound_to(self, kind: str, key: str) -> str | None:
        doc = await self._db[_BINDINGS[kind]].find_one({"_id": key})
        return doc["person_id"] if doc else None

    async def move_binding(self, kind: str, key: str, from_person: str, to_person: str, now: int) -> bool:
        result = await self._db[_BINDINGS[kind]].update_one(
            {"_id": key, "person_id": from_person}, {"$set": {"person_id": to_person, "at": now}}
        )
        return result.modified_count == 1

    async def bindings_of(self, kind: str, person_id: str) -> list[dict[str, Any]]:
        return await self._db[_BINDINGS[kind]].find({"person_id": person_id}).to_list()

    async def release(self, kind: str, key: str, person_id: str) -> None:
        await self._db[_BINDINGS[kind]].delete_one({"_id": key, "person_id": person_id})


_BINDINGS = {"phone": PHONE_BINDINGS.name, "wechat": WECHAT_BINDINGS.name, "wechat_union": WECHAT_UNIONS.name,
             "id": ID_BINDINGS.name}


# --- SMS codes (Redis) --------------------------------------------------------------------

_VERIFY_LUA = """
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return {-1, 0} end
local tries = tonumber(redis.call('HGET', KEYS[1], 'tries') or '0')
local maxt = tonumber(ARGV[2])
if tries >= maxt then return {-2, redis.call('PTTL', KEYS[1])} end
if h == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {1, 0}
end
tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
return {0, maxt - tries}
"""


class SmsCodeStore:
    """One pending code per phone (keyed by the phone's blind index), with counters."""

    OK, WRONG, MISSING, LOCKED = 1, 0, -1, -2

    def __init__(self, redis: aioredis.Redis, keys: Keys):
        self._redis = redis
        self._keys = keys
        self._verify = redis.register_script(_VERIFY_LUA)

    async def take_cooldown(self, phone_key: str, seconds: int) -> int:
        """0 if the cooldown was free (and is now taken), else the seconds left."""
        key = self._keys("sms", "cooldown", phone_key)
        if await self._redis.set(key, b"1", ex=seconds, nx=True):
            return 0
        return max(1, await self._redis.ttl(key))

    async def release_cooldown(self, phone_key: str) -> None:
        await self._redis.delete(self._keys("sms", "cooldown", phone_key))

    async def count(self, name: str, window: str, ttl: int, delta: int = 1) -> int:
        return await count_in_window(self._redis, self._keys("sms", "count", name, window), ttl, delta)

    async def put_code(self, phone_key: str, code_hash: str, ttl: int) -> None:
        key = self._keys("sms", "code", phone_key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"h": code_hash, "tries": 0})
            pipe.expire(key, ttl)
            await pipe.execute()

    async def drop_code(self, phone_key: str) -> None:
        await self._redis.delete(self._keys("sms", "code", phone_key))

    async def verify(self, phone_key: str, code_hash: str, max_tries: int) -> tuple[int, int]:
        """(outcome, n): OK; WRONG with n tries left; MISSING; LOCKED with n ms left."""
        outcome, n = await self._verify(keys=[self._keys("sms", "code", phone_key)], args=[code_hash, max_tries])
        return int(outcome), int(n)
