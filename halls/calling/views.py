"""HTTP handlers of the window clerk's console (叫号), the hall screen and statistics."""
from __future__ import annotations

from halls.calling.models import CalledNumber, Console, Display, HallStats, NumberAction, StatsQuery, TransferIn, WindowClosed
from halls.calling.service import CallingService
from halls.queue.models import Number
from identity.devices.service import DeviceService
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import KIOSK, STAFF, Principal

TAGS = ["服务大厅 Halls"]
HALL = r"(?P<hall_id>[a-z0-9-]{3,40})"
WINDOW = r"(?P<window>[0-9]{1,3})"
NUMBER = r"(?P<number_id>n[0-9a-f]{24})"
ACTIONS = {"recall", "skip", "serve", "finish"}


class _Base(BaseHandler):
    def initialize(self, calling: CallingService, devices: DeviceService) -> None:
        self.calling = calling
        self.devices = devices


class ConsoleHandler(_Base):
    @operation("窗口工作台：本窗口服务的队列、正在办理的号、等候人数", tags=TAGS, auth=[STAFF], response=Console,
               errors=(403, 404))
    async def get(self, principal: Principal, hall_id: str, window: str) -> Console:
        return Console(**await self.calling.console(principal, hall_id, int(window)))


class OpenHandler(_Base):
    @operation("开启窗口（此后只有本人可在该窗口叫号）", tags=TAGS, auth=[STAFF], response=Console, errors=(403, 404, 409))
    async def post(self, principal: Principal, hall_id: str, window: str) -> Console:
        return Console(**await self.calling.open(principal, hall_id, int(window)))


class CloseHandler(_Base):
    @operation("关闭窗口", tags=TAGS, auth=[STAFF], response=WindowClosed, errors=(403, 404))
    async def post(self, principal: Principal, hall_id: str, window: str) -> WindowClosed:
        return WindowClosed(**await self.calling.close(principal, hall_id, int(window)))


class CallNextHandler(_Base):
    @operation("叫下一个号（转来本窗口的优先，其次按绿色通道、预约、现场取号的顺序）", tags=TAGS, auth=[STAFF],
               response=CalledNumber, errors=(403, 404, 409))
    async def post(self, principal: Principal, hall_id: str, window: str) -> CalledNumber:
        return CalledNumber(**await self.calling.call_next(principal, hall_id, int(window)))


class NumberActionHandler(_Base):
    @operation("对本窗口的号：recall 重呼、skip 过号、serve 开始办理、finish 办结", tags=TAGS, auth=[STAFF],
               body=NumberAction, response=CalledNumber, errors=(403, 404, 409))
    async def post(self, principal: Principal, hall_id: str, window: str, number_id: str, action: str,
                   body: NumberAction) -> CalledNumber:
        do = {"recall": self.calling.recall, "skip": self.calling.skip, "serve": self.calling.serve,
              "finish": self.calling.finish}[action]
        return CalledNumber(**await do(principal, hall_id, int(window), number_id, body.version))


class TransferHandler(_Base):
    @operation("转到另一个窗口（该窗口下一次叫号时优先叫到）", tags=TAGS, auth=[STAFF], body=TransferIn,
               response=CalledNumber, errors=(400, 403, 404, 409))
    async def post(self, principal: Principal, hall_id: str, window: str, number_id: str,
                   body: TransferIn) -> CalledNumber:
        return CalledNumber(**await self.calling.transfer(principal, hall_id, int(window), number_id, body.version,
                                                          body.to))


class DeskRejoinHandler(_Base):
    @operation("导服台：过号的号重新排队（一次）", tags=TAGS, auth=[STAFF], response=Number, errors=(403, 404, 409))
    async def post(self, principal: Principal, hall_id: str, number_id: str) -> Number:
        return Number(**await self.calling.rejoin(principal, hall_id, number_id))


class DisplayHandler(_Base):
    @operation("大厅叫号屏：最近叫到的号与窗口（姓名脱敏）、各队列等候人数（本厅的显示终端）", tags=TAGS, auth=[KIOSK],
               response=Display, errors=(403,))
    async def get(self, principal: Principal, hall_id: str) -> Display:
        actor = await self.devices.actor(principal, "display")
        return Display(**await self.calling.display(actor, hall_id))


class StatsHandler(_Base):
    @operation("大厅统计：各队列与事项的等候、办理时长，过号，爽约，各窗口办结数（大厅主管）", tags=TAGS, auth=[STAFF],
               query=StatsQuery, response=HallStats, errors=(403, 404))
    async def get(self, principal: Principal, hall_id: str, query: StatsQuery) -> HallStats:
        return HallStats(**await self.calling.stats(principal, hall_id, query.day.isoformat() if query.day else None))


def routes(calling: CallingService, devices: DeviceService) -> list:
    deps = {"calling": calling, "devices": devices}
    base = rf"/api/v1/staff/halls/{HALL}/windows/{WINDOW}"
    return [
        route(base, ConsoleHandler, **deps),
        route(rf"{base}/open", OpenHandler, **deps),
        route(rf"{base}/close", CloseHandler, **deps),
        route(rf"{base}/call-next", CallNextHandler, **deps),
        route(rf"{base}/numbers/{NUMBER}/(?P<action>{'|'.join(sorted(ACTIONS))})", NumberActionHandler, **deps),
        route(rf"{base}/numbers/{NUMBER}/transfer", TransferHandler, **deps),
        route(rf"/api/v1/staff/halls/{HALL}/numbers/{NUMBER}/rejoin", DeskRejoinHandler, **deps),
        route(rf"/api/v1/staff/halls/{HALL}/stats", StatsHandler, **deps),
        route(rf"/api/v1/halls/{HALL}/display", DisplayHandler, **deps),
    ]
