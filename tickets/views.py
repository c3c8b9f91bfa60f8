"""HTTP handlers of 12345 for residents, enterprise agents, kiosks and anonymous reporters."""
from __future__ import annotations

from identity.devices.service import DeviceService
from server.http.base import BaseHandler
from server.http.routing import IDEMPOTENCY_KEY, operation, route
from server.principal import KIOSK, PERSON_CHANNELS, Principal
from tickets.models import (
    CallbackIn,
    CatalogOut,
    KioskTicketIn,
    KnowledgeOut,
    KnowledgeQuery,
    LookupIn,
    ResolveIn,
    Ticket,
    TicketCreated,
    TicketIn,
    TicketList,
)
from tickets.service import TicketService

TAGS = ["12345 接诉即办"]
TICKET_ID = r"(?P<ticket_id>t[0-9a-f]{24})"


class _Base(BaseHandler):
    def initialize(self, tickets: TicketService, devices: DeviceService | None = None) -> None:
        self.tickets = tickets
        self.devices = devices

    def created(self, answer: dict, created: bool) -> None:
        """201 for a new ticket; 200 when a retry with the same key gets the first answer."""
        self.send_json(TicketCreated(**answer), 201 if created else 200)


class CatalogHandler(_Base):
    @operation("诉求种类、分类与办理时限", tags=TAGS, response=CatalogOut)
    async def get(self) -> CatalogOut:
        return CatalogOut(**self.tickets.catalog_out())


class KnowledgeHandler(_Base):
    @operation("知识库检索（中文全文）：提交咨询前先看看有没有现成答复", tags=TAGS, query=KnowledgeQuery,
               response=KnowledgeOut)
    async def get(self, query: KnowledgeQuery) -> KnowledgeOut:
        return KnowledgeOut(items=self.tickets.knowledge(query.q, query.category))


class TicketsHandler(_Base):
    @operation("提交诉求（咨询、求助、投诉、举报、建议）：L1 以上；代表企业时为企业诉求；举报可不登录匿名提交，"
               "得到一次性查询码", tags=TAGS, body=TicketIn, response=TicketCreated, status=201,
               errors=(400, 401, 403, 404, 409, 422, 429), headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    async def post(self, body: TicketIn) -> None:
        principal = await self.authenticate(PERSON_CHANNELS, proxy="tickets") if self.bearer_token() else None
        channel = principal.channel if principal else "h5"
        answer, created = await self.tickets.submit(principal, body.model_dump(), self.idempotency_key(),
                                                    self.caller(channel))
        self.created(answer, created)

    @operation("我的诉求（代表企业时为企业的诉求）", tags=TAGS, auth=PERSON_CHANNELS, proxy="tickets", response=TicketList)
    async def get(self, principal: Principal) -> TicketList:
        return TicketList(items=[Ticket(**t) for t in await self.tickets.mine(principal)])


class TicketHandler(_Base):
    @operation("诉求详情与办理进度（本人的）", tags=TAGS, auth=PERSON_CHANNELS, proxy="tickets", response=Ticket, errors=(404,))
    async def get(self, principal: Principal, ticket_id: str) -> Ticket:
        return Ticket(**await self.tickets.get_mine(principal, ticket_id))


class ResolveHandler(_Base):
    @operation("咨询：知识库的答复解决了问题（按直接答复办结）", tags=TAGS, auth=PERSON_CHANNELS, proxy="tickets", body=ResolveIn,
               response=Ticket, errors=(400, 404, 409))
    async def post(self, principal: Principal, ticket_id: str, body: ResolveIn) -> Ticket:
        return Ticket(**await self.tickets.resolve(principal, ticket_id, body.version, body.answer_id))


class CallbackHandler(_Base):
    @operation("回访评价：满意 / 基本满意即办结；不满意重办一次", tags=TAGS, auth=PERSON_CHANNELS, proxy="tickets", body=CallbackIn,
               response=Ticket, errors=(404, 409))
    async def post(self, principal: Principal, ticket_id: str, body: CallbackIn) -> Ticket:
        return Ticket(**await self.tickets.callback(principal, ticket_id, body.version, body.result, body.comment))


class LookupHandler(_Base):
    @operation("匿名举报查询：编号 + 一次性查询码（猜测次数受限）", tags=TAGS, body=LookupIn, errors=(404, 429))
    async def post(self, body: LookupIn) -> dict:
        return await self.tickets.lookup(body.number, body.query_code, self.client_ip)


class KioskTicketsHandler(_Base):
    @operation("自助终端：为扫码的持码人提交诉求", tags=TAGS, auth=[KIOSK], body=KioskTicketIn, response=TicketCreated,
               status=201, errors=(400, 403, 404, 409, 422, 429), headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    async def post(self, principal: Principal, body: KioskTicketIn) -> None:
        actor = await self.devices.actor(principal, "ticket")
        holder = await self.tickets.for_kiosk(actor, body.scan_id)
        data = body.model_dump(exclude={"scan_id"}) | {"attachments": []}
        answer, created = await self.tickets.submit(principal, data, self.idempotency_key(), self.caller(KIOSK),
                                                    holder=holder, via={"type": "device", "id": actor.id,
                                                                        "name": actor.name})
        self.created(answer, created)


def routes(tickets: TicketService, devices: DeviceService) -> list:
    deps = {"tickets": tickets}
    return [
        route(r"/api/v1/tickets/catalog", CatalogHandler, **deps),
        route(r"/api/v1/tickets/knowledge", KnowledgeHandler, **deps),
        route(r"/api/v1/tickets/lookup", LookupHandler, **deps),
        route(r"/api/v1/tickets", TicketsHandler, **deps),
        route(rf"/api/v1/tickets/{TICKET_ID}", TicketHandler, **deps),
        route(rf"/api/v1/tickets/{TICKET_ID}/resolve", ResolveHandler, **deps),
        route(rf"/api/v1/tickets/{TICKET_ID}/callback", CallbackHandler, **deps),
        route(r"/api/v1/kiosk/tickets", KioskTicketsHandler, tickets=tickets, devices=devices),
    ]
