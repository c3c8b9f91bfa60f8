"""Dev-only endpoints under /api/v1/dev/ (registered only when dev endpoints are on;
otherwise these paths answer 404 like any unknown path)."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from identity.phones import PATTERN as PHONE_PATTERN
from identity.phones import normalize as normalize_phone
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
    region: str = Field("mainland", description="mainland、hmt（港澳台，繁体）或 international（英文）")
    sign: str | None = Field(None, description="短信签名（非默认签名时）")


class OutboxOut(BaseModel):
    items: list[OutboxMessage]


class OutboxQuery(BaseModel):
    phone: str = Field(min_length=8, max_length=16, json_schema_extra={"pattern": PHONE_PATTERN},
                       description="中国大陆 11 位，或 E.164（+852…；在地址中写作 %2B852…）")


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
        raw = query.phone
        if raw.startswith(" ") and raw.strip().isdigit():
            raw = "+" + raw.strip()  # ?phone=+852… unencoded: the + arrived as a space
        return OutboxOut(items=await self.outbox.outbox(normalize_phone(raw)))


class FacePageQuery(BaseModel):
    ticket: str = Field(min_length=10, max_length=200, pattern=r"^devface\.[0-9]+\.[A-Za-z0-9_=-]+$")
    return_url: str = Field(min_length=1, max_length=200, pattern=r"^/[^/\\]", description="回到本应用的路径")


class FacePageHandler(BaseHandler):
    """Stands in for the verification provider's face page in development: a browser is
    sent here, "passes" (or fails) and is sent back with the provider's signed result."""

    content_security_policy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"

    @operation("开发环境：模拟人脸核验页（代替核验服务商的 H5 页面；仅开发环境）", tags=TAGS, query=FacePageQuery,
               content_type="text/html")
    async def get(self, query: FacePageQuery) -> None:
        sep = "&" if "?" in query.return_url else "?"
        ok = html.escape(f"{query.return_url}{sep}{urlencode({'face_result': query.ticket})}")
        fail = html.escape(f"{query.return_url}{sep}{urlencode({'face_result': 'fail'})}")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(f"""<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>人脸核验（开发环境模拟）</title>
<main style="font-family:sans-serif;max-width:480px;margin:40px auto;padding:0 16px;line-height:1.6">
<h1 style="font-size:22px">人脸核验（开发环境模拟）</h1>
<p>真实环境中，这里是核验服务商的刷脸页面：请正对屏幕，按提示眨眼、张嘴。</p>
<p><a data-test="face-pass" href="{ok}" style="display:block;padding:14px;background:#0f5fc2;color:#fff;
text-align:center;border-radius:8px;text-decoration:none">模拟核验通过</a></p>
<p><a data-test="face-fail" href="{fail}" style="display:block;padding:14px;border:1px solid #c8102e;color:#c8102e;
text-align:center;border-radius:8px;text-decoration:none">模拟核验不通过</a></p></main></html>""")


def routes(demo: "DemoData | None", outbox: DevOutboxSender | None) -> list:
    return [
        route(r"/api/v1/dev/demo", DemoOverviewHandler, demo=demo),
        route(r"/api/v1/dev/sms-outbox", SmsOutboxHandler, outbox=outbox),
        route(r"/api/v1/dev/face", FacePageHandler),
    ]
