"""HTTP handlers of the department's staff console: queue, detail, actions, statistics."""
from __future__ import annotations

from matters.applying.models import Application, ApplicationList
from matters.applying.views import APP_ID
from matters.reviewing.models import (
    MatterStats,
    QueueQuery,
    StaffActionIn,
    StaffApplication,
    StatsOut,
)
from matters.reviewing.service import ReviewService
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import STAFF, Principal

STAFF_TAGS = ["审批 Staff console"]


class _Base(BaseHandler):
    def initialize(self, reviewing: ReviewService) -> None:
        self.reviewing = reviewing


class QueueHandler(_Base):
    @operation("本部门待办队列（按状态、是否逾期、事项筛选）", tags=STAFF_TAGS, auth=[STAFF], query=QueueQuery,
               response=ApplicationList)
    async def get(self, principal: Principal, query: QueueQuery) -> ApplicationList:
        apps = await self.reviewing.queue(principal, query.state, query.overdue, query.matter)
        return ApplicationList(items=[Application(**a) for a in apps])


class StaffApplicationHandler(_Base):
    @operation("申请详情（含材料与证照核验结果），仅本部门", tags=STAFF_TAGS, auth=[STAFF], response=StaffApplication,
               errors=(404,))
    async def get(self, principal: Principal, app_id: str) -> StaffApplication:
        return StaffApplication(**await self.reviewing.get(principal, app_id))


class StaffActionHandler(_Base):
    @operation("审批操作：accept 受理 | reject 不予受理 | request-supplement 补正 | approve 批准 | deny 不予批准 | "
               "complete 办结", tags=STAFF_TAGS, auth=[STAFF], body=StaffActionIn, response=Application,
               errors=(403, 404, 409))
    async def post(self, principal: Principal, app_id: str, action: str, body: StaffActionIn) -> Application:
        return Application(**await self.reviewing.act(principal, app_id, action, body.version,
                                                      body.comment, body.items, body.reason))


class StatsHandler(_Base):
    @operation("科室统计：各事项数量、按时办结率、平均办理工作日（主管）", tags=STAFF_TAGS, auth=[STAFF],
               response=StatsOut, errors=(403,))
    async def get(self, principal: Principal) -> StatsOut:
        return StatsOut(items=[MatterStats(**s) for s in await self.reviewing.stats(principal)])



def routes(reviewing: ReviewService) -> list:
    deps = {"reviewing": reviewing}
    return [
        route(r"/api/v1/staff/queue", QueueHandler, **deps),
        route(r"/api/v1/staff/stats", StatsHandler, **deps),
        route(rf"/api/v1/staff/applications/{APP_ID}", StaffApplicationHandler, **deps),
        route(rf"/api/v1/staff/applications/{APP_ID}/(?P<action>accept|reject|request-supplement|approve|deny|complete)",
              StaffActionHandler, **deps),
    ]
