"""HTTP handlers of enterprises, their agents, and acting for an enterprise."""
from __future__ import annotations

from identity.accounts.models import ActivityQuery
from identity.enterprises.models import (
    ActAsIn,
    ActAsOut,
    ActingNow,
    ActingOut,
    ActingPersonOut,
    AgentInviteIn,
    AgentList,
    AgentOut,
    AgentPatchIn,
    EnterpriseActivityOut,
    EnterpriseBindIn,
    EnterpriseList,
    EnterpriseOut,
    InvitationList,
)
from identity.enterprises.service import EnterpriseService
from identity.proxying import PersonActing
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import ANY_PROXY_SCOPE, PERSON_CHANNELS, Principal

TAGS = ["企业 Enterprises"]
ID = r"(?P<enterprise_id>e[0-9a-f]{24})"
AGENT = r"(?P<agent_id>g[0-9a-f]{24})"


class _Base(BaseHandler):
    def initialize(self, enterprises: EnterpriseService, persons: PersonActing) -> None:
        self.enterprises = enterprises
        self.persons = persons


class EnterprisesHandler(_Base):
    @operation("绑定企业：法定代表人（L2）以统一社会信用代码绑定，成为企业管理员", tags=TAGS, auth=PERSON_CHANNELS,
               min_level=2, body=EnterpriseBindIn, response=EnterpriseOut, status=201, errors=(409, 422, 503))
    async def post(self, principal: Principal, body: EnterpriseBindIn) -> EnterpriseOut:
        return await self.enterprises.bind(principal, body.uscc, body.name, self.caller(principal.channel))

    @operation("我管理或获授权的企业", tags=TAGS, auth=PERSON_CHANNELS, response=EnterpriseList)
    async def get(self, principal: Principal) -> EnterpriseList:
        return EnterpriseList(items=await self.enterprises.mine(principal))


class EnterpriseHandler(_Base):
    @operation("企业信息（管理员或经办人可见）", tags=TAGS, auth=PERSON_CHANNELS, response=EnterpriseOut,
               errors=(404,))
    async def get(self, principal: Principal, enterprise_id: str) -> EnterpriseOut:
        return await self.enterprises.get(principal, enterprise_id)


class AgentsHandler(_Base):
    @operation("授权经办人：按手机号或账户邀请，指定授权范围与截止时间（需“授权管理”权限）", tags=TAGS,
               auth=PERSON_CHANNELS, body=AgentInviteIn, response=AgentOut, status=201, errors=(404, 409, 422))
    async def post(self, principal: Principal, enterprise_id: str, body: AgentInviteIn) -> AgentOut:
        return await self.enterprises.invite(principal, enterprise_id, body.phone, body.person_id, body.scopes,
                                                 body.expires_at, self.caller(principal.channel))

    @operation("经办人列表", tags=TAGS, auth=PERSON_CHANNELS, response=AgentList, errors=(404,))
    async def get(self, principal: Principal, enterprise_id: str) -> AgentList:
        return AgentList(items=await self.enterprises.list_agents(principal, enterprise_id))


class AgentHandler(_Base):
    @operation("修改经办人的授权范围或截止时间", tags=TAGS, auth=PERSON_CHANNELS, body=AgentPatchIn,
               response=AgentOut, errors=(404, 409))
    async def patch(self, principal: Principal, enterprise_id: str, agent_id: str, body: AgentPatchIn) -> AgentOut:
        return await self.enterprises.change_agent(principal, enterprise_id, agent_id, body.scopes,
                                                       body.expires_at, self.caller(principal.channel))


class AgentRevokeHandler(_Base):
    @operation("撤销授权（立即生效，已签发的企业身份令牌随即失效）", tags=TAGS, auth=PERSON_CHANNELS,
               response=AgentOut, errors=(404, 409))
    async def post(self, principal: Principal, enterprise_id: str, agent_id: str) -> AgentOut:
        return await self.enterprises.revoke_agent(principal, enterprise_id, agent_id,
                                                       self.caller(principal.channel))


class EnterpriseActivityHandler(_Base):
    @operation("企业操作日志：谁为企业做了什么（仅管理员）", tags=TAGS, auth=PERSON_CHANNELS, query=ActivityQuery,
               response=EnterpriseActivityOut, errors=(404,))
    async def get(self, principal: Principal, enterprise_id: str, query: ActivityQuery) -> EnterpriseActivityOut:
        return await self.enterprises.activity(principal, enterprise_id, query.limit, query.before)


class InvitationsHandler(_Base):
    @operation("我收到的企业授权邀请", tags=TAGS, auth=PERSON_CHANNELS, response=InvitationList)
    async def get(self, principal: Principal) -> InvitationList:
        return InvitationList(items=await self.enterprises.invitations(principal))


class InvitationAcceptHandler(_Base):
    @operation("接受企业授权邀请（需 L2）", tags=TAGS, auth=PERSON_CHANNELS, response=AgentOut, errors=(404, 409))
    async def post(self, principal: Principal, agent_id: str) -> AgentOut:
        return await self.enterprises.respond(principal, agent_id, True, self.caller(principal.channel))


class InvitationDeclineHandler(_Base):
    @operation("拒绝企业授权邀请", tags=TAGS, auth=PERSON_CHANNELS, response=AgentOut, errors=(404, 409))
    async def post(self, principal: Principal, agent_id: str) -> AgentOut:
        return await self.enterprises.respond(principal, agent_id, False, self.caller(principal.channel))


class ActAsHandler(_Base):
    @operation("切换身份：代表企业办事（令牌带 act 与 scp）、为亲友代办（person_id，须有对方的有效授权），"
               "或都为空回到本人身份", tags=TAGS, auth=PERSON_CHANNELS, body=ActAsIn, response=ActAsOut,
               proxy=ANY_PROXY_SCOPE)
    async def post(self, principal: Principal, body: ActAsIn) -> ActAsOut:
        caller = self.caller(principal.channel)
        if body.person_id is not None:
            token, person = await self.persons.act_as(principal, body.person_id, caller)
            return ActAsOut(access_token=token, expires_in=self.enterprises.token_ttl, acting=None,
                            acting_person=ActingPersonOut(**person))
        own = principal.proxy.own if principal.proxy else principal  # a proxy switches back to themself
        token, acting = await self.enterprises.act_as(own, body.enterprise_id, caller)
        return ActAsOut(access_token=token, expires_in=self.enterprises.token_ttl, acting=acting)


class ActingNowHandler(_Base):
    @operation("当前身份：代表的企业或代办的亲友（按授权实时校验）", tags=TAGS, auth=PERSON_CHANNELS,
               response=ActingNow, proxy=ANY_PROXY_SCOPE)
    async def get(self, principal: Principal) -> ActingNow:
        person = await self.persons.current(principal)
        enterprise = await self.enterprises.current(principal) if principal.acting else None
        return ActingNow(enterprise=enterprise, person=ActingPersonOut(**person) if person else None)


class CurrentActingHandler(_Base):
    @operation("当前代表的企业与授权范围（按当前授权实时校验）", tags=TAGS, auth=PERSON_CHANNELS, response=ActingOut)
    async def get(self, principal: Principal) -> ActingOut:
        return await self.enterprises.current(principal)


def routes(enterprises: EnterpriseService, persons: PersonActing) -> list:
    deps = {"enterprises": enterprises, "persons": persons}
    return [
        route(r"/api/v1/enterprises", EnterprisesHandler, **deps),
        route(r"/api/v1/enterprises/current", CurrentActingHandler, **deps),
        route(rf"/api/v1/enterprises/{ID}", EnterpriseHandler, **deps),
        route(rf"/api/v1/enterprises/{ID}/agents", AgentsHandler, **deps),
        route(rf"/api/v1/enterprises/{ID}/agents/{AGENT}", AgentHandler, **deps),
        route(rf"/api/v1/enterprises/{ID}/agents/{AGENT}/revoke", AgentRevokeHandler, **deps),
        route(rf"/api/v1/enterprises/{ID}/activity", EnterpriseActivityHandler, **deps),
        route(r"/api/v1/me/invitations", InvitationsHandler, **deps),
        route(rf"/api/v1/me/invitations/{AGENT}/accept", InvitationAcceptHandler, **deps),
        route(rf"/api/v1/me/invitations/{AGENT}/decline", InvitationDeclineHandler, **deps),
        route(r"/api/v1/auth/act-as", ActAsHandler, **deps),
        route(r"/api/v1/auth/acting", ActingNowHandler, **deps),
    ]
