"""HTTP handlers of the official account's web authorisation: the address to send the
browser to, and WeChat's code back (the H5 inside WeChat's browser, before paying)."""
from __future__ import annotations

from identity.wechat_web.models import AuthorizeIn, AuthorizeOut, BindIn, BindOut
from identity.wechat_web.service import WebAuthorization
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import ANY_PROXY_SCOPE, PERSON_CHANNELS, Principal

TAGS = ["缴费 Payments"]


class _Base(BaseHandler):
    def initialize(self, web: WebAuthorization) -> None:
        self.web = web


class AuthorizeHandler(_Base):
    @operation("微信内的 H5 缴费前：公众号网页授权（snsapi_base，静默）的地址；授权后微信带 code 与 state 回到 "
               "/wechat/authorized。未配置公众号时 409 wechat_oa_unavailable（请在小程序中缴费）",
               tags=TAGS, auth=PERSON_CHANNELS, body=AuthorizeIn, response=AuthorizeOut, errors=(409, 429),
               proxy=ANY_PROXY_SCOPE)
    async def post(self, principal: Principal, body: AuthorizeIn) -> AuthorizeOut:
        url, ttl = await self.web.authorize(principal, body.return_path)
        return AuthorizeOut(authorize_url=url, expires_in=ttl)


class PayerHandler(_Base):
    @operation("微信授权回来：以 code 换取本人在公众号下的 openid，记为付款的微信（代办时记在代办人本人账户）；"
               "state 须为本人发起、成功后即失效（否则 400 wechat_oauth_state_invalid），返回要回到的页面",
               tags=TAGS, auth=PERSON_CHANNELS, body=BindIn, response=BindOut, errors=(400, 409, 429, 503),
               proxy=ANY_PROXY_SCOPE)
    async def post(self, principal: Principal, body: BindIn) -> BindOut:
        back = await self.web.bind(principal, body.code, body.state, self.caller(principal.channel))
        return BindOut(return_path=back)


def routes(web: WebAuthorization) -> list:
    deps = {"web": web}
    return [
        route(r"/api/v1/me/wechat-payer/authorize", AuthorizeHandler, **deps),
        route(r"/api/v1/me/wechat-payer", PayerHandler, **deps),
    ]
