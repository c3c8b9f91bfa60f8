"""Dev-only endpoints under /api/v1/dev/ (registered only when dev endpoints are on;
otherwise these paths answer 404 like any unknown path)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from identity.accounts.sms import validate_phone
from server.errors import NotFound
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.providers.sms import DevOutboxSender

if TYPE_CHECKING:
    from superapp.demo import DemoData

TAGS = ["开发 Dev only"]


class OutboxMessage(BaseModel):
    phone: str
    template: str
    params: dict[str, str]
    text: str
    at: int


class OutboxOut(BaseModel):
    items: list[OutboxMessage]


class OutboxQuery(BaseModel):
    phone: str = Field(min_length=11, max_length=11, json_schema_extra={"pattern": r"^1[3-9][0-9]{9}$"})


class DemoResidentOut(BaseModel):
    name: str
    phone: str
    id_number: str
    document: str


class DemoEnterpriseOut(BaseModel):
    uscc: str
    name: str
    legal_representative: str


class DemoStaffOut(BaseModel):
    username: str
    password: str
    name: str
    department_name: str
    roles: list[str]


class DemoDeviceOut(BaseModel):
    device_id: str
    name: str
    location: str


class DemoIssuerOut(BaseModel):
    code: str
    name: str


class DemoOverview(BaseModel):
    residents: list[DemoResidentOut]
    enterprises: list[DemoEnterpriseOut]
    staff: list[DemoStaffOut]
    devices: list[DemoDeviceOut]
    issuers: list[DemoIssuerOut]


class DemoOverviewHandler(BaseHandler):
    def initialize(self, demo: "DemoData | None") -> None:
        self.demo = demo

    @operation("演示数据一览：演示居民、企业、工作人员账号、终端与发证机关（仅开发环境）",
               tags=TAGS, response=DemoOverview, errors=(404,))
    async def get(self) -> DemoOverview:
        demo = self.demo
        if demo is None:
            raise NotFound("演示数据未加载", code="demo_not_loaded")
        return DemoOverview(
            residents=[DemoResidentOut(name=r.name, phone=r.phone, id_number=r.id_number, document=r.document)
                       for r in demo.residents],
            enterprises=[DemoEnterpriseOut(uscc=e.uscc, name=e.name, legal_representative=e.legal_representative.name)
                         for e in demo.enterprises],
            staff=[DemoStaffOut(username=s.username, password=s.password, name=s.name,
                                department_name=s.department_name, roles=s.roles) for s in demo.staff],
            devices=[DemoDeviceOut(device_id=d.device_id, name=d.name, location=d.location) for d in demo.devices],
            issuers=[DemoIssuerOut(code=i.code, name=i.name) for i in demo.issuers],
        )


class SmsOutboxHandler(BaseHandler):
    def initialize(self, outbox: DevOutboxSender | None) -> None:
        self.outbox = outbox

    @operation("开发环境短信发件箱：发给某手机号的短信（含验证码），最新在前（仅开发环境）",
               tags=TAGS, query=OutboxQuery, response=OutboxOut, errors=(404,))
    async def get(self, query: OutboxQuery) -> OutboxOut:
        if self.outbox is None:
            raise NotFound("当前使用真实短信网关，没有开发发件箱", code="no_dev_outbox")
        phone = validate_phone(query.phone)
        return OutboxOut(items=await self.outbox.outbox(phone))


def routes(demo: "DemoData | None", outbox: DevOutboxSender | None) -> list:
    return [
        route(r"/api/v1/dev/demo", DemoOverviewHandler, demo=demo),
        route(r"/api/v1/dev/sms-outbox", SmsOutboxHandler, outbox=outbox),
    ]
