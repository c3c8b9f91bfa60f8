"""Request and response models of the holder's wallet, sharing (亮证) and verification."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from server.models import MAX_SAFE_INT
from server.models import Line
from server.models import Input as _In

Status = Literal["valid", "expiring", "expired", "suspended", "revoked", "superseded"]


class WalletItem(BaseModel):
    id: str
    type: str
    type_name: str
    holder_kind: str
    issuer_code: str
    issuer_name: str
    status: Status
    version: int
    valid_from: str
    valid_until: str | None
    summary: dict[str, Any]
    color: str


class WalletList(BaseModel):
    items: list[WalletItem]


class FieldOut(BaseModel):
    name: str
    label: str
    sensitive: bool
    value: Any


class Verification(BaseModel):
    signature_valid: bool
    issuer_trusted: bool
    status: str
    within_validity: bool
    valid: bool
    current_status: str | None = None


class WalletDetail(WalletItem):
    fields: list[FieldOut]
    revealed: bool
    verification: Verification


class RevealQuery(BaseModel):
    reveal: bool = False


class ShareImageQuery(BaseModel):
    masked: bool = Field(False, description="公共场所的屏幕（自助终端）：证件号码等敏感字段脱敏显示")


class ImageQuery(BaseModel):
    purpose: Line = Field(min_length=2, max_length=50, description="用途，将印在水印上，如“办理居住证”")


class ShareIn(_In):
    purpose: Line = Field(min_length=2, max_length=200)
    fields: list[str] = Field(min_length=1, max_length=30, description="出示哪些字段（其余不披露）")
    ttl: int = Field(300, ge=30, le=600, description="有效秒数，最长 10 分钟")


class ShareOut(BaseModel):
    token: str
    expires_at: datetime
    verify_url: str
    fields: list[str]
    purpose: str


class SharedField(BaseModel):
    name: str
    label: str
    value: Any


class ShareView(BaseModel):
    certificate_id: str
    type: str
    type_name: str
    issuer: dict[str, str]
    fields: list[SharedField]
    valid_from: str
    valid_until: str | None
    purpose: str
    expires_at: datetime
    verification: Verification


class UsageQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=0, le=MAX_SAFE_INT, description="只看早于此时间（毫秒）的记录，用于翻页")


class UsageItem(BaseModel):
    at: datetime
    certificate_id: str
    type: str
    type_name: str = Field("", description="证照名称")
    action: Literal["shared", "viewed", "image", "disclosed", "revealed"]
    by: dict[str, str]
    purpose: str


class UsageList(BaseModel):
    items: list[UsageItem]


class Reminder(BaseModel):
    certificate_id: str
    type_name: str
    valid_until: str
    message: str


class ReminderList(BaseModel):
    items: list[Reminder]
