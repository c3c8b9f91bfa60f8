"""Request and response models of calling at windows, the hall screen and statistics."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from server.models import Input, Version


class NumberAction(Input):
    version: Version


class TransferIn(Input):
    version: Version
    to: int = Field(ge=1, le=999, description="转到几号窗口")


class StatsQuery(Input):
    day: date | None = Field(None, description="哪一天（默认今天）")


class CalledNumber(BaseModel):
    id: str
    label: str
    queue: str
    matter: str
    matter_name: str
    name: str = Field(description="办事人（脱敏）")
    state: str
    green: str | None
    appointment: bool
    holder: str | None = Field(description="扫码取号时的持码人（帮办时用于发起授权）")
    window: int | None
    calls: int
    skips: int
    issued_at: int
    called_at: int | None
    version: int


class WindowRef(BaseModel):
    number: int
    name: str


class Console(BaseModel):
    hall: str
    hall_name: str
    window: int
    window_name: str
    queues: list[str]
    open: bool
    current: list[CalledNumber]
    waiting: dict[str, int]
    windows: list[WindowRef]


class WindowClosed(BaseModel):
    hall: str
    window: int
    open: bool


class DisplayCall(BaseModel):
    label: str
    window: int
    window_name: str
    name: str
    at: int


class DisplayQueue(BaseModel):
    queue: str
    name: str
    count: int


class Display(BaseModel):
    hall: str
    hall_name: str
    open: bool
    called: list[DisplayCall]
    waiting: list[DisplayQueue]


class StatsRow(BaseModel):
    queue: str
    matter: str
    matter_name: str
    taken: int
    served: int
    waiting: int
    skipped: int
    wait_minutes: float | None
    service_minutes: float | None


class WindowServed(BaseModel):
    number: int
    name: str
    served: int


class HallStats(BaseModel):
    hall: str
    hall_name: str
    day: str
    rows: list[StatsRow]
    windows: list[WindowServed]
    appointments: dict[str, int]
