"""The audit trail: append-only hash chains; verify detects a changed, a removed or a
truncated entry; concurrent writers never fork a chain."""
from __future__ import annotations

import asyncio

from server.audit import Actor, AuditTrail
from server.storage.audit import AuditStore

ACTOR = Actor("person", "p1")


async def trail_with(app, chain: str, n: int) -> AuditTrail:
    trail = AuditTrail(AuditStore(app.ctx.db))
    for i in range(n):
        await trail.record(chain, ACTOR, "profile.updated", details={"i": i, "名": "值"})
    return trail


async def test_intact_chain_verifies(app):
    trail = await trail_with(app, "t:intact", 5)
    result = await trail.verify("t:intact")
    assert result.ok and result.entries == 5 and result.problems == []


async def test_changed_entry_is_detected(app):
    trail = await trail_with(app, "t:changed", 4)
    await app.ctx.db.audit_log.update_one({"chain": "t:changed", "seq": 2}, {"$set": {"details.i": 99}})
    result = await trail.verify("t:changed")
    assert not result.ok and "entry 2 was changed" in result.problems


async def test_removed_entry_is_detected(app):
    trail = await trail_with(app, "t:removed", 4)
    await app.ctx.db.audit_log.delete_one({"chain": "t:removed", "seq": 2})
    result = await trail.verify("t:removed")
    assert not result.ok and any("missing" in p for p in result.problems)


async def test_removed_newest_entries_are_detected_by_the_head(app):
    trail = await trail_with(app, "t:tail", 4)
    await app.ctx.db.audit_log.delete_one({"chain": "t:tail", "seq": 4})
    result = await trail.verify("t:tail")
    assert not result.ok and any("head is 4" in p for p in result.problems)


async def test_rewritten_chain_does_not_match_its_head(app):
    trail = await trail_with(app, "t:rewritten", 3)
    # an attacker rewrites the last entry and recomputes its hash, but cannot touch the head
    from server.audit import entry_hash

    last = await app.ctx.db.audit_log.find_one({"chain": "t:rewritten", "seq": 3}, {"_id": 0})
    last["action"] = "covered.up"
    last["hash"] = entry_hash(last)
    await app.ctx.db.audit_log.replace_one({"chain": "t:rewritten", "seq": 3}, last)
    result = await trail.verify("t:rewritten")
    assert not result.ok and any("does not match the chain head" in p for p in result.problems)


async def test_concurrent_appends_keep_one_linear_chain(app):
    trail = AuditTrail(AuditStore(app.ctx.db))
    await asyncio.gather(*(trail.record("t:busy", ACTOR, "x", details={"n": n}) for n in range(20)))
    entries = await trail.store.entries("t:busy")
    assert [e["seq"] for e in entries] == list(range(1, 21))
    assert (await trail.verify("t:busy")).ok
