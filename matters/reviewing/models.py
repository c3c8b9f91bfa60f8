"""Request and response models of the department's queue, actions and statistics."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from matters.applying.models import Application
from server.models import Input as _In
from server.models import Line, Version


class StaffActionIn(_In):
    version: Version
    comment: str = Field("", max_length=500, description="意见；不予受理、补正、不予批准时必填")
    items: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=30, description="需要补正的全部材料（一次性告知）")
    reason: Line = Field("", max_length=200, description="再次要求补正的原因（仅科长可再次要求，须写明）")


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
