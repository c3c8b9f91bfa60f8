"""HTTP handlers of consent: a kiosk or window asks the holder (after a scan) for named
items and reads what was approved; the holder sees and decides on the phone."""
from __future__ import annotations

from typing import Any

from identity.consent.models import (
    ConsentDecisionIn,
    ConsentDisclosure,
    ConsentList,
    ConsentListQuery,
    ConsentOut,
    ConsentRequestIn,
)
from identity.consent.service import ConsentService
from identity.devices.service import DeviceService
from server.clock import to_datetime
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import KIOSK, PERSON_CHANNELS, STAFF, Principal

CONSENT = ["授权 Consent"]
KIOSK_TAGS = ["终端与窗口 Kiosk & window"]
SCANNERS = [KIOSK, STAFF]
CONSENT_ID = r"(?P<consent_id>c[0-9a-f]{24})"


def consent_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "state": doc["state"], "purpose": doc["purpose"], "requester": doc["requester"],
            "items": doc["items"], "created_at": to_datetime(doc["created_at"]),
            "expires_at": to_datetime(doc["expires_at"]), "decided_at": to_datetime(doc.get("decided_at"))}


class _Base(BaseHandler):
    def initialize(self, consents: ConsentService, devices: DeviceService) -> None:
        self.consents = consents
        self.devices = devices


class ConsentsHandler(_Base):
    @operation("我收到的授权请求（如 state=pending 待处理）", tags=CONSENT, auth=PERSON_CHANNELS,
               query=ConsentListQuery, response=ConsentList)
    async def get(self, principal: Principal, query: ConsentListQuery) -> ConsentList:
        docs = await self.consents.mine(principal, query.state)
        return ConsentList(items=[ConsentOut(**consent_out(d)) for d in docs])


class ConsentDecisionBase(_Base):
    async def decide(self, principal: Principal, consent_id: str, body: ConsentDecisionIn, approve: bool
                     ) -> ConsentOut:
        doc = await self.consents.decide(principal, consent_id, approve, body.items,
                                             self.caller(principal.channel))
        return ConsentOut(**consent_out(doc))


class ConsentApproveHandler(ConsentDecisionBase):
    @operation("同意授权请求（可逐项同意）", tags=CONSENT, auth=PERSON_CHANNELS, body=ConsentDecisionIn,
               response=ConsentOut, errors=(404, 409))
    async def post(self, principal: Principal, consent_id: str, body: ConsentDecisionIn) -> ConsentOut:
        return await self.decide(principal, consent_id, body, True)


class ConsentRejectHandler(ConsentDecisionBase):
    @operation("拒绝授权请求", tags=CONSENT, auth=PERSON_CHANNELS, body=ConsentDecisionIn, response=ConsentOut,
               errors=(404, 409))
    async def post(self, principal: Principal, consent_id: str, body: ConsentDecisionIn) -> ConsentOut:
        return await self.decide(principal, consent_id, body, False)


class ConsentRequestHandler(_Base):
    @operation("向持码人请求授权：说明事由并列出所需信息项（5 分钟内有效）", tags=KIOSK_TAGS, auth=SCANNERS,
               body=ConsentRequestIn, response=ConsentOut, status=201, errors=(403, 404))
    async def post(self, principal: Principal, scan_id: str, body: ConsentRequestIn) -> ConsentOut:
        actor = await self.devices.actor(principal, "consent")
        doc = await self.consents.request(actor, scan_id, body.purpose, body.items, body.matter)
        return ConsentOut(**consent_out(doc))


class ConsentHandler(_Base):
    @operation("授权请求的结果：终端或窗口只收到持码人同意的信息项", tags=KIOSK_TAGS, auth=SCANNERS,
               response=ConsentDisclosure, errors=(404, 409))
    async def get(self, principal: Principal, consent_id: str) -> ConsentDisclosure:
        actor = await self.devices.actor(principal, "consent")
        doc = await self.consents.for_requester(actor, consent_id)
        return ConsentDisclosure(**consent_out(doc), values=doc["values"])



def routes(consents: ConsentService, devices: DeviceService) -> list:
    deps = {"consents": consents, "devices": devices}
    return [
        route(r"/api/v1/scans/(?P<scan_id>s[0-9a-f]{24})/requests", ConsentRequestHandler, **deps),
        route(rf"/api/v1/consents/{CONSENT_ID}", ConsentHandler, **deps),
        route(r"/api/v1/consents", ConsentsHandler, **deps),
        route(rf"/api/v1/consents/{CONSENT_ID}/approve", ConsentApproveHandler, **deps),
        route(rf"/api/v1/consents/{CONSENT_ID}/reject", ConsentRejectHandler, **deps),
    ]
