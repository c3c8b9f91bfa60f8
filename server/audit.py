"""Audit trail: append-only, hash-chained entries, one chain per subject
(``person:<id>``, ``enterprise:<id>``), so each person can read and verify their own.

Each entry carries ``seq`` and ``prev_hash`` and its own ``hash`` = SHA-256 over its
canonical JSON; a changed entry breaks its hash, a removed one breaks the chain, and
removed newest entries fall behind the chain's head (kept in another collection).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from server.clock import now_ms
from server.storage.audit import AuditStore

GENESIS = "0" * 64

# The heads of the chains this request appended to: a second entry on the same chain in one
# request follows the first without reading it back. (A stale head only costs a retry: the
# unique (chain, seq) index refuses the append and the head is read from the database.)
_written_heads: ContextVar[dict[str, tuple[int, str]] | None] = ContextVar("audit_written_heads", default=None)


# A proxy acting for a person (亲友代办) in this request: (the person, the proxy). What the
# request records as done by the person is recorded as done by the proxy on the person's
# behalf, and mirrored into the proxy's own trail: both read it.
_on_behalf: ContextVar[tuple[str, str] | None] = ContextVar("audit_on_behalf", default=None)


def begin_request() -> None:
    """Called as each request starts (each runs in its own task, so its own context)."""
    _written_heads.set({})
    _on_behalf.set(None)


def acting_for(person_id: str, proxy_id: str) -> None:
    """This request is a proxy's, for ``person_id`` (set once the caller is authenticated)."""
    _on_behalf.set((person_id, proxy_id))


@dataclass(frozen=True)
class Actor:
    type: str  # person / staff / device / issuer / system
    id: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id}


SYSTEM = Actor("system", "superapp")


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problems: list[str] = field(default_factory=list)


def _canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k not in ("_id", "hash")}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One entry to append (its place in the chain is given when it is written)."""

    actor: Actor
    action: str
    target: dict[str, str] | None = None
    channel: str = ""
    ip: str = ""
    details: dict[str, Any] | None = None
    at: int | None = None
    event: str | None = None

    def entry(self, chain: str, seq: int, prev_hash: str) -> dict[str, Any]:
        e = {"chain": chain, "seq": seq, "prev_hash": prev_hash, "at": self.at or now_ms(),
             "actor": self.actor.as_dict(), "action": self.action, "target": self.target or {},
             "channel": self.channel, "ip": self.ip, "details": self.details or {}}
        if self.event is not None:
            e["event"] = self.event
        e["hash"] = entry_hash(e)
        return e


class ActionNames:
    """What an audit action means, in words the person reading their trail understands. Each
    domain publishes its own table (``<domain>/audit_names.py``); the composition root gathers
    them, so the H5 and the mini-program show the server's words and keep no table of their own."""

    UNKNOWN = "其他操作"

    def __init__(self, *tables: Mapping[str, str]):
        self._names: dict[str, str] = {}
        for table in tables:
            self._names.update(table)

    def name(self, action: str) -> str:
        return self._names.get(action, self.UNKNOWN)

    def known(self, action: str) -> bool:
        return action in self._names


class AuditTrail:
    def __init__(self, store: AuditStore):
        self.store = store

    async def record(
        self,
        chain: str,
        actor: Actor,
        action: str,
        *,
        target: dict[str, str] | None = None,
        channel: str = "",
        ip: str = "",
        details: dict[str, Any] | None = None,
        at: int | None = None,
        event: str | None = None,
    ) -> dict[str, Any]:
        """Append one entry to ``chain``. ``event``, when given, names what the entry records
        (e.g. ``application:<id>:<timeline index>``), so an outbox can tell it was written."""
        return (await self.record_many(chain, [Entry(actor, action, target, channel, ip, details, at, event)]))[0]

    async def record_many(self, chain: str, items: list["Entry"]) -> list[dict[str, Any]]:
        """Append entries in order: one read of the chain's head (none if this request wrote
        it last), one insert, one move of the head. In a proxy's request, entries the person
        "did" name the proxy as the actor, and a copy goes to the proxy's trail."""
        behalf = _on_behalf.get()
        if behalf is not None:
            person, proxy = behalf
            me, them = Actor("person", person), Actor("proxy", proxy)
            items = [replace(i, actor=them, details={**(i.details or {}), "on_behalf_of": person})
                     if i.actor == me else i for i in items]
            mirrored = [replace(i, target=i.target or {"type": "person", "id": person}, event=None)
                        for i in items if i.actor == them]
            if mirrored and chain != f"person:{proxy}":
                written = await self._append(chain, items)
                await self._append(f"person:{proxy}", mirrored)
                return written
        return await self._append(chain, items)

    async def _append(self, chain: str, items: list["Entry"]) -> list[dict[str, Any]]:
        heads = _written_heads.get()
        known = heads.get(chain) if heads is not None else None
        written: list[dict[str, Any]] = []
        pending = list(items)
        for _ in range(50):
            if not pending:
                return written
            if known is not None:
                last: dict[str, Any] | None = {"seq": known[0], "hash": known[1]}
                known = None
            else:
                last = await self.store.last(chain)
            seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
            batch = []
            for item in pending:
                seq += 1
                entry = item.entry(chain, seq, prev)
                prev = entry["hash"]
                batch.append(entry)
            n = await self.store.append_many(batch)  # in order; stops at a (chain, seq) taken meanwhile
            if n:
                written += batch[:n]
                pending = pending[n:]
                await self.store.advance_head(chain, written[-1]["seq"], written[-1]["hash"])
                if heads is not None:
                    heads[chain] = (written[-1]["seq"], written[-1]["hash"])
                if not pending:
                    return written
                known = (written[-1]["seq"], written[-1]["hash"])
        raise RuntimeError(f"audit chain {chain} is too contended")

    async def recorded_events(self, chain: str, events: list[str]) -> set[str]:
        """Which of these events have an entry on the chain already."""
        return await self.store.events_in(chain, events)

    async def read(self, chain: str, limit: int = 50, before_seq: int | None = None) -> list[dict[str, Any]]:
        return await self.store.entries(chain, newest_first=True, limit=limit, before_seq=before_seq)

    async def verify(self, chain: str) -> VerifyResult:
        entries = await self.store.entries(chain)
        problems = []
        prev, expected = GENESIS, 1
        for entry in entries:
            if entry["seq"] != expected:
                problems.append(f"entries {expected}..{entry['seq'] - 1} are missing")
            elif entry["prev_hash"] != prev:
                problems.append(f"entry {entry['seq']} does not follow the entry before it")
            if entry_hash(entry) != entry["hash"]:
                problems.append(f"entry {entry['seq']} was changed")
            prev, expected = entry["hash"], entry["seq"] + 1
        head = await self.store.head(chain)
        if head is not None:
            last_seq = entries[-1]["seq"] if entries else 0
            if last_seq < head["seq"]:
                problems.append(f"entries after {last_seq} are missing (head is {head['seq']})")
            else:
                at_head = next((e for e in entries if e["seq"] == head["seq"]), None)
                if at_head is None or at_head["hash"] != head["hash"]:
                    problems.append(f"entry {head['seq']} does not match the chain head")
        return VerifyResult(ok=not problems, entries=len(entries), problems=problems)
