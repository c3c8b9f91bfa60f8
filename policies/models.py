"""Request and response models of 政策兑现."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from server.models import Input, Line

POLICY_CODE = r"^[a-z]{2}-[a-z0-9]{2,12}-[0-9]{4}$"


class DeclaredFact(BaseModel):
    name: str
    label: str
    type: Literal["boolean", "integer", "string"]


class PolicyOut(BaseModel):
    code: str
    title: str
    kind: str
    department: str
    department_name: str
    basis: str
    basis_link_text: str
    target: Literal["person", "enterprise"]
    valid_from: str
    valid_until: str
    open: bool = Field(description="今天是否在兑现期内")
    period: str
    period_name: str
    mode: Literal["auto", "confirm", "apply"] = Field(description="auto 免申即享 | confirm 确认即享 | apply 依申请办理")
    mode_name: str
    benefit: str
    rules: list[str] = Field(description="资格条件（名称）")
    declared: list[DeclaredFact] = Field(description="须由本人申报的事项")
    materials: list[str]
    matter: str | None = Field(None, description="apply 方式：办理的事项编码")
    publicity: bool


class PolicyList(BaseModel):
    items: list[PolicyOut]


class PolicyQuery(BaseModel):
    target: Literal["person", "enterprise"] | None = None


class ClaimOut(BaseModel):
    id: str
    policy: str
    policy_title: str
    period: str
    state: Literal["pending_confirmation", "confirmed", "granted", "approved", "paying", "paid", "failed", "rejected"]
    state_name: str
    holder_name: str = Field(description="申领人（脱敏）")
    amount_yuan: float
    bank_account: str | None = Field(None, description="收款账户（脱敏）")
    reason: str | None = None
    department: str
    created_at: int
    updated_at: int
    paid_at: int | None = None
    attempts: int = 0


class ClaimList(BaseModel):
    items: list[ClaimOut]


class MatchOut(BaseModel):
    policy: PolicyOut
    status: Literal["eligible", "maybe", "not_eligible"]
    failing: list[str] = Field(description="not_eligible：不满足的条件")
    needs: list[DeclaredFact] = Field(description="maybe：还须申报的事项")
    claim: ClaimOut | None = None


class Holder(BaseModel):
    kind: Literal["person", "enterprise"]
    name: str


class MatchList(BaseModel):
    holder: Holder
    items: list[MatchOut]


class ClaimIn(Input):
    form: dict[str, bool | int | Line] = Field(default_factory=dict, max_length=20, description="申报事项的回答")
    bank_account: str = Field(pattern=r"^[0-9]{12,19}$", description="收款银行卡号（校验位按 Luhn 算法）")
    account_name: Line = Field(min_length=1, max_length=60, description="收款户名")


class ClaimsQuery(BaseModel):
    state: Literal["pending_confirmation", "confirmed", "granted", "approved", "paying", "paid", "failed",
                   "rejected"] | None = None
    policy: str | None = Field(None, pattern=POLICY_CODE)


class ApproveIn(Input):
    claim_ids: list[str] | None = Field(None, min_length=1, max_length=200,
                                        json_schema_extra={"items": {"pattern": r"^k[0-9a-f]{24}$"}},
                                        description="逐项审核；不填则批量通过本部门全部待审核的申领")
    policy: str | None = Field(None, pattern=POLICY_CODE, description="批量通过时只通过这项政策的")


class ClaimActionIn(Input):
    reason: Line | None = Field(None, min_length=2, max_length=200, description="reject：驳回理由（必填）")


class PublicityQuery(BaseModel):
    period: str | None = Field(None, pattern=r"^(once|[0-9]{4}(-[0-9]{2})?)$")


class PublicityItem(BaseModel):
    name: str = Field(description="受益人（脱敏）")
    amount_yuan: float
    state_name: str
    at: int


class PublicityOut(BaseModel):
    policy: str
    title: str
    period: str
    items: list[PublicityItem]


class CallbackIn(BaseModel):
    payout_id: str = Field(max_length=60)
    claim_id: str = Field(max_length=40)
    status: Literal["paid", "failed"]
    bank_ref: str | None = Field(None, max_length=60)
    reason: str | None = Field(None, max_length=200)


class CallbackOut(BaseModel):
    claim_id: str
    state: str
    duplicate: bool = Field(description="重复的回调（未作任何改变）")


def as_claims(items: list[dict[str, Any]]) -> ClaimList:
    return ClaimList(items=[ClaimOut(**c) for c in items])
