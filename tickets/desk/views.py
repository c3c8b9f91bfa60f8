"""HTTP handlers of the 12345 desk: the centre's and the departments' queues, a ticket with
its reporter (masked unless revealed, and then logged), the lifecycle actions, attachments
and statistics."""
from __future__ import annotations

from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import STAFF, Principal
from tickets.desk.service import TicketDesk
from tickets.desk.models import DeskActionIn, DeskQuery, StaffTicket, StaffTicketList, StatsOut
from tickets.views import TAGS, TICKET_ID

DESK = [*TAGS, "12345 工作台"]
ACTIONS = "accept|reject|merge|dispatch|return|sign|extend|decide-extension|answer|callback|archive"


class _Base(BaseHandler):
    def initialize(self, desk: TicketDesk) -> None:
        self.desk = desk


class DeskQueueHandler(_Base):
    @operation("诉求工作台队列：中心（new 待受理、returned 退单、overdue 超期督办、reopened 重办、extensions 延期审批、"
               "all）；部门（本部门承办的）", tags=DESK, auth=[STAFF], query=DeskQuery, response=StaffTicketList,
               errors=(403,))
    async def get(self, principal: Principal, query: DeskQuery) -> StaffTicketList:
        return StaffTicketList(items=[StaffTicket(**t) for t in await self.desk.queue(principal, query.view)])


class DeskTicketHandler(_Base):
    @operation("诉求详情（诉求人默认脱敏；reveal_contact=true 显示联系方式并记入诉求人的账户动态）", tags=DESK,
               auth=[STAFF], query=DeskQuery, response=StaffTicket, errors=(403, 404))
    async def get(self, principal: Principal, ticket_id: str, query: DeskQuery) -> StaffTicket:
        return StaffTicket(**await self.desk.get(principal, ticket_id, query.reveal_contact))


class DeskActionHandler(_Base):
    @operation("办理：accept 受理 | reject 不予受理 | merge 合并 | dispatch 派单 | return 退单 | sign 签收 | "
               "extend 申请延期 | decide-extension 延期审批 | answer 答复 | callback 电话回访 | archive 归档",
               tags=DESK, auth=[STAFF], body=DeskActionIn, response=StaffTicket, errors=(400, 403, 404, 409))
    async def post(self, principal: Principal, ticket_id: str, action: str, body: DeskActionIn) -> StaffTicket:
        return StaffTicket(**await self.desk.act(principal, ticket_id, action, body.model_dump()))


class DeskAttachmentHandler(_Base):
    @operation("诉求附件（承办部门与中心可看）", tags=DESK, auth=[STAFF], content_type="application/octet-stream",
               errors=(403, 404))
    async def get(self, principal: Principal, ticket_id: str, upload_id: str) -> None:
        doc, data = await self.desk.attachment(principal, ticket_id, upload_id)
        self.set_header("Content-Type", doc["content_type"])
        self.set_header("Content-Disposition", "inline")
        self.finish(data)


class DeskStatsHandler(_Base):
    @operation("统计（近 30 天）：按种类、分类、部门、区域；按时办结率、满意率、企业诉求占比；近 7 天热点", tags=DESK,
               auth=[STAFF], response=StatsOut, errors=(403,))
    async def get(self, principal: Principal) -> StatsOut:
        return StatsOut(**await self.desk.stats(principal))


def routes(desk: TicketDesk) -> list:
    deps = {"desk": desk}
    return [
        route(r"/api/v1/staff/tickets", DeskQueueHandler, **deps),
        route(r"/api/v1/staff/tickets/stats", DeskStatsHandler, **deps),
        route(rf"/api/v1/staff/tickets/{TICKET_ID}", DeskTicketHandler, **deps),
        route(rf"/api/v1/staff/tickets/{TICKET_ID}/(?P<action>{ACTIONS})", DeskActionHandler, **deps),
        route(rf"/api/v1/staff/tickets/{TICKET_ID}/attachments/(?P<upload_id>f[0-9a-f]{{24}})", DeskAttachmentHandler,
              **deps),
    ]
