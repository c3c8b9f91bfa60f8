"""Storage of service codes and scans (Redis for the hot path, MongoDB for the history).

Every key is laid out for a Redis Cluster. A code lives in one of ``SHARDS`` shards, chosen
by its reference (and its short code, issued to match): the code's record, its one-use
marker, its short code, the scan record and the shard's scan stream share the shard's hash
tag, so the scan itself is one script on one node. A scan checks two sides:

1. the caller's, in the caller's slot: its token not revoked (jti, login family,
   "void before") and, for a kiosk, its cached device record (active, allowed to scan);
2. the code's, in the code's shard: known, not revoked by its holder, not used before
   (then marked used), the scan recorded and appended to the shard's stream, the holder
   told through pub/sub.

On one server (or a Sentinel-managed master) both run as one script, one round trip; on a
cluster the caller's side runs first in its own slot (two round trips).

A recorder moves the streams into MongoDB (``code_scans``, the holder's 用码记录). Each
holder's live codes are indexed (a sorted set in the holder's slot), so revoking them all
marks each code as revoked where the scan looks.
"""
from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from identity.devices.storage import device_cache_key
from identity.sessions.storage import revoked_family_key, revoked_jti_key, valid_after_key
from server.storage.mongo import CollectionSpec
from server.storage.redis import Client, Keys, ScriptBatcher

CODE_SCANS = CollectionSpec(
    "code_scans", (IndexModel([("holder", ASCENDING), ("at", DESCENDING)]), IndexModel([("notify", ASCENDING)]))
)
COLLECTIONS = [CODE_SCANS]

SHARDS = 8  # a power of two: a code's shard is the low bits of its reference's first byte
RECORDER_GROUP = "recorder"

# The caller's side: its token not revoked (jti, login family, "void before") and, for a
# kiosk, its cached device record active and allowed to scan. KEYS[k..k+3] are the caller's
# keys (the device's only for a kiosk); returns the outcome and the device's fields.
_CALLER_CHECK = """
local function caller_check(k, iat)
  if redis.call('EXISTS', KEYS[k], KEYS[k + 1]) > 0 then return 'token_revoked' end
  local after = redis.call('GET', KEYS[k + 2])
  if after and tonumber(iat) < tonumber(after) then return 'token_revoked' end
  if KEYS[k + 3] then
    local d = redis.call('HMGET', KEYS[k + 3], 'status', 'scopes', 'name', 'location', 'department')
    if d[1] ~= 'active' then return 'device_disabled' end
    if not string.find(d[2] or '', '"scan"', 1, true) then return 'device_scope_missing' end
    return 'ok', d
  end
  return 'ok'
end
"""

# On a cluster the caller's keys are in another slot: this runs there first.
_CALLER_LUA = _CALLER_CHECK + """
local outcome, d = caller_check(1, ARGV[1])
if d then return {outcome, d[3] or '', d[4] or '', d[5] or ''} end
return {outcome}
"""

# The code's side, in the code's shard: known, not revoked by its holder, not used before
# (then marked used), the scan recorded and appended to the shard's stream, the holder told
# through pub/sub. On one server (no cluster) the caller's keys follow the code's
# (KEYS[5..8]) and are checked first, so a scan is one round trip.
_SCAN_LUA = _CALLER_CHECK + """
local name, location, department = ARGV[6], ARGV[7], ARGV[8]
if #KEYS > 4 then
  local outcome, d = caller_check(5, ARGV[12])
  if outcome ~= 'ok' then return {outcome} end
  if d then name, location, department = d[3] or '', d[4] or '', d[5] or '' end
end
local r = redis.call('HMGET', KEYS[1], 'holder', 'name', 'level', 'notify', 'items', 'type', 'revoked')
if not r[1] then return {'unknown'} end
if r[7] then return {'revoked'} end
if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then return {'replayed'} end
redis.call('HSET', KEYS[3], 'holder', r[1], 'notify', r[4], 'type', r[6], 'actor_type', ARGV[4],
  'actor_id', ARGV[5], 'actor_name', name, 'location', location, 'department', department, 'at', ARGV[1],
  'items', r[5], 'name', r[2], 'level', r[3])
redis.call('EXPIRE', KEYS[3], ARGV[9])
redis.call('XADD', KEYS[4], '*', 'scan_id', ARGV[3], 'holder', r[1], 'notify', r[4], 'actor_type', ARGV[4],
  'actor_id', ARGV[5], 'actor_name', name, 'location', location, 'department', department, 'at', ARGV[1],
  'mode', ARGV[10])
redis.call('PUBLISH', ARGV[11] .. r[4], cjson.encode({type = 'code.scanned', scan_id = ARGV[3],
  by = name, location = location, department = department, at = tonumber(ARGV[1])}))
return {'ok', r[6], r[2], r[3], r[5]}
"""

# Mark a code revoked only if it still exists (never create an empty record).
_REVOKE_LUA = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'revoked', '1') end return 1"


def shard_of_ref(ref: str) -> int:
    return int(ref[:2], 16) % SHARDS


def shard_of_short(short: str) -> int:
    return int(short) % SHARDS


def shard_of_scan(scan_id: str) -> int:
    return int(scan_id[1:3], 16) % SHARDS


def _text(raw: dict[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


class CodeStore:
    def __init__(self, redis: Client, keys: Keys, db: AsyncDatabase):
        self._redis = redis
        self._keys = keys
        self._scans = db[CODE_SCANS.name]
        self._scan = redis.register_script(_SCAN_LUA)
        self._caller = redis.register_script(_CALLER_LUA)
        self._batch = ScriptBatcher(redis)  # concurrent scans share round trips
        self._revoke = redis.register_script(_REVOKE_LUA)

    def _k(self, shard: int, *parts: str) -> str:
        return self._keys.tagged(f"codes:{shard}", *parts)

    def _stream(self, shard: int) -> str:
        return self._k(shard, "scans")

    def _holder_codes(self, holder: str) -> str:
        return self._keys.tagged(f"holder:{holder}", "codes")

    # -- issuing ----------------------------------------------------------------------------

    async def put_code(self, ref: str, record: dict[str, str], ttl_ms: int, short: str | None,
                       short_ttl_ms: int, now_ms: int) -> bool:
        """Store the reference (and claim the short code, in the same shard); False if the short
        code is taken. The holder's index of codes is written first, so revoking all of them
        never misses one."""
        holder_codes = self._holder_codes(record["holder"])
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(holder_codes, {ref: now_ms + ttl_ms})
            pipe.zremrangebyscore(holder_codes, 0, now_ms)
            pipe.pexpire(holder_codes, ttl_ms)
            await pipe.execute()
        shard = shard_of_ref(ref)
        async with self._redis.pipeline(transaction=True) as pipe:
            if short is not None:
                pipe.set(self._k(shard, "short", short), ref.encode(), px=short_ttl_ms, nx=True)
            pipe.hset(self._k(shard, "code", ref), mapping=record)
            pipe.pexpire(self._k(shard, "code", ref), ttl_ms)
            results = await pipe.execute()
        if short is not None and not results[0]:
            await self._redis.delete(self._k(shard, "code", ref))
            return False
        return True

    async def code_record(self, ref: str) -> dict[str, str]:
        return _text(await self._redis.hgetall(self._k(shard_of_ref(ref), "code", ref)))

    async def ref_of_short(self, short: str) -> str | None:
        ref = await self._redis.get(self._k(shard_of_short(short), "short", short))
        return ref.decode() if ref else None

    async def revoke_codes_of(self, holder: str, now_ms: int) -> int:
        """Mark every live code of the holder revoked; how many were live."""
        refs = [r.decode() for r in await self._redis.zrangebyscore(self._holder_codes(holder), now_ms, "+inf")]
        if refs:  # one script per code (each in its shard), sent together
            await asyncio.gather(*(self._batch.run(self._revoke, [self._k(shard_of_ref(ref), "code", ref)], [])
                                   for ref in refs))
        return len(refs)

    # -- scanning (hot path) ---------------------------------------------------------------------

    async def scan(self, ref: str, scan_id: str, now_ms: int, used_ttl_ms: int, actor: dict[str, str],
                   caller: tuple[str, str, float, str | None], device_id: str | None, scan_ttl_s: int,
                   mode: str = "online") -> list[str]:
        """One scan: the caller's token (jti, subject, iat, family) and device checked, then the
        code used. One script on one server; on a cluster, the caller's slot first."""
        jti, subject, iat, family = caller
        k = self._keys
        caller_keys = [revoked_jti_key(k, subject, jti), revoked_family_key(k, subject, family),
                       valid_after_key(k, subject)]
        if device_id is not None:
            caller_keys.append(device_cache_key(k, device_id))
        shard = shard_of_ref(ref)
        keys = [self._k(shard, "code", ref), self._k(shard, "used", ref), self._k(shard, "scan", scan_id),
                self._stream(shard)]
        name, location, department = actor.get("name", ""), actor.get("location", ""), actor.get("department", "")
        if k.one_node:
            keys += caller_keys
        else:
            checked = [r.decode() for r in await self._batch.run(self._caller, caller_keys, [iat])]
            if checked[0] != "ok":
                return checked
            if device_id is not None:
                name, location, department = checked[1:4]
        result = await self._batch.run(
            self._scan, keys, [now_ms, used_ttl_ms, scan_id, actor["type"], actor["id"], name, location, department,
                             scan_ttl_s, mode, self._keys("events", "person:"), iat])
        return [r.decode() if isinstance(r, bytes) else str(r) for r in result]

    async def scan_record(self, scan_id: str) -> dict[str, str]:
        return _text(await self._redis.hgetall(self._k(shard_of_scan(scan_id), "scan", scan_id)))

    # -- the recorder: streams -> MongoDB ------------------------------------------------------------

    async def ensure_recorder_group(self) -> None:
        for shard in range(SHARDS):
            try:
                await self._redis.xgroup_create(self._stream(shard), RECORDER_GROUP, id="0", mkstream=True)
            except aioredis.ResponseError as e:
                if "BUSYGROUP" not in str(e):
                    raise

    async def read_scans(self, shard: int, consumer: str, count: int, block_ms: int, claim: bool
                         ) -> list[tuple[str, dict[str, str]]]:
        """Entries of one shard's stream: with ``claim``, first those left pending by a dead
        consumer for 30 s, then new ones (waiting up to ``block_ms``)."""
        stream = self._stream(shard)
        entries: list[Any] = []
        if claim:
            _, claimed, *_ = await self._redis.xautoclaim(stream, RECORDER_GROUP, consumer, min_idle_time=30_000,
                                                         start_id="0-0", count=count)
            entries = claimed or []
        if not entries:
            got = await self._redis.xreadgroup(RECORDER_GROUP, consumer, {stream: ">"}, count=count, block=block_ms)
            entries = got[0][1] if got else []
        return [(i.decode(), _text(f)) for i, f in entries if f]

    async def record_scans(self, docs: list[dict[str, Any]]) -> None:
        """Insert a batch; scans recorded before (a redelivery) are skipped."""
        try:
            await self._scans.insert_many(docs, ordered=False)
        except BulkWriteError as e:
            if any(err.get("code") != 11000 for err in e.details.get("writeErrors", [])):
                raise

    async def ack_scans(self, shard: int, ids: list[str]) -> None:
        stream = self._stream(shard)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, RECORDER_GROUP, *ids)
            pipe.xdel(stream, *ids)
            await pipe.execute()

    async def history(self, holder: str, limit: int, before: int | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"holder": holder}
        if before is not None:
            query["at"] = {"$lt": before}
        return await self._scans.find(query).sort("at", DESCENDING).limit(limit).to_list()
