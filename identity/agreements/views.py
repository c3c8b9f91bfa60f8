"""HTTP handler of the agreements shown on the login screen."""
from __future__ import annotations

from identity.agreements.models import AgreementsOut
from identity.agreements.service import Agreements
from server.http.base import BaseHandler
from server.http.routing import operation, route


class AgreementsHandler(BaseHandler):
    def initialize(self, agreements: Agreements) -> None:
        self.agreements = agreements

    @operation("用户协议与隐私政策（当前版本；发送登录验证码时须同意）", tags=["身份认证 Identity"],
               response=AgreementsOut)
    async def get(self) -> AgreementsOut:
        return AgreementsOut(items=self.agreements.documents())


def routes(agreements: Agreements) -> list:
    return [route(r"/api/v1/agreements", AgreementsHandler, agreements=agreements)]
