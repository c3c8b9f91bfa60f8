"""Request and response models of service codes, scans, consents, devices and staff."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CodeQuery(BaseModel):
    items: list[str] = Field(default_factory=list, max_length=16,
                             description="出示时预授权的信息项，如 identity:name（窗口扫码后无需再确认）")


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
    before: int | None = Field(None, ge=0, description="只看早于此时间（毫秒）的记录，用于翻页")


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
    scanned_at: int = Field(description="离线验码的时间（秒）")


class OfflineScansIn(_In):
    scans: list[OfflineScan] = Field(min_length=1, max_length=500)


class OfflineScanResult(BaseModel):
    code_ok: bool
    scan_id: str | None
    error: str | None = Field(description="失败原因代码，如 code_already_used")


class OfflineScansOut(BaseModel):
    results: list[OfflineScanResult]


class ConsentRequestIn(_In):
    purpose: str = Field(min_length=2, max_length=200, description="申请事由，如“办理居住证”")
    items: list[str] = Field(min_length=1, max_length=16)
    matter: str | None = Field(None, pattern=r"^[0-9A-Za-z-]{3,40}$",
                               description="为办理哪个事项（事项编码）；终端代为申请时只能用于该事项")


class ConsentItem(BaseModel):
    item: str
    label: str
    state: Literal["pending", "approved", "rejected"]


class ConsentOut(BaseModel):
    id: str
    state: Literal["pending", "approved", "partially_approved", "rejected", "expired"]
    purpose: str
    requester: dict[str, str]
    items: list[ConsentItem]
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


class ConsentList(BaseModel):
    items: list[ConsentOut]


class ConsentListQuery(BaseModel):
    state: Literal["pending", "approved", "partially_approved", "rejected", "expired"] | None = None


class ConsentDecisionIn(_In):
    items: list[str] | None = Field(None, max_length=16, description="逐项同意：只同意这些（默认全部）")


class ConsentDisclosure(ConsentOut):
    values: dict[str, object] = Field(description="持码人同意提供的信息（仅限已同意的项）")


class DeviceIn(_In):
    device_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")
    name: str = Field(min_length=2, max_length=60)
    location: str = Field(min_length=2, max_length=120)
    department: str = Field(min_length=2, max_length=40)
    scopes: list[str] = Field(min_length=1, max_length=8)
    items: list[str] = Field(default_factory=list, max_length=32, description="可请求的信息项，可用通配，如 identity:*")
    public_key_pem: str = Field(min_length=100, max_length=2000)


class DeviceOut(BaseModel):
    device_id: str
    name: str
    location: str
    department: str
    scopes: list[str]
    items: list[str]
    status: Literal["active", "disabled"]
    key_thumbprint: str


class DeviceList(BaseModel):
    items: list[DeviceOut]


class AssertionIn(_In):
    assertion: str = Field(min_length=20, max_length=4000, description="设备私钥签名的 JWT 断言")


class AccessOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class StaffLoginIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    totp: str = Field(pattern=r"^[0-9]{6}$", description="动态口令（6 位）")


class StaffOut(BaseModel):
    username: str
    name: str
    department: str
    department_name: str
    roles: list[str]


class StaffLoginOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    staff: StaffOut
