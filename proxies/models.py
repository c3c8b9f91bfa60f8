"""Request and response models of 亲友代办 grants."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from server.models import Input, Line, Version

Scope = Literal["matters", "certificates", "appointments", "tickets"]


class GrantIn(Input):
    phone: str | None = Field(None, min_length=5, max_length=20, description="亲友注册时用的手机号")
    person_id: str | None = Field(None, pattern=r"^p[0-9a-f]{24}$")
    scopes: list[Scope] = Field(min_length=1, max_length=4,
                                description="matters 办事 | certificates 证照（查看与使用） | appointments 预约与取号 | tickets 12345 诉求")
    expires_on: date = Field(description="授权到哪天为止（含当天，最长 3 年）")

    @model_validator(mode="after")
    def _who(self) -> "GrantIn":
        if (self.phone is None) == (self.person_id is None):
            raise ValueError("请填写亲友的手机号（或账户编号）其中之一")
        if len(set(self.scopes)) != len(self.scopes):
            raise ValueError("授权范围有重复")
        return self


class GrantChangeIn(Input):
    version: Version
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    expires_on: date


class GrantAction(Input):
    version: Version


class GuardianIn(Input):
    child_name: Line = Field(min_length=1, max_length=30, description="子女姓名（与出生医学证明一致）")
    child_id_number: str = Field(min_length=18, max_length=18, description="子女的公民身份号码")


class GrantOut(BaseModel):
    id: str
    kind: Literal["authorised", "guardian"]
    principal_id: str
    principal_name: str = Field(description="被代办人（脱敏）")
    proxy_id: str
    proxy_name: str = Field(description="代办人（脱敏）")
    scopes: list[str]
    scope_names: list[str]
    expires_on: str
    state: Literal["pending", "active", "declined", "revoked", "expired"]
    state_name: str
    version: int
    created_at: int


class GrantList(BaseModel):
    granted: list[GrantOut] = Field(description="我授权别人代办我的")
    received: list[GrantOut] = Field(description="别人授权我代办的（含我监护的未成年子女）")
