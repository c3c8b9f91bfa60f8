"""Request and response models of the 12345 desk (the centre and the departments)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from server.models import Input, Version
from tickets.models import Ticket


class StaffTicket(Ticket):
    reporter: dict[str, Any] | None = Field(None, description="诉求人（脱敏；匿名、不同意联系或举报时不向承办部门显示）")
    submitter_kind: str
    partner: str | None = None
    extension: dict[str, Any] | None = None
    extensions: list[dict[str, Any]] = []
    returns: list[dict[str, Any]] = []
    escalations: dict[str, Any] = {}
    watched: bool = False


class StaffTicketList(BaseModel):
    items: list[StaffTicket]


class DeskActionIn(Input):
    version: Version
    comment: str = Field("", max_length=1000, description="意见：退单、不予受理、答复、延期时必填")
    lead_department: str | None = Field(None, max_length=40, description="派单：主办部门")
    co_departments: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=5,
                                                                     description="派单：协办部门")
    into: str | None = Field(None, pattern=r"^12345-[0-9]{8}-[0-9]{6}$", description="合并：并入的诉求编号")
    days: int | None = Field(None, ge=1, le=30, description="延期：申请延长的工作日数")
    approve: bool | None = Field(None, description="延期审批：是否批准")
    result: Literal["satisfied", "basic", "unsatisfied"] | None = Field(None, description="电话回访结果")


class DeskQuery(BaseModel):
    view: Literal["new", "returned", "overdue", "reopened", "extensions", "mine", "all"] = "mine"
    reveal_contact: bool = False


class StatsOut(BaseModel):
    total: int
    by_kind: dict[str, int]
    by_category: dict[str, int]
    by_department: dict[str, int]
    by_region: dict[str, int]
    on_time_rate: float | None
    satisfaction_rate: float | None
    enterprise_share: float | None
    hot_categories_7d: list[dict[str, Any]]
    hot_locations_7d: list[dict[str, Any]]
