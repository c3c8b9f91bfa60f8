"""HTTP handlers of the hall map."""
from __future__ import annotations

from halls.models import HallDetail, HallList, HallsQuery
from halls.service import HallService
from server.http.base import BaseHandler
from server.http.routing import operation, route

TAGS = ["服务大厅 Halls"]
HALL = r"(?P<hall_id>[a-z0-9-]{3,40})"


class _Base(BaseHandler):
    def initialize(self, halls: HallService) -> None:
        self.halls = halls


class HallsHandler(_Base):
    @operation("政务服务地图：附近的大厅（按距离）、能办某事项的大厅、某区的大厅", tags=TAGS, query=HallsQuery,
               response=HallList)
    async def get(self, query: HallsQuery) -> HallList:
        near = tuple(float(x) for x in query.near.split(",")) if query.near else None
        return HallList(items=await self.halls.list(near, query.matter, query.region))  # type: ignore[arg-type]


class HallHandler(_Base):
    @operation("大厅详情：今天的开放时间、窗口、各事项此刻的排队人数与预计等候", tags=TAGS, response=HallDetail, errors=(404,))
    async def get(self, hall_id: str) -> HallDetail:
        return HallDetail(**await self.halls.detail(hall_id))


def routes(halls: HallService) -> list:
    deps = {"halls": halls}
    return [
        route(r"/api/v1/halls", HallsHandler, **deps),
        route(rf"/api/v1/halls/{HALL}", HallHandler, **deps),
    ]
