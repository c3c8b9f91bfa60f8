"""Request and response models of the certificate catalog and the issuer API."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.models import Input as _In
from server.models import Line


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


class IssuerIn(_In):
    code: str = Field(min_length=18, max_length=18, description="发证机关统一社会信用代码")
    name: Line = Field(min_length=2, max_length=60)
    department: Line = Field(min_length=2, max_length=40)
    allowed_types: list[str] = Field(min_length=1, max_length=50)
    public_key_pem: str = Field(min_length=100, max_length=2000)


class IssuerKeyIn(_In):
    public_key_pem: str = Field(min_length=100, max_length=2000)


class AssertionIn(_In):
    assertion: str = Field(min_length=20, max_length=4000)
