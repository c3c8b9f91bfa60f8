"""Open311 GeoReport v2 on top of the 12345 tickets: categories are services, tickets filed
by a registered partner (an existing 311 client, with its API key) are service requests.
Only partners' requests are listed: residents' tickets are private."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from server.audit import Actor, AuditTrail
from server.calendar import CHINA
from server.clock import now_ms
from server.errors import FieldError, InvalidInput, NotFound, PermissionDenied, RateLimited
from server.pii import PiiCipher
from server.principal import Principal, require_role
from server.storage.limits import Limits
from tickets.catalog import TicketCatalog
from tickets.lifecycle import FINISHED, TicketLifecycle
from tickets.service import TicketService
from tickets.storage import TicketStore

SPEC = "http://wiki.open311.org/GeoReport_v2"
PER_HOUR = 120
DAY_MS = 86_400_000


def w3c(ms_: int | None) -> str | None:
    return datetime.fromtimestamp(ms_ / 1000, CHINA).isoformat(timespec="seconds") if ms_ else None


def epoch_ms(dt: datetime) -> int:
    """A W3C time (without a zone: Beijing time) as epoch milliseconds."""
    return int((dt if dt.tzinfo else dt.replace(tzinfo=CHINA)).timestamp() * 1000)


class Open311:
    def __init__(self, store: TicketStore, catalog: TicketCatalog, lifecycle: TicketLifecycle, tickets: TicketService,
                 limits: Limits, pii: PiiCipher, audit: AuditTrail, public_base_url: str):
        self.store = store
        self.catalog = catalog
        self.lifecycle = lifecycle
        self.tickets = tickets
        self.limits = limits
        self.pii = pii
        self.audit = audit
        self.base = public_base_url

    # -- partners (registered by the platform admin) --------------------------------------------

    def _hash(self, key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    async def register(self, principal: Principal, name: str) -> dict[str, Any]:
        require_role(principal, "admin")
        key = "o311_" + secrets.token_urlsafe(24)
        doc = {"_id": "op" + secrets.token_hex(8), "name": name, "key_hash": self._hash(key), "status": "active",
               "created_at": now_ms(), "created_by": principal.subject}
        await self.store.insert_partner(doc)
        await self.audit.record("platform:open311", Actor("staff", principal.subject), "open311.partner_registered",
                                target={"type": "partner", "id": doc["_id"]}, channel="staff", details={"name": name})
        return {"id": doc["_id"], "name": name, "api_key": key, "created_at": doc["created_at"]}

    async def partners(self, principal: Principal) -> list[dict[str, Any]]:
        require_role(principal, "admin")
        return [{"id": p["_id"], "name": p["name"], "created_at": p["created_at"]} for p in await self.store.partners()]

    async def partner(self, api_key: str) -> dict[str, Any]:
        p = await self.store.partner_by_key(self._hash(api_key)) if api_key else None
        if p is None:
            raise PermissionDenied("api_key 无效", code="api_key_invalid", errors=[FieldError("api_key", "无效的 api_key")])
        return p

    # -- the GeoReport resources -------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        changed = w3c(now_ms())
        return {"changeset": changed, "contact": "广州市12345政务服务便民热线中心（电话 12345）",
                "key_service": "合作方 API key 由平台管理员登记发放",
                "endpoints": [{"specification": SPEC, "url": f"{self.base}/open311/v2", "changeset": changed,
                               "type": "production", "formats": ["application/json", "text/xml"]}]}

    def services(self) -> list[dict[str, Any]]:
        return [{"service_code": c.code, "service_name": c.name, "description": f"{c.group}：{c.name}",
                 "metadata": False, "type": "realtime", "keywords": c.group, "group": c.group}
                for c in self.catalog.categories.values()]

    def service(self, code: str) -> dict[str, Any]:
        if code not in self.catalog.categories:
            raise NotFound("没有这个服务", code="service_not_found")
        return {"service_code": code, "attributes": []}

    def _request(self, t: dict[str, Any]) -> dict[str, Any]:
        loc = t.get("location") or {}
        lead = self.catalog.department(t.get("lead_department") or "")
        return {"service_request_id": t["number"], "status": "closed" if t["state"] in FINISHED else "open",
                "status_notes": t.get("answer") or self.lifecycle.view(t)["state_name"],
                "service_name": t["category_name"], "service_code": t["category"], "description": t["content"],
                "agency_responsible": lead.name if lead else self.catalog.centre["name"], "service_notice": None,
                "requested_datetime": w3c(t["created_at"]), "updated_datetime": w3c(t["updated_at"]),
                "expected_datetime": w3c(t.get("due_at")), "address": loc.get("address") or None,
                "address_id": None, "zipcode": None, "lat": loc.get("lat"), "long": loc.get("lng"), "media_url": None}

    async def create(self, body: dict[str, Any], ip: str) -> list[dict[str, Any]]:
        partner = await self.partner(body["api_key"])
        wait, _ = await self.limits.spend("open311", [partner["_id"]], PER_HOUR, 3600)
        if wait:
            raise RateLimited("提交太频繁了", code="open311_rate_limited", retry_after=wait)
        cat = self.catalog.categories.get(body["service_code"])
        if cat is None:
            raise InvalidInput("没有这个服务", code="ticket_invalid", errors=[FieldError("service_code", "没有这个服务")])
        if body.get("lat") is None and not body.get("address_string"):
            raise InvalidInput("须提供位置（经纬度或地址）", code="location_required",
                               errors=[FieldError("address_string", "须提供经纬度或地址")])
        contact = " ".join(x for x in (body.get("last_name"), body.get("first_name")) if x)
        kind = next((k for k in ("help", "complaint", "report", "consult", "suggestion") if k in cat.kinds))
        ticket = {"kind": kind, "category": cat.code, "title": body["description"][:30].strip() or cat.name,
                  "content": body["description"], "attachments": [], "anonymous": False, "contact_allowed": bool(contact),
                  "location": {"address": body.get("address_string") or "", "lat": body.get("lat"), "lng": body.get("long"),
                               "region_code": None}, "related": None}
        submitter = {"kind": "partner", "partner": partner["_id"], "partner_name": partner["name"],
                     "contact_name": contact, "contact_enc": self.pii.encrypt(
                         f"{body.get('phone') or ''} {body.get('email') or ''}".strip(), "open311_contact")
                     if body.get("phone") or body.get("email") else None,
                     "media_url": body.get("media_url")}
        created = await self.tickets.create_for(ticket, submitter, f"partner:{partner['_id']}")
        days = self.catalog.kinds[kind].limit_working_days
        return [{"service_request_id": created["number"], "token": created["id"],
                 "service_notice": f"已受理登记，12345 中心派单后 {days} 个工作日内办理", "account_id": None}]

    async def requests(self, q: dict[str, Any]) -> list[dict[str, Any]]:
        now = now_ms()
        until = epoch_ms(q["end_date"]) if q.get("end_date") else now
        since = epoch_ms(q["start_date"]) if q.get("start_date") else until - 90 * DAY_MS
        since = max(since, until - 90 * DAY_MS)  # a range may not span more than 90 days: its last 90
        docs = await self.store.partner_tickets(None, since, until)
        if q.get("service_request_id"):
            wanted = {x.strip() for x in q["service_request_id"].split(",")}
            docs = [t for t in docs if t["number"] in wanted]
        if q.get("service_code"):
            codes = {x.strip() for x in q["service_code"].split(",")}
            docs = [t for t in docs if t["category"] in codes]
        out = [self._request(t) for t in docs]
        if q.get("status"):
            statuses = set(q["status"].split(","))
            out = [r for r in out if r["status"] in statuses]
        return out

    async def request(self, number: str) -> list[dict[str, Any]]:
        t = await self.store.by_number(number)
        if t is None or t["submitter"].get("kind") != "partner":
            raise NotFound("没有这个服务请求", code="service_request_not_found")
        return [self._request(t)]

    async def token(self, token: str) -> list[dict[str, Any]]:
        t = await self.store.get(token)
        if t is None or t["submitter"].get("kind") != "partner":
            raise NotFound("没有这个令牌", code="token_not_found")
        return [{"service_request_id": t["number"], "token": token}]
