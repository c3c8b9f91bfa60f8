"""Request and response models of service codes and scans."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from server.models import MAX_SAFE_INT
from server.models import Input as _In


PersonItem = Annotated[str, Field(json_schema_extra={"x-enum": "person-items"})]
EnterpriseItem = Annotated[str, Field(json_schema_extra={"x-enum": "enterprise-items"})]


class CodeQuery(BaseModel):
    items: list[PersonItem] = Field(default_factory=list, max_length=16,
                                    description="出示时预授权的信息项，如 identity:name（窗口扫码后无需再确认）")


class EnterpriseCodeQuery(BaseModel):
    items: list[EnterpriseItem] = Field(default_factory=list, max_length=16,
                                        description="出示时预授权的信息项，如 enterprise:name")


class CodeOut(BaseModel):
    code: str = Field(description="二维码内容（SA1: + Base45）")
    short_code: str | None = Field(description="8 位短码，供手工输入，与二维码同时失效")
    expires_at: datetime
    refresh_after: datetime = Field(description="在此时间后刷新（早于过期）")
    subject_type: Literal["person", "enterprise"]
    preauthorized_items: list[str]
    png_url: str


class PngQuery(BaseModel):
    c: str = Field(min_length=10, max_length=600, description="要渲染的服务码（本人刚取得的）")


class RevokeOut(BaseModel):
    revoked_before: datetime


class HistoryQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=0, le=MAX_SAFE_INT, description="只看早于此时间（毫秒）的记录，用于翻页")


class ScanHistoryItem(BaseModel):
    scan_id: str
    at: datetime
    by: str = Field(description="扫码的终端或窗口")
    location: str
    department: str
    mode: Literal["online", "offline"]
    purpose: str | None


class ScanHistory(BaseModel):
    items: list[ScanHistoryItem]


class ScanIn(_In):
    code: str | None = Field(None, min_length=1, max_length=600)
    short_code: str | None = Field(None, pattern=r"^[0-9]{8}$")

    @model_validator(mode="after")
    def _one(self) -> "ScanIn":
        if (self.code is None) == (self.short_code is None):
            raise ValueError("请提供二维码内容 code 或 8 位短码 short_code（二选一）")
        return self


class ScanOut(BaseModel):
    scan_id: str
    subject_type: Literal["person", "enterprise"]
    name: str = Field(description="持码人（脱敏）")
    level: str = Field(description="实名等级，如 L2；企业为 verified")
    preauthorized_items: list[str] = Field(description="持码人出示时已预授权的信息项")


class OfflineScan(_In):
    code: str = Field(min_length=1, max_length=600)
    scanned_at: int = Field(ge=0, le=MAX_SAFE_INT, description="离线验码的时间（秒）")


class OfflineScansIn(_In):
    scans: list[OfflineScan] = Field(min_length=1, max_length=500)


class OfflineScanResult(BaseModel):
    code_ok: bool
    scan_id: str | None
    error: str | None = Field(description="失败原因代码，如 code_already_used")


class OfflineScansOut(BaseModel):
    results: list[OfflineScanResult]
