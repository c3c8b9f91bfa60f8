"""The MongoDB contract: every MongoDB operation the product relies on, checked against
the server the tests run on (embedded nx-27017, or real MongoDB with MONGODB_URI).

When code starts relying on a new operation, add it here first. Known gaps of nx-27017
that the code must therefore NOT rely on (they behave differently from real MongoDB):
  * reading a collection that was never created ("no such table"): ensure_schema creates all;
  * array_filters (ignored); $lookup (malformed output); custom index names (not kept);
  * queries into arrays other than ``{field: {"$in": [...]}}`` on a top-level array of
    scalars: dotted paths with $in ("keys.thumbprint") and $elemMatch with $in miss
    documents, and equality on an indexed array field matches only some elements.
    Store what must be looked up as scalar fields, or in a collection of its own.
  * a string ``_id`` that begins with an ISO date ("2026-12-06:…") is stored but not found
    by equality (so an upsert of it inserts again: a duplicate key): put something else
    first (payments' reconciliation reports are ``<merchant>:<day>``).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import CollectionInvalid, DuplicateKeyError

from server.config import Settings
from server.storage import mongo as mongo_storage
from server.storage.mongo import CollectionSpec, ensure_schema, insert_if_absent
from tests.support import make_settings


@pytest.fixture
async def mdb(backends):
    settings: Settings = make_settings(backends)
    client = mongo_storage.make_client(settings, backends.mongo_uri)
    db = mongo_storage.database(client, settings)
    yield db
    await client.drop_database(db.name)
    await client.close()


async def test_ping_and_write_concern_majority_journaled(mdb):
    await mongo_storage.ping(mdb.client)
    assert mdb.write_concern.document == {"w": "majority", "j": True}
    await mdb.create_collection("wc")
    result = await mdb.wc.insert_one({"x": 1})
    assert result.acknowledged


async def test_create_collection_twice_raises_collection_invalid(mdb):
    await mdb.create_collection("c1")
    with pytest.raises(CollectionInvalid):
        await mdb.create_collection("c1")
    assert "c1" in await mdb.list_collection_names()


async def test_ensure_schema_is_idempotent_and_unique_indexes_hold(mdb):
    specs = [CollectionSpec("people", (IndexModel([("k", ASCENDING)], unique=True), IndexModel([("d", ASCENDING)])))]
    assert await ensure_schema(mdb, specs) == ["people"]
    assert await ensure_schema(mdb, specs) == []  # second run: nothing new, no error
    await mdb.people.insert_one({"k": "a"})
    with pytest.raises(DuplicateKeyError) as info:
        await mdb.people.insert_one({"k": "a"})
    assert info.value.code == 11000
    keys = [tuple(ix["key"]) for ix in (await mdb.people.index_information()).values()]
    assert (("k", 1),) in keys and (("d", 1),) in keys


async def test_ensure_schema_rejects_a_collection_declared_twice(mdb):
    with pytest.raises(ValueError, match="declared twice"):
        await ensure_schema(mdb, [CollectionSpec("x"), CollectionSpec("x")])


async def test_upsert_set_on_insert_inserts_once_and_never_overwrites(mdb):
    await mdb.create_collection("seed")
    assert await insert_if_absent(mdb, "seed", {"code": "A"}, {"v": 1}) is True
    assert await insert_if_absent(mdb, "seed", {"code": "A"}, {"v": 2}) is False
    doc = await mdb.seed.find_one({"code": "A"})
    assert doc["v"] == 1 and isinstance(doc["created_at"], int)
    assert await mdb.seed.count_documents({}) == 1


async def test_find_in_on_scalar_fields_with_projection(mdb):
    await mdb.create_collection("k")
    await mdb.k.create_index("tp")
    await mdb.k.insert_many([{"name": f"n{i}", "tp": f"t{i}", "secret": i} for i in range(6)])
    docs = await mdb.k.find({"tp": {"$in": ["t1", "t4", "zz"]}}, {"name": 1}).to_list()
    assert sorted(d["name"] for d in docs) == ["n1", "n4"]
    assert all("secret" not in d for d in docs)


async def test_find_in_on_a_top_level_array_of_scalars(mdb):
    await mdb.create_collection("arr")
    await mdb.arr.insert_many([{"_id": i, "tags": [f"a{i}", f"b{i}"]} for i in range(5)])
    docs = await mdb.arr.find({"tags": {"$in": ["a1", "b3"]}}).to_list()
    assert sorted(d["_id"] for d in docs) == [1, 3]


async def test_find_one_and_update_returns_the_new_document(mdb):
    await mdb.create_collection("f")
    await mdb.f.insert_one({"_id": "x", "n": 0, "v": 1})
    doc = await mdb.f.find_one_and_update(
        {"_id": "x", "v": 1}, {"$inc": {"n": 1, "v": 1}, "$set": {"s": "已受理"}},
        return_document=ReturnDocument.AFTER,
    )
    assert doc == {"_id": "x", "n": 1, "v": 2, "s": "已受理"}
    # a stale version matches nothing (optimistic concurrency)
    assert await mdb.f.find_one_and_update({"_id": "x", "v": 1}, {"$inc": {"v": 1}}) is None


async def test_datetimes_round_trip_as_aware_utc(mdb):
    await mdb.create_collection("t")
    now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=123000)
    await mdb.t.insert_one({"_id": 1, "at": now})
    doc = await mdb.t.find_one({"_id": 1})
    assert doc["at"] == now and doc["at"].utcoffset() == timedelta(0)


async def test_epoch_ms_timestamps_through_update_operators(mdb):
    await mdb.create_collection("ts")
    await mdb.ts.insert_one({"_id": 1, "at": 1_700_000_000_000, "seen": None})
    await mdb.ts.update_one({"_id": 1}, {"$set": {"at": 1_800_000_000_123}, "$max": {"hi": 5}})
    await mdb.ts.update_one({"_id": 1}, {"$max": {"hi": 3}, "$unset": {"seen": ""}})
    doc = await mdb.ts.find_one({"_id": 1})
    assert doc == {"_id": 1, "at": 1_800_000_000_123, "hi": 5}
    assert await mdb.ts.count_documents({"at": {"$gt": 1_799_999_999_999}}) == 1


async def test_update_many_and_null_matches_on_inserted_nulls(mdb):
    await mdb.create_collection("fam")
    await mdb.fam.insert_many([{"_id": i, "family": "f1" if i < 3 else "f2", "revoked_at": None} for i in range(5)])
    result = await mdb.fam.update_many({"family": "f1", "revoked_at": None}, {"$set": {"revoked_at": 42}})
    assert result.modified_count == 3
    assert len(await mdb.fam.find({"revoked_at": None}).to_list()) == 2


async def test_sort_limit_on_a_compound_unique_index(mdb):
    await mdb.create_collection("chain")
    await mdb.chain.create_index([("chain", ASCENDING), ("seq", ASCENDING)], unique=True)
    await mdb.chain.insert_many([{"chain": c, "seq": n} for c in ("a", "b") for n in range(1, 6)])
    last = await mdb.chain.find({"chain": "a"}).sort("seq", -1).limit(1).to_list()
    assert last[0]["seq"] == 5
    with pytest.raises(DuplicateKeyError):
        await mdb.chain.insert_one({"chain": "a", "seq": 5})
    page = await mdb.chain.find({"chain": "b", "seq": {"$lt": 4}}, {"_id": 0}).sort("seq", -1).limit(2).to_list()
    assert page == [{"chain": "b", "seq": 3}, {"chain": "b", "seq": 2}]


async def test_claim_by_id_is_exclusive(mdb):
    await mdb.create_collection("claims")
    await mdb.claims.insert_one({"_id": "phone-hash", "person_id": "p1"})
    with pytest.raises(DuplicateKeyError):
        await mdb.claims.insert_one({"_id": "phone-hash", "person_id": "p2"})
    moved = await mdb.claims.update_one({"_id": "phone-hash", "person_id": "p1"}, {"$set": {"person_id": "p3"}})
    assert moved.modified_count == 1
    await mdb.claims.delete_one({"_id": "phone-hash", "person_id": "p9"})  # not the owner: nothing
    assert (await mdb.claims.find_one({"_id": "phone-hash"}))["person_id"] == "p3"


async def test_unicode_strings_and_nested_documents_are_kept(mdb):
    await mdb.create_collection("u")
    doc = {"_id": uuid.uuid4().hex, "name": "欧阳振华", "addr": {"city": "广州市", "lines": ["天河区", "体育西路"]}}
    await mdb.u.insert_one(doc)
    assert await mdb.u.find_one({"name": "欧阳振华"}) == doc


async def test_string_range_and_scalar_in_filters(mdb):
    await mdb.create_collection("certs")
    await mdb.certs.insert_many([{"_id": i, "valid_until": f"2026-12-{i:02d}", "status": s}
                                 for i, s in zip(range(1, 6), ["active", "revoked", "active", "suspended", "active"])])
    docs = await mdb.certs.find({"valid_until": {"$lte": "2026-12-03"}}).to_list()
    assert sorted(d["_id"] for d in docs) == [1, 2, 3]
    updated = await mdb.certs.find_one_and_update({"_id": 4, "status": {"$in": ["active", "suspended"]}},
                                                  {"$set": {"status": "revoked"}}, return_document=ReturnDocument.AFTER)
    assert updated["status"] == "revoked"
    assert await mdb.certs.find_one_and_update({"_id": 2, "status": {"$in": ["active"]}}, {"$set": {"x": 1}}) is None


async def test_insert_many_unordered_reports_only_duplicates(mdb):
    from pymongo.errors import BulkWriteError

    await mdb.create_collection("scans")
    await mdb.scans.insert_many([{"_id": "a"}, {"_id": "b"}])
    with pytest.raises(BulkWriteError) as info:
        await mdb.scans.insert_many([{"_id": "b"}, {"_id": "c"}], ordered=False)
    assert {e["code"] for e in info.value.details["writeErrors"]} == {11000}
    assert sorted(d["_id"] for d in await mdb.scans.find({}).to_list()) == ["a", "b", "c"]


async def test_push_each_add_to_set_and_counters(mdb):
    await mdb.create_collection("apps")
    await mdb.apps.insert_one({"_id": "a1", "state": "submitted", "version": 1, "timeline": [{"s": "submitted"}],
                               "depts": []})  # $addToSet needs the array to exist on nx-27017
    doc = await mdb.apps.find_one_and_update(
        {"_id": "a1", "version": 1, "state": {"$in": ["submitted"]}},
        {"$set": {"state": "in_review", "timeline": [{"s": "submitted"}, {"s": "accepted"}, {"s": "in_review"}]},
         "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER)
    assert doc["version"] == 2 and [t["s"] for t in doc["timeline"]] == ["submitted", "accepted", "in_review"]
    await mdb.apps.update_one({"_id": "a1"}, {"$addToSet": {"depts": "gz-psb"}})
    await mdb.apps.update_one({"_id": "a1"}, {"$addToSet": {"depts": "gz-psb"}})
    assert (await mdb.apps.find_one({"_id": "a1"}))["depts"] == ["gz-psb"]
    await mdb.create_collection("counters")
    first = await mdb.counters.find_one_and_update({"_id": "n"}, {"$inc": {"n": 1}}, upsert=True,
                                                   return_document=ReturnDocument.AFTER)
    second = await mdb.counters.find_one_and_update({"_id": "n"}, {"$inc": {"n": 1}}, upsert=True,
                                                    return_document=ReturnDocument.AFTER)
    assert (first["n"], second["n"]) == (1, 2)
    deleted = await mdb.counters.delete_many({"n": {"$lt": 5}})
    assert deleted.deleted_count == 1


async def test_a_quota_taken_by_a_guarded_increment_is_never_exceeded(mdb):
    """The appointment quota: ``$inc`` only while below the quota, upserting the first; many at
    once take exactly the quota (the rest see no document, or a duplicate key on the upsert)."""
    import asyncio

    await mdb.create_collection("slots")
    quota = 3

    async def take() -> bool:
        try:
            doc = await mdb.slots.find_one_and_update({"_id": "s1", "booked": {"$lt": quota}}, {"$inc": {"booked": 1}},
                                                      upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            return False
        return doc is not None

    results = await asyncio.gather(*(take() for _ in range(20)))
    assert sum(results) == quota
    assert (await mdb.slots.find_one({"_id": "s1"}))["booked"] == quota
    released = await mdb.slots.find_one_and_update({"_id": "s1", "booked": {"$gt": 0}}, {"$inc": {"booked": -1}},
                                                   return_document=ReturnDocument.AFTER)
    assert released["booked"] == quota - 1


async def test_claiming_the_first_by_sort_is_exclusive(mdb):
    """Call-next: the waiting number of lowest rank, claimed by one caller only, however many ask."""
    import asyncio

    await mdb.create_collection("numbers")
    await mdb.numbers.insert_many([{"_id": f"n{i}", "q": "A", "state": "waiting", "rank": 100 - i} for i in range(6)]
                                  + [{"_id": "other", "q": "B", "state": "waiting", "rank": 0}])

    async def claim(window: int):
        return await mdb.numbers.find_one_and_update(
            {"q": {"$in": ["A"]}, "state": "waiting"}, {"$set": {"state": "called", "window": window}},
            sort=[("rank", ASCENDING)], return_document=ReturnDocument.AFTER)

    got = await asyncio.gather(*(claim(w) for w in range(10)))
    claimed = [d["_id"] for d in got if d is not None]
    assert sorted(claimed) == sorted(f"n{i}" for i in range(6)) and len(set(claimed)) == 6
    assert claimed[0] == "n5"  # lowest rank first
    assert await mdb.numbers.count_documents({"q": "A", "state": "waiting", "rank": {"$lt": 200}}) == 0


async def test_update_without_upsert_then_insert_keeps_one_report_per_id(mdb):
    """How a report rewritten every run is saved (payments.storage.ReconciliationStore)."""
    from payments.storage import RECONCILIATIONS, ReconciliationStore

    await ensure_schema(mdb, [RECONCILIATIONS])
    reports = ReconciliationStore(mdb)
    first = {"_id": "gz-psb:2026-12-06", "mismatches": [{"ref": "A", "bill_fen": 1}], "by": "staff"}
    await reports.save(first)
    await reports.save({**first, "mismatches": [], "by": "worker"})
    assert await reports.get(first["_id"]) == {"_id": first["_id"], "mismatches": [], "by": "worker"}
    assert await mdb[RECONCILIATIONS.name].count_documents({}) == 1

