"""HTTP handlers of a kiosk (or window) acting for the holder whose code it scanned."""
from __future__ import annotations

from identity.devices.service import DeviceService
from matters.kiosk.models import (
    AwaitingRatingList,
    KioskApplicationIn,
    KioskApplicationOut,
)
from matters.kiosk.service import KioskMatters
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import KIOSK, STAFF, Principal


class _Base(BaseHandler):
    def initialize(self, kiosk: KioskMatters, devices: DeviceService) -> None:
        self.kiosk = kiosk
        self.devices = devices


class KioskApplicationsHandler(_Base):
    @operation("自助终端或窗口（帮办）为持码人代为提交申请：只使用持码人本次同意的证照，表单由服务端按实名信息与这些证照填写；"
               "一次授权只能提交一份申请（授权编号即幂等键：重试返回同一份申请）", tags=["终端与窗口 Kiosk & window"],
               auth=[KIOSK, STAFF], body=KioskApplicationIn, response=KioskApplicationOut, status=201,
               errors=(403, 404, 409, 422))
    async def post(self, principal: Principal, body: KioskApplicationIn) -> None:
        actor = await self.devices.actor(principal, "apply")
        app, created = await self.kiosk.apply(actor, body.consent_id, body.matter, body.form, body.situation)
        view = await self.kiosk.view(app)
        self.send_json(KioskApplicationOut(**{k: view.get(k) for k in KioskApplicationOut.model_fields}),
                       201 if created else 200)


class KioskAwaitingRatingHandler(_Base):
    @operation("持码人已办结、尚未评价的办件（供现场评价）", tags=["终端与窗口 Kiosk & window"], auth=[KIOSK, STAFF],
               response=AwaitingRatingList, errors=(403, 404))
    async def get(self, principal: Principal, scan_id: str) -> AwaitingRatingList:
        actor = await self.devices.actor(principal, "rate")
        return AwaitingRatingList(items=await self.kiosk.awaiting_rating(actor, scan_id))



def routes(kiosk: KioskMatters, devices: DeviceService) -> list:
    deps = {"kiosk": kiosk, "devices": devices}
    return [
        route(r"/api/v1/kiosk/applications", KioskApplicationsHandler, **deps),
        route(r"/api/v1/kiosk/scans/(?P<scan_id>s[0-9a-f]{24})/awaiting-rating", KioskAwaitingRatingHandler, **deps),
    ]
