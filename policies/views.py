"""HTTP handlers of 政策兑现: the catalog (public), my matches and claims, confirming a claim,
公示, the department's review, and the bank's signed payout callback."""
from __future__ import annotations

from policies.claims import ClaimService
from policies.models import (ApproveIn, CallbackIn, CallbackOut, ClaimActionIn, ClaimIn, ClaimList, ClaimOut,
                             ClaimsQuery, MatchList, PolicyList, PolicyOut, PolicyQuery, PublicityOut, PublicityQuery,
                             as_claims)
from policies.bank import SIGNATURE_HEADER
from policies.service import PolicyService
from server.errors import InvalidInput
from server.http.base import BaseHandler
from server.http.routing import Header, operation, route
from server.principal import PERSON_CHANNELS, STAFF, Principal

TAGS = ["政策兑现 Policies"]
STAFF_TAGS = ["政策兑现审核 Policy staff"]
CODE = r"(?P<policy_code>[a-z]{2}-[a-z0-9]{2,12}-[0-9]{4})"
CLAIM = r"(?P<claim_id>k[0-9a-f]{24})"


class _Base(BaseHandler):
    def initialize(self, policies: PolicyService, claims: ClaimService) -> None:
        self.policies = policies
        self.claims = claims


class PoliciesHandler(_Base):
    @operation("政策目录（公开）：对象、有效期、待遇、资格条件、兑现方式", tags=TAGS, query=PolicyQuery, response=PolicyList)
    async def get(self, query: PolicyQuery) -> PolicyList:
        return PolicyList(items=[PolicyOut(**p) for p in self.policies.list(query.target)])


class PolicyHandler(_Base):
    @operation("一项政策（公开）", tags=TAGS, response=PolicyOut, errors=(404,))
    async def get(self, policy_code: str) -> PolicyOut:
        p = self.policies.policy(policy_code)
        return PolicyOut(**self.policies.view(p))


class MatchesHandler(_Base):
    @operation("我可享受：按已核验的身份、企业登记信息和卡包证照逐项匹配（企业须以 matters 权限代企业办理）："
               "eligible 符合 | maybe 还须申报 | not_eligible 不符合（列出不满足的条件）",
               tags=TAGS, auth=PERSON_CHANNELS, response=MatchList, errors=(404,), proxy="matters")
    async def get(self, principal: Principal) -> MatchList:
        return MatchList(**await self.policies.matches(principal))


class ClaimsHandler(_Base):
    @operation("确认申领（确认即享 / 免申即享）：填写申报事项与收款银行卡；不符合条件 409（列出不满足的条件）",
               tags=TAGS, auth=PERSON_CHANNELS, min_level=2, body=ClaimIn, response=ClaimOut, status=201,
               errors=(400, 404, 409), proxy="matters")
    async def post(self, principal: Principal, policy_code: str, body: ClaimIn) -> ClaimOut:
        return ClaimOut(**await self.policies.confirm(principal, policy_code, dict(body.form), body.bank_account,
                                                      body.account_name, self.caller(principal.channel)))


class MyClaimsHandler(_Base):
    @operation("我的政策申领与发放进度", tags=TAGS, auth=PERSON_CHANNELS, response=ClaimList, errors=(404,),
               proxy="matters")
    async def get(self, principal: Principal) -> ClaimList:
        return ClaimList(items=[ClaimOut(**c) for c in await self.policies.mine(principal)])


class PublicityHandler(_Base):
    @operation("公示：本期受益名单（姓名脱敏，不含证件号码；政策规定公示的）", tags=TAGS, query=PublicityQuery,
               response=PublicityOut, errors=(404,))
    async def get(self, policy_code: str, query: PublicityQuery) -> PublicityOut:
        return PublicityOut(**await self.policies.publicity(policy_code, query.period))


class StaffClaimsHandler(_Base):
    @operation("本部门的政策申领（按状态、政策筛选）", tags=STAFF_TAGS, auth=[STAFF], query=ClaimsQuery,
               response=ClaimList)
    async def get(self, principal: Principal, query: ClaimsQuery) -> ClaimList:
        return as_claims([self.claims.view(c) for c in await self.claims.queue(principal, query.state, query.policy)])


class StaffApproveHandler(_Base):
    @operation("审核通过（逐项，或本部门全部待审核的），通过的即提交银行代发", tags=STAFF_TAGS, auth=[STAFF],
               body=ApproveIn, response=ClaimList, errors=(404, 409))
    async def post(self, principal: Principal, body: ApproveIn) -> ClaimList:
        return as_claims([self.claims.view(c) for c in await self.claims.approve(principal, body.claim_ids,
                                                                                  body.policy)])


class StaffClaimActionHandler(_Base):
    @operation("reject 驳回（须填理由） | retry 重新发放（发放失败的）", tags=STAFF_TAGS, auth=[STAFF], body=ClaimActionIn,
               response=ClaimOut, errors=(400, 404, 409))
    async def post(self, principal: Principal, claim_id: str, claim_action: str, body: ClaimActionIn) -> ClaimOut:
        if claim_action == "reject":
            if not body.reason:
                raise InvalidInput("请填写驳回理由", code="reason_required")
            return ClaimOut(**self.claims.view(await self.claims.reject(principal, claim_id, body.reason)))
        return ClaimOut(**self.claims.view(await self.claims.retry(principal, claim_id)))


class PayoutCallbackHandler(_Base):
    @operation("银行代发结果回调（HMAC-SHA256 签名，X-Signature）：签名无效 401、未知代发 404，均不作改变；重复回调不重复入账",
               tags=STAFF_TAGS, body=CallbackIn, response=CallbackOut, errors=(400, 401, 404),
               headers={SIGNATURE_HEADER: Header("银行对原始请求体的 HMAC-SHA256 签名（十六进制）", max_length=128)})
    async def post(self, body: CallbackIn) -> CallbackOut:
        return CallbackOut(**await self.claims.callback(self.raw_body(), self.request.headers.get(SIGNATURE_HEADER)))


def routes(policies: PolicyService, claims: ClaimService) -> list:
    deps = {"policies": policies, "claims": claims}
    return [
        route(r"/api/v1/policies", PoliciesHandler, **deps),
        route(r"/api/v1/policies/matches", MatchesHandler, **deps),
        route(rf"/api/v1/policies/{CODE}", PolicyHandler, **deps),
        route(rf"/api/v1/policies/{CODE}/claims", ClaimsHandler, **deps),
        route(rf"/api/v1/policies/{CODE}/publicity", PublicityHandler, **deps),
        route(r"/api/v1/policy-claims", MyClaimsHandler, **deps),
        route(r"/api/v1/staff/policy-claims", StaffClaimsHandler, **deps),
        route(r"/api/v1/staff/policy-claims/approve", StaffApproveHandler, **deps),
        route(rf"/api/v1/staff/policy-claims/{CLAIM}/(?P<claim_action>reject|retry)", StaffClaimActionHandler, **deps),
        route(r"/api/v1/policy-payouts/callback", PayoutCallbackHandler, **deps),
    ]
