"""Request and response models of appointments (预约)."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from halls.models import MATTER_CODE
from server.models import Input, Version

HALL_ID = r"^[a-z0-9-]{3,40}$"
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class SlotsQuery(Input):
    matter: str = Field(pattern=MATTER_CODE, description="事项编码")
    start: date | None = Field(None, alias="from", description="从哪天起（默认今天）")
    end: date | None = Field(None, alias="to", description="到哪天（默认可预约的最后一天）")


class Slot(BaseModel):
    day: str
    time: str
    end: str
    left: int = Field(description="剩余名额")
    quota: int


class SlotList(BaseModel):
    hall: str
    matter: str
    queue: str
    items: list[Slot]


class BookingIn(Input):
    hall: str = Field(pattern=HALL_ID)
    matter: str = Field(pattern=MATTER_CODE)
    day: date
    time: str = Field(pattern=HHMM, description="时段开始时间，如 09:30")


class RescheduleIn(Input):
    version: Version
    day: date
    time: str = Field(pattern=HHMM)


class CancelIn(Input):
    version: Version


class Appointment(BaseModel):
    id: str
    hall: str
    hall_name: str
    matter: str
    matter_name: str
    queue: str
    day: str
    time: str
    end: str
    state: str = Field(description="booked 已预约 | checked_in 已取号 | cancelled 已取消 | no_show 已爽约 | done 已办理")
    state_name: str
    code: str | None = Field(description="预约码：在自助终端输入即可取号（已预约时显示）")
    version: int
    number_id: str | None = None


class AppointmentList(BaseModel):
    items: list[Appointment]
    blocked_until: str | None = Field(description="因爽约暂停预约至该日（含）；null 为可预约")
