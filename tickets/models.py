"""Request and response models of 12345 tickets (the resident's side and the staff desk)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from server.models import Input, Line, Version

Kind = Literal["consult", "help", "complaint", "report", "suggestion"]
UPLOAD_ID = Annotated[str, Field(pattern=r"^f[0-9a-f]{24}$")]


class Location(Input):
    address: Line = Field("", max_length=200)
    lat: float | None = Field(None, ge=3.8, le=53.6, description="纬度（中国境内）")
    lng: float | None = Field(None, ge=73.5, le=135.1, description="经度（中国境内）")
    region_code: str | None = Field(None, pattern=r"^[1-8][0-9]{5}$", description="行政区划代码（GB/T 2260）")

    @model_validator(mode="after")
    def _pair(self) -> "Location":
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度须同时提供")
        return self


class Related(Input):
    application_id: str | None = Field(None, pattern=r"^a[0-9a-f]{24}$")
    rating_id: str | None = Field(None, pattern=r"^a[0-9a-f]{24}$",
                                  description="对哪份申请的差评投诉（好差评 1-2 分）；部门整改办结后本诉求随之办结")


class TicketIn(Input):
    kind: Kind = Field(description="consult 咨询 | help 求助 | complaint 投诉 | report 举报 | suggestion 建议")
    category: str = Field(min_length=1, max_length=40, description="分类代码（GET /api/v1/tickets/catalog）",
                          json_schema_extra={"x-enum": "ticket-categories"})
    title: Line = Field(min_length=2, max_length=60)
    content: str = Field(min_length=5, max_length=2000, description="诉求内容（纯文本）")
    location: Location | None = None
    attachments: list[UPLOAD_ID] = Field(default_factory=list, max_length=9)
    related: Related | None = None
    anonymous: bool = Field(False, description="匿名（仅举报可不登录匿名提交，凭查询码查询）")
    contact_allowed: bool = Field(True, description="是否同意承办部门联系您")


class KioskTicketIn(TicketIn):
    scan_id: str = Field(min_length=1, max_length=64, description="扫描持码人服务码得到的 scan_id")


class Suggestion(BaseModel):
    id: str
    question: str
    answer: str
    matter: str | None
    score: float


class TicketCreated(BaseModel):
    id: str
    number: str
    state: str
    state_name: str
    due_at: int | None = Field(description="办理时限（毫秒时间戳；派单后确定）")
    query_code: str | None = Field(None, description="匿名举报的查询码：只显示这一次，请妥善保存")
    suggestions: list[Suggestion] = Field(default_factory=list, description="咨询类：知识库中可能的答复")


class Ticket(BaseModel):
    id: str
    number: str
    kind: str
    kind_name: str
    category: str
    category_name: str
    title: str
    content: str
    location: dict[str, Any] | None
    attachments: list[str]
    related: dict[str, Any] | None
    anonymous: bool
    contact_allowed: bool
    enterprise: dict[str, Any] | None = Field(None, description="企业诉求：代表的企业")
    state: str
    state_name: str
    version: int
    lead_department: str | None = None
    lead_department_name: str | None = None
    co_departments: list[str] = []
    due_at: int | None = None
    sign_due_at: int | None = None
    overdue: bool = False
    due_soon: bool = False
    sign_overdue: bool = False
    answer: str | None = None
    callback: dict[str, Any] | None = None
    redo_count: int = 0
    timeline: list[dict[str, Any]]
    created_at: int
    suggestions: list[Suggestion] = []


class TicketList(BaseModel):
    items: list[Ticket]


class ResolveIn(Input):
    version: Version
    answer_id: str = Field(min_length=1, max_length=20, description="解决了问题的知识库答复",
                           json_schema_extra={"x-enum": "knowledge-answers"})


class CallbackIn(Input):
    version: Version
    result: Literal["satisfied", "basic", "unsatisfied"] = Field(description="满意 | 基本满意 | 不满意")
    comment: str = Field("", max_length=500)


class LookupIn(Input):
    number: str = Field(pattern=r"^12345-[0-9]{8}-[0-9]{6}$")
    query_code: str = Field(min_length=8, max_length=32, pattern=r"^[A-Z0-9]+$")


class CatalogOut(BaseModel):
    kinds: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    departments: list[dict[str, Any]] = Field(description="承办部门（派单时选择）")


class KnowledgeQuery(BaseModel):
    q: str = Field(min_length=1, max_length=100)
    category: str | None = Field(None, max_length=40)


class KnowledgeOut(BaseModel):
    items: list[Suggestion]
