"""Request and response models of closing an account (注销账号)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from server.models import Input


class Obligation(BaseModel):
    kind: str = Field(description="application 办理中的事项 | enterprise_admin 企业管理员 | …")
    title: str
    detail: str = Field(description="怎样了结它")
    link: str | None = Field(None, description="去处理的页面")


class ClosurePreview(BaseModel):
    can_close: bool
    obligations: list[Obligation] = Field(description="须先了结的事项；为空时可以注销")
    erased: list[str] = Field(description="注销后删除的信息")
    kept: list[str] = Field(description="依法保留的记录（不再能识别到您）")
    reauth: list[str] = Field(description="可用的重新验证方式：sms（本机号码验证码）、wechat（微信登录 code）")


class ClosureSmsOut(BaseModel):
    sent: bool
    phone: str = Field(description="验证码发往的号码（脱敏）")
    expires_in: int
    resend_after: int


class ClosureIn(Input):
    """A fresh proof that the account holder is here: the SMS code just sent to the account's
    phone, or a ``wx.login()`` code of the account's WeChat user."""

    sms_code: str | None = Field(None, min_length=1, max_length=10, json_schema_extra={"pattern": r"^[0-9]{6}$"})
    wechat_code: str | None = Field(None, min_length=1, max_length=128)
    confirm: Literal["确认注销"] = Field(description="确认文字：确认注销")
