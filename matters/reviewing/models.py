"""Request and response models of the department's queue, actions and statistics."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from matters.applying.models import Application
from server.models import Input as _In
from server.models import Version


class StaffActionIn(_In):
    version: Version
    comment: str = Field("", max_length=500, description="意见；不予受理、补正、不予批准时必填")
    items: list[str] = Field(default_factory=list, max_length=30, description="需要补正的材料")


class StaffApplication(Application):
    material_checks: list[dict[str, Any]] = []


class QueueQuery(BaseModel):
    state: str | None = Field(None, max_length=30)
    overdue: bool | None = None
    matter: str | None = Field(None, max_length=40)


class MatterStats(BaseModel):
    matter: str
    matter_name: str
    total: int
    by_state: dict[str, int]
    finished: int
    on_time: int
    overdue_open: int
    on_time_rate: float | None
    average_handling_working_days: float | None


class StatsOut(BaseModel):
    items: list[MatterStats]
