"""Open311 GeoReport v2 (``/open311/v2/…``), JSON and XML as the specification says, so
existing 311 clients can file and follow tickets; partner keys are registered by the
platform admin (``/api/v1/admin/open311/partners``). Errors are this API's problem+json."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from pydantic import ValidationError

from server.http import problem
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import STAFF, Principal
from tickets.open311.models import DiscoveryQuery, PartnerIn, PartnerList, PartnerOut, PostRequestIn, RequestsQuery
from tickets.open311.service import Open311

TAGS = ["Open311 GeoReport v2"]
FMT = r"\.(?P<fmt>json|xml)"
ROOTS = {"services": "service", "service_requests": "request", "endpoints": "endpoint"}


def to_xml(root: str, value: Any) -> bytes:
    """The specification's XML: a list becomes repeated elements named for its parent."""
    def build(key: str, v: Any) -> str:
        if isinstance(v, list):
            return f"<{key}>" + "".join(build(ROOTS.get(key, key.rstrip("s")), item) for item in v) + f"</{key}>"
        if isinstance(v, dict):
            return f"<{key}>" + "".join(build(k, item) for k, item in v.items()) + f"</{key}>"
        text = "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
        return f"<{key}>{escape(text)}</{key}>"

    items = value if isinstance(value, list) else list(value.items())
    body = "".join(build(ROOTS.get(root, root), item) if isinstance(value, list) else build(*item) for item in items)
    return f'<?xml version="1.0" encoding="utf-8"?><{root}>{body}</{root}>'.encode()


class _Base(BaseHandler):
    def initialize(self, open311: Open311) -> None:
        self.open311 = open311

    def reply(self, fmt: str, root: str, value: Any, status: int = 200) -> None:
        if fmt == "json":
            self.send_json(value, status)
            return
        self.set_status(status)
        self.set_header("Content-Type", "text/xml; charset=UTF-8")
        self.finish(to_xml(root, value))


class DiscoveryHandler(_Base):
    @operation("Open311 发现文档", tags=TAGS, query=DiscoveryQuery)
    async def get(self, fmt: str, query: DiscoveryQuery) -> None:
        self.reply(fmt, "discovery", self.open311.discovery())


class ServicesHandler(_Base):
    @operation("Open311 服务列表（即诉求分类）", tags=TAGS, query=DiscoveryQuery)
    async def get(self, fmt: str, query: DiscoveryQuery) -> None:
        self.reply(fmt, "services", self.open311.services())


class ServiceHandler(_Base):
    @operation("Open311 服务定义", tags=TAGS, query=DiscoveryQuery, errors=(404,))
    async def get(self, code: str, fmt: str, query: DiscoveryQuery) -> None:
        self.reply(fmt, "service_definition", self.open311.service(code))


class RequestsHandler(_Base):
    @operation("Open311 服务请求列表（合作方提交的；默认最近 90 天）", tags=TAGS, query=RequestsQuery, errors=(400,))
    async def get(self, fmt: str, query: RequestsQuery) -> None:
        self.reply(fmt, "service_requests", await self.open311.requests(query.model_dump()))

    @operation("Open311 提交服务请求（application/x-www-form-urlencoded：api_key, service_code, lat/long 或 "
               "address_string, description, 联系人字段）", tags=TAGS, status=201, errors=(400, 403, 429))
    async def post(self, fmt: str) -> None:
        form = {k: v[-1] for k, v in parse_qs(self.raw_body().decode("utf-8", "replace")).items()}
        await self.open311.partner(form.get("api_key", ""))  # 403 before anything else
        try:
            body = PostRequestIn.model_validate({k: v for k, v in form.items() if v != ""})
        except ValidationError as e:
            raise problem.invalid_input_from(e) from None
        self.reply(fmt, "service_requests", await self.open311.create(body.model_dump(), self.client_ip), 201)


class RequestHandler(_Base):
    @operation("Open311 单个服务请求", tags=TAGS, query=DiscoveryQuery, errors=(404,))
    async def get(self, request_id: str, fmt: str, query: DiscoveryQuery) -> None:
        self.reply(fmt, "service_requests", await self.open311.request(request_id))


class TokenHandler(_Base):
    @operation("Open311 令牌换取服务请求编号", tags=TAGS, query=DiscoveryQuery, errors=(404,))
    async def get(self, ticket_token: str, fmt: str, query: DiscoveryQuery) -> None:
        self.reply(fmt, "service_requests", await self.open311.token(ticket_token))


class PartnersHandler(_Base):
    @operation("登记 Open311 合作方（平台管理员；api_key 只显示一次）", tags=TAGS, auth=[STAFF], body=PartnerIn,
               response=PartnerOut, status=201, errors=(403,))
    async def post(self, principal: Principal, body: PartnerIn) -> PartnerOut:
        return PartnerOut(**await self.open311.register(principal, body.name))

    @operation("Open311 合作方列表（平台管理员）", tags=TAGS, auth=[STAFF], response=PartnerList, errors=(403,))
    async def get(self, principal: Principal) -> PartnerList:
        return PartnerList(items=[PartnerOut(**p) for p in await self.open311.partners(principal)])


def routes(open311: Open311) -> list:
    deps = {"open311": open311}
    return [
        route(rf"/open311/v2/discovery{FMT}", DiscoveryHandler, **deps),
        route(rf"/open311/v2/services{FMT}", ServicesHandler, **deps),
        route(rf"/open311/v2/services/(?P<code>[A-Za-z0-9_-]{{1,40}}){FMT}", ServiceHandler, **deps),
        route(rf"/open311/v2/requests{FMT}", RequestsHandler, **deps),
        route(rf"/open311/v2/requests/(?P<request_id>12345-[0-9]{{8}}-[0-9]{{6}}){FMT}", RequestHandler, **deps),
        route(rf"/open311/v2/tokens/(?P<ticket_token>t[0-9a-f]{{24}}){FMT}", TokenHandler, **deps),
        route(r"/api/v1/admin/open311/partners", PartnersHandler, **deps),
    ]
