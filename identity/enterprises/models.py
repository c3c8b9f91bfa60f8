"""Request and response models of enterprises, their agents and acting for an enterprise."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from identity.accounts.models import ActivityEntry
from identity.phones import PATTERN as PHONE_PATTERN
from server.models import Input as _In
from server.models import Line

Scope = Literal["matters", "certificates", "code", "agents"]


class EnterpriseBindIn(_In):
    uscc: str = Field(min_length=1, max_length=32, description="统一社会信用代码")
    name: Line = Field(min_length=2, max_length=100, description="企业名称（须与登记一致）")


class EnterpriseOut(BaseModel):
    id: str
    uscc: str
    name: str
    type: str
    status: str
    legal_representative: str = Field(description="法定代表人（脱敏）")
    address: str
    established: str
    bound_at: datetime
    my_role: Literal["admin", "agent"]
    my_scopes: list[str]


class EnterpriseList(BaseModel):
    items: list[EnterpriseOut]


class AgentInviteIn(_In):
    # Exactly one of phone and person_id (the service checks it, answering validation_failed).
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["phone"], "properties": {"phone": {"type": "string"}, "person_id": {"type": "null"}}},
        {"required": ["person_id"], "properties": {"person_id": {"type": "string"}, "phone": {"type": "null"}}},
    ]})
    phone: str | None = Field(None, max_length=20,
                              description="被授权人手机号（与 person_id 二选一）：中国大陆 11 位，或以 + 开头的港澳台及境外号码",
                              json_schema_extra={"pattern": PHONE_PATTERN})
    person_id: str | None = Field(None, max_length=64, json_schema_extra={"pattern": r"^p[0-9a-f]{24}$"})
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    expires_at: datetime = Field(description="授权截止时间（ISO 8601，须带时区）")

    @field_validator("scopes")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("授权范围不能重复")
        return v


class AgentPatchIn(_In):
    scopes: list[Scope] | None = Field(None, min_length=1, max_length=4)
    expires_at: datetime | None = None


class AgentOut(BaseModel):
    id: str
    enterprise_id: str
    person_id: str | None
    name: str | None = Field(description="被授权人姓名（脱敏，接受后可见）")
    phone: str | None = Field(description="被授权人手机号（脱敏）")
    scopes: list[str]
    expires_at: datetime
    status: Literal["invited", "active", "expired", "revoked", "declined"]
    granted_by: str
    created_at: datetime
    accepted_at: datetime | None


class AgentList(BaseModel):
    items: list[AgentOut]


class InvitationOut(BaseModel):
    id: str
    enterprise_id: str
    enterprise_name: str
    uscc: str
    scopes: list[str]
    expires_at: datetime
    invited_at: datetime


class InvitationList(BaseModel):
    items: list[InvitationOut]


class ActAsIn(_In):
    enterprise_id: str | None = Field(None, description="要代表的企业；与 person_id 都为空表示回到本人身份")
    person_id: str | None = Field(None, pattern=r"^p[0-9a-f]{24}$", description="要代办的亲友（须有对方的有效代办授权）")

    @model_validator(mode="after")
    def _one(self) -> "ActAsIn":
        if self.enterprise_id is not None and self.person_id is not None:
            raise ValueError("一次只能代表一个企业或代办一位亲友")
        return self


class ActingOut(BaseModel):
    enterprise_id: str
    enterprise_name: str
    role: Literal["admin", "agent"]
    scopes: list[str]


class ActingPersonOut(BaseModel):
    """Whom a proxy acts for (亲友代办), as the grant allows now."""
    person_id: str
    name: str = Field(description="被代办人（脱敏）")
    kind: Literal["authorised", "guardian"] = Field(description="authorised 本人授权 | guardian 监护人代未成年人")
    scopes: list[str]


class ActAsOut(BaseModel):
    access_token: str
    expires_in: int
    acting: ActingOut | None
    acting_person: ActingPersonOut | None = None


class ActingNow(BaseModel):
    enterprise: ActingOut | None
    person: ActingPersonOut | None


class EnterpriseActivityOut(BaseModel):
    items: list[ActivityEntry]
    chain_ok: bool
