"""Consent: a kiosk or window that scanned a code asks the holder for specific items;
the holder approves or rejects (item by item); the requester receives only what was
approved, within a short window, and every disclosure lands in the holder's trail."""
from __future__ import annotations

import json
import secrets
from typing import Any, Awaitable, Callable

from identity.code_service import ScanActor
from identity.code_storage import CodeStore
from identity.items import ItemCatalog, allowed
from identity.enterprises import enterprise_chain
from identity.service import Caller, person_chain
from identity.sessions import Principal
from identity.storage import EnterpriseStore, PersonStore
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.config import CodesConfig
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from server.pii import PiiCipher

DISCLOSURE_WINDOW_MS = 10 * 60 * 1000

# Certificate items are delivered by the wallet (registered at start-up).
CertificateSource = Callable[[dict[str, Any], str, str, ScanActor], Awaitable[dict[str, Any] | None]]


class ConsentService:
    def __init__(self, store: CodeStore, persons: PersonStore, enterprises: EnterpriseStore, items: ItemCatalog,
                 audit: AuditTrail, pii: PiiCipher, config: CodesConfig):
        self.store = store
        self.persons = persons
        self.enterprises = enterprises
        self.items = items
        self.audit = audit
        self.pii = pii
        self.cfg = config
        self.certificate_source: CertificateSource | None = None

    def _chain(self, consent: dict[str, Any]) -> str:
        kind, ident = consent["holder"].split(":", 1)
        return person_chain(ident) if kind == "person" else enterprise_chain(ident)

    async def request(self, actor: ScanActor, scan_id: str, purpose: str, items: list[str],
                      matter: str | None = None) -> dict[str, Any]:
        scan = await self.store.scan_record(scan_id)
        if not scan or scan.get("actor_id") != actor.id or scan.get("actor_type") != actor.type:
            raise NotFound("未找到该扫码记录（或已超过 15 分钟）", code="scan_not_found")
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
        await self.store.insert_consent(doc)
        await self.audit.record(self._chain(doc), Actor(actor.type, actor.id), "consent.requested",
                                target={"type": "consent", "id": doc["_id"]}, channel="kiosk",
                                details={"purpose": purpose, "items": [e["item"] for e in entries],
                                         "by": actor.name, "location": actor.location})
        await self.store.publish(f"person:{doc['notify']}", {
            "type": "consent.requested", "consent_id": doc["_id"], "by": actor.name, "location": actor.location,
            "purpose": purpose, "items": [{"item": e["item"], "label": e["label"]} for e in entries],
            "expires_at": doc["expires_at"], "state": state,
        })
        return doc

    async def mine(self, principal: Principal, state: str | None) -> list[dict[str, Any]]:
        docs = await self.store.consents_for(principal.subject, None)
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
        doc = await self.store.consent(consent_id)
        if doc is None or doc["notify"] != principal.subject:
            raise NotFound("未找到该授权请求", code="consent_not_found")
        now = now_ms()
        if doc["state"] == "pending" and doc["expires_at"] <= now:
            await self.store.update_consent(consent_id, doc["version"], {"state": "expired"})
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
        updated = await self.store.update_consent(consent_id, doc["version"],
                                                  {"items": entries, "state": state, "decided_at": now})
        if updated is None:
            raise Conflict("该授权请求刚被处理，请刷新", code="stale_version")
        await self.audit.record(self._chain(doc), Actor("person", principal.subject), f"consent.{state}",
                                target={"type": "consent", "id": consent_id}, channel=caller.channel, ip=caller.ip,
                                details={"approved": [e["item"] for e in entries if e["state"] == "approved"],
                                         "to": doc["requester"]["name"], "purpose": doc["purpose"]})
        requester = doc["requester"]
        await self.store.publish(f"{requester['type']}:{requester['id']}",
                                 {"type": "consent.decided", "consent_id": consent_id, "state": state})
        return updated

    async def consented_certificates(self, actor: ScanActor, consent_id: str
                                     ) -> tuple[str, frozenset[str], str | None]:
        """(holder person id, certificate types the holder approved, the matter it was asked
        for) of a consent this requester obtained and may still act on — what a kiosk may use
        to apply for the holder."""
        doc = await self.store.consent(consent_id)
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
        doc = await self.store.consent(consent_id)
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
        await self.store.update_consent(consent_id, doc["version"], {"disclosures": doc.get("disclosures", 0) + 1})
        await self.audit.record(self._chain(doc), Actor(actor.type, actor.id), "consent.disclosed",
                                target={"type": "consent", "id": consent_id}, channel="kiosk",
                                details={"items": approved, "to": actor.name, "location": actor.location,
                                         "purpose": doc["purpose"]})
        return {**doc, "values": values}

    async def _values(self, doc: dict[str, Any], items: list[str], actor: ScanActor) -> dict[str, Any]:
        kind, ident = doc["holder"].split(":", 1)
        values: dict[str, Any] = {}
        if kind == "person":
            person = await self.persons.get(ident) or {}
            rn = person.get("realname") or {}
            fields = {
                "identity:name": rn.get("name"),
                "identity:id_number": self.pii.decrypt(rn["id_enc"], "id_number") if rn else None,
                "identity:phone": self.pii.decrypt(person["phone_enc"], "phone") if person.get("phone_enc") else None,
                "identity:gender": rn.get("gender"), "identity:birth_date": rn.get("birth_date"),
                "identity:document": rn.get("document"),
            }
        else:
            e = await self.enterprises.get(ident) or {}
            fields = {"enterprise:name": e.get("name"), "enterprise:uscc": e.get("uscc"),
                      "enterprise:type": e.get("type"), "enterprise:address": e.get("address"),
                      "enterprise:legal_representative": e.get("legal_rep_name")}
        for item in items:
            if item.startswith("certificate:"):
                if self.certificate_source is not None:
                    values[item] = await self.certificate_source(doc, item.split(":", 1)[1], ident, actor)
            else:
                values[item] = fields.get(item)
        return values
