"""HTTP handlers of devices: registration and status (platform admin), and the device
token a kiosk gets with an assertion signed by its own key."""
from __future__ import annotations

from identity.devices.models import AssertionIn, DeviceIn, DeviceList, DeviceOut
from identity.devices.service import DeviceService
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.models import AccessOut
from server.principal import STAFF, Principal


def device_out(d: dict) -> DeviceOut:
    return DeviceOut(device_id=d["device_id"], name=d["name"], location=d["location"], department=d["department"],
                     scopes=d["scopes"], items=d.get("items", []), status=d["status"],
                     key_thumbprint=d["key_thumbprint"])


class _Base(BaseHandler):
    def initialize(self, devices: DeviceService) -> None:
        self.devices = devices


class DevicesHandler(_Base):
    @operation("登记自助终端（仅平台管理员）：名称、位置、部门、权限与设备公钥", tags=["管理 Admin"], auth=[STAFF],
               body=DeviceIn, response=DeviceOut, status=201, errors=(403, 409))
    async def post(self, principal: Principal, body: DeviceIn) -> DeviceOut:
        fields = body.model_dump(exclude={"public_key_pem"})
        return device_out(await self.devices.register(principal, fields, body.public_key_pem))

    @operation("终端列表（仅平台管理员）", tags=["管理 Admin"], auth=[STAFF], response=DeviceList, errors=(403,))
    async def get(self, principal: Principal) -> DeviceList:
        return DeviceList(items=[device_out(d) for d in await self.devices.list(principal)])


class DeviceStatusHandler(_Base):
    active = False

    @operation("停用终端（其令牌立即失效，扫码立即被拒）", tags=["管理 Admin"], auth=[STAFF], response=DeviceOut,
               errors=(403, 404))
    async def post(self, principal: Principal, device_id: str) -> DeviceOut:
        return device_out(await self.devices.set_status(principal, device_id, self.active))


class DeviceEnableHandler(DeviceStatusHandler):
    active = True

    @operation("重新启用终端", tags=["管理 Admin"], auth=[STAFF], response=DeviceOut, errors=(403, 404))
    async def post(self, principal: Principal, device_id: str) -> DeviceOut:
        return device_out(await self.devices.set_status(principal, device_id, self.active))


class DeviceTokenHandler(_Base):
    @operation("终端以设备私钥签名的断言换取访问令牌（aud=kiosk）", tags=["终端 Kiosk"], body=AssertionIn,
               response=AccessOut, errors=(401, 403))
    async def post(self, body: AssertionIn) -> AccessOut:
        token, ttl = await self.devices.token(body.assertion)
        return AccessOut(access_token=token, expires_in=ttl)



def routes(devices: DeviceService) -> list:
    deps = {"devices": devices}
    return [
        route(r"/api/v1/admin/devices", DevicesHandler, **deps),
        route(r"/api/v1/admin/devices/(?P<device_id>[a-z0-9][a-z0-9-]{2,39})/disable", DeviceStatusHandler, **deps),
        route(r"/api/v1/admin/devices/(?P<device_id>[a-z0-9][a-z0-9-]{2,39})/enable", DeviceEnableHandler, **deps),
        route(r"/api/v1/devices/token", DeviceTokenHandler, **deps),
    ]
