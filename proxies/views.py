"""HTTP handlers of 亲友代办: grants given and received, accepting, changing, revoking, and
claiming guardianship of a minor child. (Switching to act for someone is identity's
``POST /api/v1/auth/act-as {"person_id": …}``.)"""
from __future__ import annotations

from proxies.models import GrantAction, GrantChangeIn, GrantIn, GrantList, GrantOut, GuardianIn
from proxies.service import ProxyService
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import PERSON_CHANNELS, Principal

TAGS = ["亲友代办 Proxies"]
GRANT = r"(?P<grant_id>g[0-9a-f]{24})"


class _Base(BaseHandler):
    def initialize(self, proxies: ProxyService) -> None:
        self.proxies = proxies


class GrantsHandler(_Base):
    @operation("授权亲友代办（L2）：对方实名后接受才生效；可随时修改或撤销", tags=TAGS, auth=PERSON_CHANNELS, min_level=2,
               body=GrantIn, response=GrantOut, status=201, errors=(400, 404, 409))
    async def post(self, principal: Principal, body: GrantIn) -> GrantOut:
        return GrantOut(**await self.proxies.grant(principal, body.model_dump(), self.caller(principal.channel)))

    @operation("我的代办授权：我授权别人的、别人授权我的（含监护的未成年子女）", tags=TAGS, auth=PERSON_CHANNELS,
               response=GrantList)
    async def get(self, principal: Principal) -> GrantList:
        return GrantList(**await self.proxies.mine(principal))


class GrantHandler(_Base):
    @operation("修改代办授权的范围或期限（授权人）", tags=TAGS, auth=PERSON_CHANNELS, body=GrantChangeIn,
               response=GrantOut, errors=(400, 404, 409))
    async def patch(self, principal: Principal, grant_id: str, body: GrantChangeIn) -> GrantOut:
        return GrantOut(**await self.proxies.change(principal, grant_id, body.version, body.scopes, body.expires_on,
                                                     self.caller(principal.channel)))


class GrantActionHandler(_Base):
    @operation("accept 接受 | decline 拒绝（被授权人）；revoke 撤销（授权人立即生效，或被授权人放弃）", tags=TAGS,
               auth=PERSON_CHANNELS, body=GrantAction, response=GrantOut, errors=(404, 409))
    async def post(self, principal: Principal, grant_id: str, action: str, body: GrantAction) -> GrantOut:
        caller = self.caller(principal.channel)
        if action == "revoke":
            return GrantOut(**await self.proxies.revoke(principal, grant_id, body.version, caller))
        return GrantOut(**await self.proxies.respond(principal, grant_id, body.version, action == "accept", caller))


class GuardianHandler(_Base):
    @operation("登记为未成年子女的监护人：卡包中须有列明本人为父母的子女出生医学证明；至子女年满 18 周岁自动结束",
               tags=TAGS, auth=PERSON_CHANNELS, min_level=2, body=GuardianIn, response=GrantOut, status=201,
               errors=(400, 409))
    async def post(self, principal: Principal, body: GuardianIn) -> GrantOut:
        return GrantOut(**await self.proxies.claim_guardian(principal, body.child_name, body.child_id_number,
                                                             self.caller(principal.channel)))


def routes(proxies: ProxyService) -> list:
    deps = {"proxies": proxies}
    return [
        route(r"/api/v1/me/proxies", GrantsHandler, **deps),
        route(r"/api/v1/me/proxies/guardianship", GuardianHandler, **deps),
        route(rf"/api/v1/me/proxies/{GRANT}", GrantHandler, **deps),
        route(rf"/api/v1/me/proxies/{GRANT}/(?P<action>accept|decline|revoke)", GrantActionHandler, **deps),
    ]
