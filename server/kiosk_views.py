"""Handlers for kiosks and service windows: scanning codes, asking for consent, reading
what was consented, syncing offline scans; device administration; the events stream."""
from __future__ import annotations

import asyncio
import json

from tornado.iostream import StreamClosedError

from identity.code_models import (ConsentDisclosure, ConsentOut, ConsentRequestIn, DeviceIn, DeviceList, DeviceOut,
                                  OfflineScanResult, OfflineScansIn, OfflineScansOut, ScanIn, ScanOut)
from identity.code_views import CONSENT_ID, consent_out
from identity.sessions import Principal
from identity.tokens import KIOSK, PERSON_CHANNELS, STAFF
from server.errors import AppError
from server.events import CLOSED
from server.http.base import BaseHandler
from server.http.routing import operation, route

KIOSK_TAGS = ["终端与窗口 Kiosk & window"]
SCANNERS = [KIOSK, STAFF]


def device_out(d: dict) -> DeviceOut:
    return DeviceOut(device_id=d["device_id"], name=d["name"], location=d["location"], department=d["department"],
                     scopes=d["scopes"], items=d.get("items", []), status=d["status"],
                     key_thumbprint=d["key_thumbprint"])


class ScansHandler(BaseHandler):
    # Hot path: the token's revocation is checked inside the scan's single Redis call.
    @operation("扫码：校验服务码并记录（一码一用），返回脱敏的持码人信息", tags=KIOSK_TAGS, auth=SCANNERS,
               revocation_in_service=True, body=ScanIn, response=ScanOut, errors=(403, 409, 422))
    async def post(self, principal: Principal, body: ScanIn) -> ScanOut:
        result = await self.ctx.codes.scan(self.ctx.devices.scan_actor(principal), body.code, body.short_code)
        return ScanOut(scan_id=result.scan_id, subject_type=result.subject_type, name=result.name,
                       level=result.level, preauthorized_items=result.preauthorized_items)


class OfflineScansHandler(BaseHandler):
    @operation("同步离线验码记录（联网后补做一码一用与作废检查）", tags=KIOSK_TAGS, auth=[KIOSK],
               body=OfflineScansIn, response=OfflineScansOut)
    async def post(self, principal: Principal, body: OfflineScansIn) -> OfflineScansOut:
        actor = self.ctx.devices.scan_actor(principal)
        results = []
        for item in body.scans:
            try:
                r = await self.ctx.codes.scan_offline(actor, item.code, item.scanned_at)
                results.append(OfflineScanResult(code_ok=True, scan_id=r.scan_id, error=None))
            except AppError as e:
                results.append(OfflineScanResult(code_ok=False, scan_id=None, error=e.code))
        return OfflineScansOut(results=results)


class ConsentRequestHandler(BaseHandler):
    @operation("向持码人请求授权：说明事由并列出所需信息项（5 分钟内有效）", tags=KIOSK_TAGS, auth=SCANNERS,
               body=ConsentRequestIn, response=ConsentOut, status=201, errors=(403, 404))
    async def post(self, principal: Principal, scan_id: str, body: ConsentRequestIn) -> ConsentOut:
        actor = await self.ctx.devices.actor(principal, "consent")
        doc = await self.ctx.consents.request(actor, scan_id, body.purpose, body.items, body.matter)
        return ConsentOut(**consent_out(doc))


class ConsentHandler(BaseHandler):
    @operation("授权请求的结果：终端或窗口只收到持码人同意的信息项", tags=KIOSK_TAGS, auth=SCANNERS,
               response=ConsentDisclosure, errors=(404, 409))
    async def get(self, principal: Principal, consent_id: str) -> ConsentDisclosure:
        actor = await self.ctx.devices.actor(principal, "consent")
        doc = await self.ctx.consents.for_requester(actor, consent_id)
        return ConsentDisclosure(**consent_out(doc), values=doc["values"])


class DevicesHandler(BaseHandler):
    @operation("登记自助终端（仅平台管理员）：名称、位置、部门、权限与设备公钥", tags=["管理 Admin"], auth=[STAFF],
               body=DeviceIn, response=DeviceOut, status=201, errors=(403, 409))
    async def post(self, principal: Principal, body: DeviceIn) -> DeviceOut:
        fields = body.model_dump(exclude={"public_key_pem"})
        return device_out(await self.ctx.devices.register(principal, fields, body.public_key_pem))

    @operation("终端列表（仅平台管理员）", tags=["管理 Admin"], auth=[STAFF], response=DeviceList, errors=(403,))
    async def get(self, principal: Principal) -> DeviceList:
        return DeviceList(items=[device_out(d) for d in await self.ctx.devices.list(principal)])


class DeviceStatusHandler(BaseHandler):
    active = False

    @operation("停用终端（其令牌立即失效，扫码立即被拒）", tags=["管理 Admin"], auth=[STAFF], response=DeviceOut,
               errors=(403, 404))
    async def post(self, principal: Principal, device_id: str) -> DeviceOut:
        return device_out(await self.ctx.devices.set_status(principal, device_id, self.active))


class DeviceEnableHandler(DeviceStatusHandler):
    active = True

    @operation("重新启用终端", tags=["管理 Admin"], auth=[STAFF], response=DeviceOut, errors=(403, 404))
    async def post(self, principal: Principal, device_id: str) -> DeviceOut:
        return device_out(await self.ctx.devices.set_status(principal, device_id, self.active))


class EventsHandler(BaseHandler):
    """Server-sent events. EventSource cannot set headers, so the access token may also
    come as ``?access_token=`` (only on this endpoint; the access log records no query)."""

    def bearer_token(self) -> str:
        return super().bearer_token() or self.get_query_argument("access_token", "")

    @operation("实时事件流（SSE）：码被扫、授权请求、授权结果", tags=["事件 Events"],
               auth=[*PERSON_CHANNELS, KIOSK, STAFF], content_type="text/event-stream")
    async def get(self, principal: Principal) -> None:
        audience = {"kiosk": "device", "staff": "staff"}.get(principal.channel, "person")
        subject = principal.subject.split(":", 1)[-1]
        hub = self.ctx.events
        queue = await hub.listen(f"{audience}:{subject}")
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self._closed = asyncio.Event()
        try:
            self.write(": connected\n\nretry: 3000\n\n")
            await self.flush()
            while not self._closed.is_set():
                try:
                    event = await asyncio.wait_for(queue.get(), 15)
                except asyncio.TimeoutError:
                    self.write(": keep-alive\n\n")
                else:
                    if event is CLOSED:
                        break
                    self.write(f"event: {event.get('type', 'message')}\n"
                               f"data: {json.dumps(event, ensure_ascii=False)}\n\n")
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            await hub.unlisten(f"{audience}:{subject}", queue)
        if not self._finished:
            self.finish()

    def on_connection_close(self) -> None:
        closed = getattr(self, "_closed", None)
        if closed is not None:
            closed.set()
        super().on_connection_close()


def routes() -> list:
    return [
        route(r"/api/v1/scans", ScansHandler),
        route(r"/api/v1/scans/offline", OfflineScansHandler),
        route(r"/api/v1/scans/(?P<scan_id>s[0-9a-f]{24})/requests", ConsentRequestHandler),
        route(rf"/api/v1/consents/{CONSENT_ID}", ConsentHandler),
        route(r"/api/v1/admin/devices", DevicesHandler),
        route(r"/api/v1/admin/devices/(?P<device_id>[a-z0-9][a-z0-9-]{2,39})/disable", DeviceStatusHandler),
        route(r"/api/v1/admin/devices/(?P<device_id>[a-z0-9][a-z0-9-]{2,39})/enable", DeviceEnableHandler),
        route(r"/api/v1/events", EventsHandler),
    ]
