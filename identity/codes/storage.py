"""Storage of service codes and scans.

Hot path (a scan) touches Redis only, in one round trip (a Lua script): the device is
active, the code's reference is known, the holder has not revoked their codes, the code
was not used before (then it is marked used), the scan is appended to a Redis stream and
the holder is told through pub/sub. A recorder moves the stream into MongoDB
(``code_scans``, the holder's 用码记录).
"""
from __future__ import annotations

import hashlib
from typing import Any

import redis.asyncio as aioredis
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from identity.devices.storage import device_cache_key
from identity.sessions.storage import (
    revoked_family_key,
    revoked_jti_key,
    valid_after_key,
)
from server.storage.fastredis import FastRedis
from server.storage.mongo import CollectionSpec
from server.storage.redis import Keys

CODE_SCANS = CollectionSpec(
    "code_scans", (IndexModel([("holder", ASCENDING), ("at", DESCENDING)]), IndexModel([("notify", ASCENDING)]))
)
COLLECTIONS = [CODE_SCANS]

SCAN_STREAM = "scans"
RECORDER_GROUP = "recorder"

_SCAN_LUA = """
if redis.call('EXISTS', KEYS[6]) == 1 or redis.call('EXISTS', KEYS[8]) == 1 then return {'token_revoked'} end
local va = redis.call('GET', KEYS[7])
if va and tonumber(ARGV[12]) < tonumber(va) then return {'token_revoked'} end
local name, loc, dept = ARGV[6], ARGV[7], ARGV[8]
if ARGV[4] == 'device' then
  local d = redis.call('HMGET', KEYS[3], 'status', 'name', 'location', 'department', 'scopes')
  if d[1] ~= 'active' then return {'device_inactive'} end
  if not d[5] or not string.find(d[5], '"scan"', 1, true) then return {'device_scope'} end
  name, loc, dept = d[2], d[3], d[4]
end
local r = redis.call('HMGET', KEYS[1], 'holder', 'iat', 'name', 'level', 'notify', 'items', 'type')
if not r[1] then return {'unknown'} end
local void = redis.call('GET', ARGV[9] .. 'codes-void-before:' .. r[1])
if void and tonumber(r[2]) < tonumber(void) then return {'revoked'} end
if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then return {'replayed'} end
redis.call('HSET', KEYS[5], 'holder', r[1], 'notify', r[5], 'type', r[7], 'actor_type', ARGV[4],
  'actor_id', ARGV[5], 'actor_name', name, 'location', loc, 'department', dept, 'at', ARGV[1],
  'items', r[6], 'name', r[3], 'level', r[4])
redis.call('EXPIRE', KEYS[5], ARGV[10])
redis.call('XADD', KEYS[4], '*', 'scan_id', ARGV[3], 'holder', r[1], 'notify', r[5], 'actor_type', ARGV[4],
  'actor_id', ARGV[5], 'actor_name', name, 'location', loc, 'department', dept, 'at', ARGV[1], 'mode', ARGV[11])
redis.call('PUBLISH', ARGV[9] .. 'events:person:' .. r[5], cjson.encode({type = 'code.scanned', scan_id = ARGV[3],
  by = name, location = loc, department = dept, at = tonumber(ARGV[1])}))
return {'ok', r[7], r[3], r[4], r[6]}
"""


_SCAN_SHA = hashlib.sha1(_SCAN_LUA.encode()).hexdigest()


class CodeStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys, db: AsyncDatabase, fast: FastRedis):
        self._redis = redis
        self._fast = fast  # the hot path's pipelined connection
        self._keys = keys
        self._scans = db[CODE_SCANS.name]

    # -- issuing ----------------------------------------------------------------------------

    async def put_code(self, ref: str, record: dict[str, str], ttl_ms: int, short: str | None) -> bool:
        """Store the reference (and claim the short code); False if the short code is taken."""
        async with self._redis.pipeline(transaction=True) as pipe:
            if short is not None:
                pipe.set(self._keys("code-short", short), ref.encode(), px=ttl_ms, nx=True)
            pipe.hset(self._keys("code", ref), mapping=record)
            pipe.pexpire(self._keys("code", ref), ttl_ms)
            results = await pipe.execute()
        if short is not None and not results[0]:
            await self._redis.delete(self._keys("code", ref))
            return False
        return True

    async def code_record(self, ref: str) -> dict[str, str]:
        raw = await self._redis.hgetall(self._keys("code", ref))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def ref_of_short(self, short: str) -> str | None:
        ref = await self._redis.get(self._keys("code-short", short))
        return ref.decode() if ref else None

    async def limit_short_code(self, short: str, ttl_ms: int) -> None:
        """A short code lives only as long as its QR code."""
        await self._redis.pexpire(self._keys("code-short", short), ttl_ms)

    async def void_codes_before(self, holder: str, now_ms: int, ttl_ms: int) -> None:
        await self._redis.set(self._keys("codes-void-before", holder), str(now_ms).encode(), px=ttl_ms)

    # -- scanning (hot path) ---------------------------------------------------------------------

    async def scan(self, ref: str, scan_id: str, now_ms: int, used_ttl_ms: int, actor: dict[str, str],
                   scan_ttl_s: int, token: tuple[str, str, float, str | None], mode: str = "online") -> list[str]:
        """One round trip: the caller's token not revoked (jti, subject, iat), then the scan."""
        jti, subject, iat, family = token
        k = self._keys
        result = await self._fast.evalsha_or_load(
            _SCAN_SHA, _SCAN_LUA,
            [k("code", ref), k("code-used", ref), device_cache_key(k, actor["id"]), k(SCAN_STREAM), k("scan", scan_id),
             revoked_jti_key(k, jti), valid_after_key(k, subject), revoked_family_key(k, family)],
            [now_ms, used_ttl_ms, scan_id, actor["type"], actor["id"], actor.get("name", ""),
             actor.get("location", ""), actor.get("department", ""), k.prefix, scan_ttl_s, mode, repr(float(iat))],
        )
        return [r.decode() if isinstance(r, bytes) else str(r) for r in result]

    async def scan_record(self, scan_id: str) -> dict[str, str]:
        raw = await self._redis.hgetall(self._keys("scan", scan_id))
        return {k.decode(): v.decode() for k, v in raw.items()}

    # -- the recorder: stream -> MongoDB ------------------------------------------------------------

    async def ensure_recorder_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._keys(SCAN_STREAM), RECORDER_GROUP, id="0", mkstream=True)
        except aioredis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def read_scans(self, consumer: str, count: int, block_ms: int) -> list[tuple[str, dict[str, str]]]:
        stream = self._keys(SCAN_STREAM)
        # first anything left pending by a dead consumer for 30 s, then new entries
        _, claimed, *_ = await self._redis.xautoclaim(stream, RECORDER_GROUP, consumer, min_idle_time=30_000,
                                                     start_id="0-0", count=count)
        entries = claimed or []
        if not entries:
            got = await self._redis.xreadgroup(RECORDER_GROUP, consumer, {stream: ">"}, count=count, block=block_ms)
            entries = got[0][1] if got else []
        return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in entries if f]

    async def record_scans(self, docs: list[dict[str, Any]]) -> None:
        """Insert a batch; scans recorded before (a redelivery) are skipped."""
        try:
            await self._scans.insert_many(docs, ordered=False)
        except BulkWriteError as e:
            if any(err.get("code") != 11000 for err in e.details.get("writeErrors", [])):
                raise

    async def ack_scans(self, ids: list[str]) -> None:
        stream = self._keys(SCAN_STREAM)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xack(stream, RECORDER_GROUP, *ids)
            pipe.xdel(stream, *ids)
            await pipe.execute()

    async def history(self, holder: str, limit: int, before: int | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"holder": holder}
        if before is not None:
            query["at"] = {"$lt": before}
        return await self._scans.find(query).sort("at", DESCENDING).limit(limit).to_list()
