"""Storage of the identity domain: MongoDB (records of truth) and Redis (short-lived state).

Uniqueness of a phone, a WeChat identity and an ID number is claimed through the ``_id``
of a binding document (``phone_bindings``, ``wechat_bindings``, ``id_bindings``): an
insert either wins or raises DuplicateKeyError, on real MongoDB and on nx-27017 alike.
"""
from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aioredis
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.fastredis import FastRedis
from server.storage.mongo import CollectionSpec
from server.storage.redis import Keys, count_in_window

# The development population / enterprise registries stand in for the real
# 人口库 and 法人库 that production providers call over HTTP.
REGISTRY_PERSONS = CollectionSpec("registry_persons", (IndexModel([("id_bidx", ASCENDING)], unique=True),))
REGISTRY_ENTERPRISES = CollectionSpec("registry_enterprises", (IndexModel([("uscc", ASCENDING)], unique=True),))
STAFF = CollectionSpec(
    "staff_accounts",
    (IndexModel([("username", ASCENDING)], unique=True), IndexModel([("department", ASCENDING)])),
)
DEVICES = CollectionSpec(
    "devices",
    (IndexModel([("device_id", ASCENDING)], unique=True), IndexModel([("key_thumbprint", ASCENDING)])),
)
PERSONS = CollectionSpec("persons")
PHONE_BINDINGS = CollectionSpec("phone_bindings", (IndexModel([("person_id", ASCENDING)]),))
WECHAT_BINDINGS = CollectionSpec(
    "wechat_bindings", (IndexModel([("person_id", ASCENDING)]), IndexModel([("unionid", ASCENDING)]))
)
# unionid -> person: the same WeChat user across our mini-programs / official accounts.
WECHAT_UNIONS = CollectionSpec("wechat_unions", (IndexModel([("person_id", ASCENDING)]),))
ID_BINDINGS = CollectionSpec("id_bindings", (IndexModel([("person_id", ASCENDING)]),))
REFRESH_TOKENS = CollectionSpec(
    "refresh_tokens",
    (IndexModel([("family", ASCENDING)]), IndexModel([("person_id", ASCENDING)]),
     IndexModel([("expires_at", ASCENDING)])),
)

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

COLLECTIONS = [
    REGISTRY_PERSONS, REGISTRY_ENTERPRISES, STAFF, DEVICES,
    PERSONS, PHONE_BINDINGS, WECHAT_BINDINGS, WECHAT_UNIONS, ID_BINDINGS, REFRESH_TOKENS,
    ENTERPRISES, AGENTS, AGENT_CLAIMS,
]


async def devices_with_thumbprints(db: AsyncDatabase, thumbprints: list[str]) -> list[str]:
    docs = await db[DEVICES.name].find({"key_thumbprint": {"$in": thumbprints}}, {"device_id": 1}).to_list()
    return [d["device_id"] for d in docs]


class RegistryStore:
    """The development registries (read-only for the app)."""

    def __init__(self, db: AsyncDatabase):
        self.db = db

    async def person_by_id_bidx(self, id_bidx: str) -> dict[str, Any] | None:
        return await self.db[REGISTRY_PERSONS.name].find_one({"id_bidx": id_bidx})

    async def enterprise(self, uscc: str) -> dict[str, Any] | None:
        return await self.db[REGISTRY_ENTERPRISES.name].find_one({"uscc": uscc})


class PersonStore:
    def __init__(self, db: AsyncDatabase):
        self.db = db
        self.persons = db[PERSONS.name]

    async def get(self, person_id: str) -> dict[str, Any] | None:
        return await self.persons.find_one({"_id": person_id})

    async def insert(self, doc: dict[str, Any]) -> None:
        await self.persons.insert_one(doc)

    async def update(self, person_id: str, set_: dict[str, Any], now: int,
                     max_: dict[str, Any] | None = None, unset: list[str] | None = None) -> dict[str, Any] | None:
        update: dict[str, Any] = {"$set": {**set_, "updated_at": now}}
        if max_:
            update["$max"] = max_
        if unset:
            update["$unset"] = {k: "" for k in unset}
        return await self.persons.find_one_and_update(
            {"_id": person_id}, update, return_document=ReturnDocument.AFTER
        )

    # -- bindings: claim by _id ------------------------------------------------------------

    async def claim(self, kind: str, key: str, person_id: str, now: int, **extra: Any) -> str:
        """Bind ``key`` to ``person_id``; returns the person it is bound to (maybe another)."""
        coll = self.db[_BINDINGS[kind]]
        try:
            await coll.insert_one({"_id": key, "person_id": person_id, "at": now, **extra})
            return person_id
        except DuplicateKeyError:
            doc = await coll.find_one({"_id": key})
            return doc["person_id"] if doc else person_id

    async def bound_to(self, kind: str, key: str) -> str | None:
        doc = await self.db[_BINDINGS[kind]].find_one({"_id": key})
        return doc["person_id"] if doc else None

    async def move_binding(self, kind: str, key: str, from_person: str, to_person: str, now: int) -> bool:
        result = await self.db[_BINDINGS[kind]].update_one(
            {"_id": key, "person_id": from_person}, {"$set": {"person_id": to_person, "at": now}}
        )
        return result.modified_count == 1

    async def bindings_of(self, kind: str, person_id: str) -> list[dict[str, Any]]:
        return await self.db[_BINDINGS[kind]].find({"person_id": person_id}).to_list()

    async def release(self, kind: str, key: str, person_id: str) -> None:
        await self.db[_BINDINGS[kind]].delete_one({"_id": key, "person_id": person_id})


_BINDINGS = {"phone": PHONE_BINDINGS.name, "wechat": WECHAT_BINDINGS.name, "wechat_union": WECHAT_UNIONS.name,
             "id": ID_BINDINGS.name}


class EnterpriseStore:
    def __init__(self, db: AsyncDatabase):
        self.enterprises = db[ENTERPRISES.name]
        self.agents = db[AGENTS.name]
        self.claims = db[AGENT_CLAIMS.name]

    async def insert(self, doc: dict[str, Any]) -> bool:
        """False if an enterprise with this USCC is already bound."""
        try:
            await self.enterprises.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def get(self, enterprise_id: str) -> dict[str, Any] | None:
        return await self.enterprises.find_one({"_id": enterprise_id})

    async def by_uscc(self, uscc: str) -> dict[str, Any] | None:
        return await self.enterprises.find_one({"uscc": uscc})

    async def administered_by(self, person_id: str) -> list[dict[str, Any]]:
        return await self.enterprises.find({"admin_person_id": person_id}).to_list()

    async def many(self, ids: list[str]) -> list[dict[str, Any]]:
        return await self.enterprises.find({"_id": {"$in": ids}}).to_list() if ids else []

    # -- agents ---------------------------------------------------------------------------

    async def insert_agent(self, doc: dict[str, Any]) -> None:
        await self.agents.insert_one(doc)

    async def agent(self, agent_id: str) -> dict[str, Any] | None:
        return await self.agents.find_one({"_id": agent_id})

    async def agents_of(self, enterprise_id: str) -> list[dict[str, Any]]:
        return await self.agents.find({"enterprise_id": enterprise_id}).sort("created_at", 1).to_list()

    async def agents_for_person(self, person_id: str) -> list[dict[str, Any]]:
        return await self.agents.find({"person_id": person_id}).to_list()

    async def invitations_by_phone(self, phone_bidx: str) -> list[dict[str, Any]]:
        return await self.agents.find({"invitee_phone_bidx": phone_bidx, "status": "invited"}).to_list()

    async def update_agent(self, agent_id: str, version: int, set_: dict[str, Any]) -> dict[str, Any] | None:
        """Optimistic update: None if the version moved on meanwhile."""
        return await self.agents.find_one_and_update(
            {"_id": agent_id, "version": version}, {"$set": set_, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def claim_agent_slot(self, enterprise_id: str, person_id: str, agent_id: str) -> str:
        """Reserve the single live authorisation of a person for an enterprise; returns its holder."""
        key = f"{enterprise_id}:{person_id}"
        try:
            await self.claims.insert_one({"_id": key, "agent_id": agent_id})
            return agent_id
        except DuplicateKeyError:
            doc = await self.claims.find_one({"_id": key})
            return doc["agent_id"] if doc else agent_id

    async def release_agent_slot(self, enterprise_id: str, person_id: str, agent_id: str) -> None:
        await self.claims.delete_one({"_id": f"{enterprise_id}:{person_id}", "agent_id": agent_id})


class StaffStore:
    def __init__(self, db: AsyncDatabase):
        self.coll = db[STAFF.name]

    async def get(self, username: str) -> dict[str, Any] | None:
        return await self.coll.find_one({"username": username})


class DeviceStore:
    def __init__(self, db: AsyncDatabase):
        self.coll = db[DEVICES.name]

    async def get(self, device_id: str) -> dict[str, Any] | None:
        return await self.coll.find_one({"device_id": device_id})

    async def insert(self, doc: dict[str, Any]) -> bool:
        try:
            await self.coll.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def all(self) -> list[dict[str, Any]]:
        return await self.coll.find({}).sort("device_id", 1).to_list()

    async def set_status(self, device_id: str, status: str, now: int) -> dict[str, Any] | None:
        return await self.coll.find_one_and_update({"device_id": device_id},
                                                   {"$set": {"status": status, "updated_at": now}},
                                                   return_document=ReturnDocument.AFTER)


class RefreshTokenStore:
    """Refresh tokens, stored by the SHA-256 of the token; one family per login."""

    def __init__(self, db: AsyncDatabase):
        self.coll = db[REFRESH_TOKENS.name]

    async def insert(self, doc: dict[str, Any]) -> None:
        await self.coll.insert_one(doc)

    async def claim_for_rotation(self, token_hash: str, now: int) -> dict[str, Any] | None:
        """Mark an active, unexpired token as rotated; None if it was not active."""
        return await self.coll.find_one_and_update(
            {"_id": token_hash, "rotated_at": None, "revoked_at": None, "expires_at": {"$gt": now}},
            {"$set": {"rotated_at": now}},
            return_document=ReturnDocument.BEFORE,
        )

    async def get(self, token_hash: str) -> dict[str, Any] | None:
        return await self.coll.find_one({"_id": token_hash})

    async def revoke_family(self, family: str, now: int) -> int:
        result = await self.coll.update_many({"family": family, "revoked_at": None}, {"$set": {"revoked_at": now}})
        return result.modified_count

    async def revoke_person(self, person_id: str, now: int) -> int:
        result = await self.coll.update_many({"person_id": person_id, "revoked_at": None},
                                             {"$set": {"revoked_at": now}})
        return result.modified_count


class AttemptCounter:
    """Counts attempts of something per subject (e.g. real-name tries a day, login failures)."""

    def __init__(self, redis: aioredis.Redis, keys: Keys):
        self.redis = redis
        self.keys = keys

    async def add(self, what: str, subject: str, day: str) -> int:
        return await count_in_window(self.redis, self.keys("attempts", what, subject, day), 2 * 86400)

    async def add_window(self, what: str, subject: str, ttl: int) -> int:
        return await count_in_window(self.redis, self.keys("attempts", what, subject), ttl)

    async def peek(self, what: str, subject: str) -> int:
        value = await self.redis.get(self.keys("attempts", what, subject))
        return int(value) if value else 0

    async def reset(self, what: str, subject: str) -> None:
        await self.redis.delete(self.keys("attempts", what, subject))

    async def first_use(self, what: str, token: str, ttl: int) -> bool:
        """True the first time ``token`` is seen within ``ttl`` seconds (one-time codes, jti)."""
        return bool(await self.redis.set(self.keys("used", what, token), b"1", ex=ttl, nx=True))


class SessionState:
    """Redis: revoked access-token ids and per-person "tokens issued before T are void".
    The per-request check uses the hot path's pipelined connection."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, fast: FastRedis):
        self.redis = redis
        self.fast = fast
        self.keys = keys

    async def revoke_jti(self, jti: str, until_epoch: int) -> None:
        ttl = max(1, until_epoch - int(time.time()) + 5)
        await self.redis.set(self.keys("revoked-jti", jti), b"1", ex=ttl)

    async def void_before(self, subject: str, epoch: float, ttl: int) -> None:
        await self.redis.set(self.keys("valid-after", subject), repr(float(epoch)).encode(), ex=ttl)

    async def check(self, jti: str, subject: str) -> tuple[bool, float]:
        """(jti revoked?, tokens issued before this epoch are void) in one round trip."""
        revoked, after = await self.fast.call("MGET", self.keys("revoked-jti", jti), self.keys("valid-after", subject))
        return revoked is not None, float(after) if after else 0.0


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
        self.redis = redis
        self.keys = keys
        self._verify = redis.register_script(_VERIFY_LUA)

    async def take_cooldown(self, phone_key: str, seconds: int) -> int:
        """0 if the cooldown was free (and is now taken), else the seconds left."""
        key = self.keys("sms", "cooldown", phone_key)
        if await self.redis.set(key, b"1", ex=seconds, nx=True):
            return 0
        return max(1, await self.redis.ttl(key))

    async def release_cooldown(self, phone_key: str) -> None:
        await self.redis.delete(self.keys("sms", "cooldown", phone_key))

    async def count(self, name: str, window: str, ttl: int, delta: int = 1) -> int:
        return await count_in_window(self.redis, self.keys("sms", "count", name, window), ttl, delta)

    async def put_code(self, phone_key: str, code_hash: str, ttl: int) -> None:
        key = self.keys("sms", "code", phone_key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"h": code_hash, "tries": 0})
            pipe.expire(key, ttl)
            await pipe.execute()

    async def drop_code(self, phone_key: str) -> None:
        await self.redis.delete(self.keys("sms", "code", phone_key))

    async def verify(self, phone_key: str, code_hash: str, max_tries: int) -> tuple[int, int]:
        """(outcome, n): OK; WRONG with n tries left; MISSING; LOCKED with n ms left."""
        outcome, n = await self._verify(keys=[self.keys("sms", "code", phone_key)], args=[code_hash, max_tries])
        return int(outcome), int(n)

    # Dev sender outbox: readable by every process (and by tests).
    async def outbox_push(self, phone_key: str, message: dict[str, Any]) -> None:
        key = self.keys("dev", "sms-outbox", phone_key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(message, ensure_ascii=False).encode())
            pipe.ltrim(key, 0, 49)
            pipe.expire(key, 86400)
            await pipe.execute()

    async def outbox(self, phone_key: str) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(self.keys("dev", "sms-outbox", phone_key), 0, 49)
        return [json.loads(r) for r in raw]

