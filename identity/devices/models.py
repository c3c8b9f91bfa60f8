"""Request and response models of kiosk and window devices."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from server.models import Input as _In
from server.models import Line


class DeviceIn(_In):
    device_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")
    name: Line = Field(min_length=2, max_length=60)
    location: Line = Field(min_length=2, max_length=120)
    department: Line = Field(min_length=2, max_length=40)
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
