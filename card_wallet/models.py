"""Request and response models of the wallet API."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["valid", "expiring", "expired", "suspended", "revoked", "superseded"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CertificateTypeOut(BaseModel):
    code: str
    name: str
    holder_kind: Literal["person", "enterprise"]
    defined_by: str
    issuing_department: str
    schema_: dict[str, Any] = Field(alias="schema")
    display: dict[str, Any]
    validity: dict[str, Any]
    sensitive_fields: list[str]

    model_config = ConfigDict(populate_by_name=True)


class CertificateTypeList(BaseModel):
    items: list[CertificateTypeOut]


class IssueIn(_In):
    request_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                            description="发证机关自定的请求编号：同一编号重复提交返回同一结果")
    content: dict[str, Any] = Field(description="证照内容：id, type, issuer, version, holder, fields, valid_from, valid_until")
    kid: str = Field(min_length=4, max_length=64)
    signature: str = Field(min_length=40, max_length=200, description="ES256（r‖s，base64url）对内容 JCS 规范化结果的签名")


class StatusChangeIn(_In):
    request_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    reason: str = Field("", max_length=200)


class IssueOut(BaseModel):
    id: str
    version: int
    status: str
    type: str
    supersedes: str | None = None


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


class ImageQuery(BaseModel):
    purpose: str = Field(min_length=2, max_length=50, description="用途，将印在水印上，如“办理居住证”")


class ShareIn(_In):
    purpose: str = Field(min_length=2, max_length=200)
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
    before: int | None = Field(None, ge=0)


class UsageItem(BaseModel):
    at: datetime
    certificate_id: str
    type: str
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


class IssuerIn(_In):
    code: str = Field(min_length=18, max_length=18, description="发证机关统一社会信用代码")
    name: str = Field(min_length=2, max_length=60)
    department: str = Field(min_length=2, max_length=40)
    allowed_types: list[str] = Field(min_length=1, max_length=50)
    public_key_pem: str = Field(min_length=100, max_length=2000)


class IssuerKeyIn(_In):
    public_key_pem: str = Field(min_length=100, max_length=2000)


class AssertionIn(_In):
    assertion: str = Field(min_length=20, max_length=4000)
