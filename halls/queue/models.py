"""Request and response models of taking a number (取号) and following it."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from halls.models import MATTER_CODE
from server.models import Input, Line

SCAN_ID = r"^s[0-9a-f]{24}$"


class KioskNumberIn(Input):
    scan_id: str | None = Field(None, pattern=SCAN_ID, description="扫描持码人服务码得到的 scan_id")
    checkin_code: str | None = Field(None, pattern=r"^[0-9]{8}$", description="预约码（8 位数字）")
    matter: str | None = Field(None, pattern=MATTER_CODE, description="未预约时要办的事项")

    @model_validator(mode="after")
    def _one(self) -> "KioskNumberIn":
        if (self.scan_id is None) == (self.checkin_code is None):
            raise ValueError("请扫描服务码，或输入预约码（二选一）")
        return self


class DeskNumberIn(Input):
    matter: str = Field(pattern=MATTER_CODE)
    scan_id: str | None = Field(None, pattern=SCAN_ID, description="办事人出示了服务码时")
    name: Line = Field("", max_length=30, description="没有手机的办事人：姓名（屏幕上只显示姓）")
    green: Literal["elderly", "disabled", "pregnant"] | None = Field(None, description="绿色通道：老年人、残疾人、孕妇")


class RemoteNumberIn(Input):
    matter: str = Field(pattern=MATTER_CODE)
    lat: float = Field(ge=3.8, le=53.6, description="手机定位（GCJ-02）")
    lng: float = Field(ge=73.5, le=135.1)


class Number(BaseModel):
    id: str
    hall: str
    hall_name: str
    label: str = Field(description="排队号，如 A023")
    queue: str
    queue_name: str
    matter: str
    matter_name: str
    state: str = Field(description="waiting 排队中 | called 已叫号 | serving 办理中 | done 已办结 | skipped 已过号 | left 已离开")
    state_name: str
    ahead: int | None = Field(description="前面还有几人（排队中时）")
    wait_minutes: int | None = Field(description="预计等候分钟（排队中时）")
    window: int | None
    window_name: str | None
    green: str | None
    appointment_id: str | None
    issued_at: int
    version: int
    can_rejoin: bool


class NumberList(BaseModel):
    items: list[Number]
