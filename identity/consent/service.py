"""Consent: a kiosk or window that scanned a code asks the holder for specific items;
the holder approves or rejects (item by item); the requester receives only what was
approved, within a short window, and every disclosure lands in the holder's trail."""
from __future__ import annotations

import json
import secrets
from typing import Any, Awaitable, Callable

from identity.codes.service import CodeService, ScanActor
from identity.consent.storage import ConsentStore
from identity.facade import Directory
from identity.items import ItemCatalog, allowed
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.config import CodesConfig
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from server.events import EventHub
from server.principal import Caller, Principal, holder_chain

DISCLOSURE_WINDOW_MS = 10 * 60 * 1000

# Certificate items are delivered by the wallet: (consent, certificate types, the blind index the
# holder's certificates are held under, requester) -> per type, what the requester may see of it.
CertificateSource = Callable[[dict[str, Any], list[str], "str | None", ScanActor],
                             Awaitable[dict[str, "dict[str, Any] | None"]]]


class ConsentService:
    def __init__(self, store: ConsentStore, codes: CodeService, directory: Directory, items: ItemCatalog,
                 audit: AuditTrail, events: EventHub, config: CodesConfig, certificate_source: CertificateSource):
        self.store = store
        self.codes = codes
        self.directory = directory
        self.items = items
        self.audit = audit
        self.events = events
        self.cfg = config
        self.certificate_source = certificate_source

    def _chain(self, consent: dict[str, Any]) -> str:
        return holder_chain(consent["holder"])

    async def request(self, actor: ScanActor, scan_id: str, purpose: str, items: list[str],
                      matter: str | None = None) -> dict[str, Any]:
        scan = await self.codes.scan_of(actor, scan_id)
        unknown = [i for i in items if not self.items.known(i) or not self.items.applies_to(i, scan["type"])]
        if unknown:
            raise InvalidInput("不支持请求这些信息：" + "、".join(unknown), code="item_unknown",
                               errors=[FieldError("items", f"未知或不适用的信息项：{i}") for i in unknown])
        forbidden = [i for i in items if not allowed(i, list(actor.item_patterns))]
        if forbidden:
            raise PermissionDenied("本终端无权请求这些信息：" + "、".join(self.items.label(i) for i in forbidden),
                                   code="item_not_allowed", extra={"items": forbidden})
        preauthorized = set(json.loads(scan.get("items") or "[]"))
        now = now_ms()
        entries = [{"item": i, "label": self.items.label(i), "state": "approved" if i in preauthorized else "pending"}
                   for i in dict.fromkeys(items)]
        state = "approved" if all(e["state"] == "approved" for e in entries) else "pending"
        doc = {"_id": "c" + secrets.token_hex(12), "scan_id": scan_id, "holder": scan["holder"],
               "notify": scan["notify"], "subject_type": scan["type"], "requester": actor.as_dict(),
               "purpose": purpose, "matter": matter, "items": entries, "state": state, "created_at": now,
               "expires_at": now + self.cfg.consent_ttl_seconds * 1000,
               "decided_at": now if state == "approved" else None, "version": 1, "disclosures": 0}
        await self.store.insert(doc)
        await self.audit.record(self._chain(doc), Actor(actor.type, actor.id), "consent.requested",
                                target={"type": "consent", "id": doc["_id"]}, channel="kiosk",
                                details={"purpose": purpose, "items": [e["item"] for e in entries],
                                         "by": actor.name, "location": actor.location})
        await self.events.publish(f"person:{doc['notify']}", {
            "type": "consent.requested", "consent_id": doc["_id"], "by": actor.name, "location": actor.location,
            "purpose": purpose, "items": [{"item": e["item"], "label": e["label"]} for e in entries],
            "expires_at": doc["expires_at"], "state": state,
        })
        return doc

    async def mine(self, principal: Principal, state: str | None) -> list[dict[str, Any]]:
        docs = await self.store.for_person(principal.subject)
        now = now_ms()
        out = [self._with_expiry(d, now) for d in docs]
        return [d for d in out if state is None or d["state"] == state]

    @staticmethod
    def _with_expiry(doc: dict[str, Any], now: int) -> dict[str, Any]:
        if doc["state"] == "pending" and doc["expires_at"] <= now:
            return {**doc, "state": "expired"}
        return doc

    async def decide(self, principal: Principal, consent_id: str, approve: bool, items: list[str] | None,
                     caller: Caller) -> dict[str, Any]:
        doc = await self.store.get(consent_id)
        if doc is None or doc["notify"] != principal.subject:
            raise NotFound("未找到该授权请求", code="consent_not_found")
        now = now_ms()
        if doc["state"] == "pending" and doc["expires_at"] <= now:
            await self.store.update(consent_id, doc["version"], {"state": "expired"})
            raise Conflict("该授权请求已过期，请让窗口重新发起", code="consent_expired", extra={"state": "expired"})
        if doc["state"] != "pending":
            raise Conflict(f"该授权请求已处理（{doc['state']}）", code="consent_not_pending", extra={"state": doc["state"]})
        requested = [e["item"] for e in doc["items"]]
        if items is not None:
            extra = [i for i in items if i not in requested]
            if extra:
                raise InvalidInput("只能同意窗口请求的信息项", code="item_not_requested",
                                   errors=[FieldError("items", f"未请求的信息项：{i}") for i in extra])
        chosen = set(requested if items is None else items) if approve else set()
        entries = [{**e, "state": "approved" if (e["state"] == "approved" or e["item"] in chosen) else "rejected"}
                   for e in doc["items"]]
        n = sum(e["state"] == "approved" for e in entries)
        state = "approved" if n == len(entries) else ("partially_approved" if n else "rejected")
        updated = await self.store.update(consent_id, doc["version"],
                                                  {"items": entries, "state": state, "decided_at": now})
        if updated is None:
            raise Conflict("该授权请求刚被处理，请刷新", code="stale_version")
        await self.audit.record(self._chain(doc), Actor("person", principal.subject), f"consent.{state}",
                                target={"type": "consent", "id": consent_id}, channel=caller.channel, ip=caller.ip,
                                details={"approved": [e["item"] for e in entries if e["state"] == "approved"],
                                         "to": doc["requester"]["name"], "purpose": doc["purpose"]})
        requester = doc["requester"]
        await self.events.publish(f"{requester['type']}:{requester['id']}",
                                 {"type": "consent.decided", "consent_id": consent_id, "state": state})
        return updated

    async def consented_certificates(self, actor: ScanActor, consent_id: str
                                     ) -> tuple[str, frozenset[str], str | None]:
        """(holder person id, certificate types the holder approved, the matter it was asked
        for) of a consent this requester obtained and may still act on — what a kiosk may use
        to apply for the holder."""
        doc = await self.store.get(consent_id)
        if doc is None or doc["requester"]["id"] != actor.id or doc["requester"]["type"] != actor.type:
            raise NotFound("未找到该授权请求", code="consent_not_found")
        doc = self._with_expiry(doc, now_ms())
        if doc["state"] not in ("approved", "partially_approved"):
            raise Conflict("持码人尚未同意本次授权", code="consent_not_approved", extra={"state": doc["state"]})
        if now_ms() - doc["decided_at"] > DISCLOSURE_WINDOW_MS:
            raise Conflict("授权已超过 10 分钟，请重新扫码发起", code="consent_disclosure_expired")
        kind, ident = doc["holder"].split(":", 1)
        if kind != "person":
            raise PermissionDenied("自助终端只能为个人代为申请", code="holder_not_person")
        types = frozenset(e["item"].split(":", 1)[1] for e in doc["items"]
                          if e["state"] == "approved" and e["item"].startswith("certificate:"))
        return ident, types, doc.get("matter")

    async def for_requester(self, actor: ScanActor, consent_id: str) -> dict[str, Any]:
        doc = await self.store.get(consent_id)
        if doc is None or doc["requester"]["id"] != actor.id or doc["requester"]["type"] != actor.type:
            raise NotFound("未找到该授权请求", code="consent_not_found")
        now = now_ms()
        doc = self._with_expiry(doc, now)
        if doc["state"] not in ("approved", "partially_approved"):
            return {**doc, "values": {}}
        if now - doc["decided_at"] > DISCLOSURE_WINDOW_MS:
            raise Conflict("授权的查看时间已过（10 分钟），如需再次查看请重新发起", code="consent_disclosure_expired")
        approved = [e["item"] for e in doc["items"] if e["state"] == "approved"]
        values = await self._values(doc, approved, actor)
        await self.store.update(consent_id, doc["version"], {"disclosures": doc.get("disclosures", 0) + 1})
        await self.audit.record(self._chain(doc), Actor(actor.type, actor.id), "consent.disclosed",
                                target={"type": "consent", "id": consent_id}, channel="kiosk",
                                details={"items": approved, "to": actor.name, "location": actor.location,
                                         "purpose": doc["purpose"]})
        return {**doc, "values": values}

    async def _values(self, doc: dict[str, Any], items: list[str], actor: ScanActor) -> dict[str, Any]:
        kind, ident = doc["holder"].split(":", 1)
        fields: dict[str, Any] = {}
        index = None
        if kind == "person":
            p = await self.directory.person(ident)
            if p is not None:
                index = p.id_index
                fields = {"identity:name": p.name, "identity:id_number": p.id_number, "identity:phone": p.phone,
                          "identity:gender": p.gender,
                          "identity:birth_date": p.birth_date.isoformat() if p.birth_date else None,
                          "identity:document": p.document}
        else:
            e = await self.directory.enterprise(ident)
            if e is not None:
                index = e.uscc_index
                fields = {"enterprise:name": e.name, "enterprise:uscc": e.uscc, "enterprise:type": e.type,
                          "enterprise:address": e.address, "enterprise:legal_representative": e.legal_representative}
        values: dict[str, Any] = {i: fields.get(i) for i in items if not i.startswith("certificate:")}
        wanted = [i.split(":", 1)[1] for i in items if i.startswith("certificate:")]
        if wanted:
            delivered = await self.certificate_source(doc, wanted, index, actor)
            values.update({f"certificate:{t}": delivered.get(t) for t in wanted})
        return {i: values.get(i) for i in items}
