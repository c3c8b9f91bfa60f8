"""HTTP handlers of taking a number: the kiosk (person code or check-in code), the 导服台,
the phone near the hall; the holder's numbers and rejoining after 过号."""
from __future__ import annotations

from halls.queue.models import DeskNumberIn, KioskNumberIn, Number, NumberList, RemoteNumberIn
from halls.queue.service import QueueService
from identity.devices.service import DeviceService
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import KIOSK, PERSON_CHANNELS, STAFF, Principal

TAGS = ["服务大厅 Halls"]
HALL = r"(?P<hall_id>[a-z0-9-]{3,40})"
NUMBER = r"(?P<number_id>n[0-9a-f]{24})"


class _Base(BaseHandler):
    def initialize(self, queue: QueueService, devices: DeviceService) -> None:
        self.queue = queue
        self.devices = devices

    def issued(self, answer: dict, created: bool) -> None:
        """201 for a new number; 200 with the number the person already holds today."""
        self.send_json(Number(**answer), 201 if created else 200)


class KioskNumbersHandler(_Base):
    @operation("自助终端取号：扫服务码（当天有预约则签到，优先叫号），或输入预约码", tags=TAGS, auth=[KIOSK],
               body=KioskNumberIn, response=Number, status=201, errors=(400, 403, 404, 409))
    async def post(self, principal: Principal, body: KioskNumberIn) -> None:
        actor = await self.devices.actor(principal, "queue")
        self.issued(*await self.queue.at_kiosk(actor, body.scan_id, body.checkin_code, body.matter))


class DeskNumbersHandler(_Base):
    @operation("导服台取号（为没有手机的办事人，或标记绿色通道）", tags=TAGS, auth=[STAFF], body=DeskNumberIn,
               response=Number, status=201, errors=(400, 403, 404, 409))
    async def post(self, principal: Principal, hall_id: str, body: DeskNumberIn) -> None:
        self.issued(*await self.queue.at_desk(principal, hall_id, body.matter, body.scan_id, body.name, body.green))


class RemoteNumbersHandler(_Base):
    @operation("线上取号：在大厅附近、开放时间内", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", body=RemoteNumberIn, response=Number,
               status=201, errors=(400, 404, 409))
    async def post(self, principal: Principal, hall_id: str, body: RemoteNumberIn) -> None:
        self.issued(*await self.queue.remote(principal, hall_id, body.matter, body.lat, body.lng))


class MyNumbersHandler(_Base):
    @operation("我今天的排队号：前面还有几人、预计等候", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", response=NumberList)
    async def get(self, principal: Principal) -> NumberList:
        return NumberList(items=[Number(**n) for n in await self.queue.mine(principal)])


class MyNumberHandler(_Base):
    @operation("我的排队号", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", response=Number, errors=(404,))
    async def get(self, principal: Principal, number_id: str) -> Number:
        return Number(**await self.queue.get_mine(principal, number_id))


class RejoinHandler(_Base):
    @operation("过号后重新排队（一次）", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", response=Number, errors=(404, 409))
    async def post(self, principal: Principal, number_id: str) -> Number:
        return Number(**await self.queue.rejoin(principal, number_id))


def routes(queue: QueueService, devices: DeviceService) -> list:
    deps = {"queue": queue, "devices": devices}
    return [
        route(r"/api/v1/kiosk/numbers", KioskNumbersHandler, **deps),
        route(rf"/api/v1/staff/halls/{HALL}/numbers", DeskNumbersHandler, **deps),
        route(rf"/api/v1/halls/{HALL}/numbers", RemoteNumbersHandler, **deps),
        route(r"/api/v1/me/numbers", MyNumbersHandler, **deps),
        route(rf"/api/v1/me/numbers/{NUMBER}", MyNumberHandler, **deps),
        route(rf"/api/v1/me/numbers/{NUMBER}/rejoin", RejoinHandler, **deps),
    ]
