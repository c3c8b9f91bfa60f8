"""HTTP handlers of closing an account (注销账号)."""
from __future__ import annotations

from identity.closure.models import ClosurePreview, ClosureSmsOut
from identity.closure.service import AccountClosure
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import PERSON_CHANNELS, Principal

TAGS = ["我的 Me"]


class _Base(BaseHandler):
    def initialize(self, closure: AccountClosure) -> None:
        self.closure = closure


class ClosureHandler(_Base):
    @operation("注销前查看：须先了结的事项、将删除与依法保留的信息、可用的重新验证方式", tags=TAGS,
               auth=PERSON_CHANNELS, response=ClosurePreview)
    async def get(self, principal: Principal) -> ClosurePreview:
        return await self.closure.preview(principal)


class ClosureSmsHandler(_Base):
    @operation("注销前重新验证：向本账户手机号发送验证码", tags=TAGS, auth=PERSON_CHANNELS, response=ClosureSmsOut,
               status=202, errors=(409, 429, 503))
    async def post(self, principal: Principal) -> ClosureSmsOut:
        phone, ttl = await self.closure.send_sms(principal, self.caller(principal.channel))
        return ClosureSmsOut(sent=True, phone=phone, expires_in=ttl, resend_after=self.closure.resend_interval)


def routes(closure: AccountClosure) -> list:
    deps = {"closure": closure}
    return [
        route(r"/api/v1/me/closure", ClosureHandler, **deps),
        route(r"/api/v1/me/closure/sms", ClosureSmsHandler, **deps),
    ]

