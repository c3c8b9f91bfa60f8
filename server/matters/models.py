"""Request and response models of the matters API."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MatterQuery(BaseModel):
    q: str = Field("", max_length=50, description="中文关键词，匹配名称、部门、条件、材料")
    target: Literal["person", "enterprise"] | None = None
    department: str | None = Field(None, max_length=40)


class MatterSummary(BaseModel):
    code: str
    name: str
    department: str
    department_name: str
    target: str
    min_level: int
    promised_limit_days: int
    legal_limit_days: int
    visits: int
    online: bool
    fees: str


class MatterList(BaseModel):
    items: list[MatterSummary]


class MaterialIn(_In):
    id: str = Field(min_length=1, max_length=40)
    certificate_id: str | None = Field(None, max_length=120, description="用卡包中的这张电子证照（免证办）")
    upload_id: str | None = Field(None, pattern=r"^f[0-9a-f]{24}$", description="已上传的文件")


class ApplicationIn(_In):
    matter: str = Field(min_length=1, max_length=40)
    form: dict[str, Any]
    materials: list[MaterialIn] = Field(default_factory=list, max_length=30)
    draft: bool = Field(False, description="true 时保存为草稿，稍后提交")


class ApplicantActionIn(_In):
    version: int = Field(ge=1)
    comment: str = Field("", max_length=500)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=30, description="补正时补交或替换的材料")


class StaffActionIn(_In):
    version: int = Field(ge=1, description="当前版本号（防止两人同时处理）")
    comment: str = Field("", max_length=500, description="意见；不予受理、补正、不予批准时必填")
    items: list[str] = Field(default_factory=list, max_length=30, description="需要补正的材料")


class Application(BaseModel):
    id: str
    number: str = Field(description="受理编号")
    matter: str
    matter_name: str
    department: str
    department_name: str
    applicant: dict[str, Any]
    form: dict[str, Any]
    materials: list[dict[str, Any]]
    state: str
    state_name: str
    version: int
    timeline: list[dict[str, Any]]
    deadline: str | None = Field(description="承诺办结日期（按工作日计算，补正期间暂停）")
    remaining_working_days: int | None
    overdue: bool
    clock_paused: bool
    supplement: dict[str, Any] | None
    result: dict[str, Any] | None
    instant_approval: dict[str, Any] | None = Field(None, description="秒批：各条规则是否满足")


class ApplicationList(BaseModel):
    items: list[Application]


class StaffApplication(Application):
    material_checks: list[dict[str, Any]] = []


class QueueQuery(BaseModel):
    state: str | None = Field(None, max_length=30)
    overdue: bool | None = None
    matter: str | None = Field(None, max_length=40)


class UploadOut(BaseModel):
    id: str
    sha256: str
    size: int
    content_type: str
    filename: str


class UploadQuery(BaseModel):
    filename: str = Field("upload", max_length=120)


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


class RatingIn(_In):
    score: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    tags: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field("", max_length=500)
    indicators: dict[str, int] = Field(default_factory=dict, description="分项评价：整体满意度、办事效率、办事指南精确度、办事便捷度、平台操作性（1-5）")


class KioskApplicationIn(_In):
    consent_id: str = Field(pattern=r"^c[0-9a-f]{24}$", description="持码人在手机上同意的本次授权")
    matter: str = Field(min_length=3, max_length=40)
    form: dict[str, Any] = Field(default_factory=dict, description="只需填写实名信息和授权证照之外的字段（如接种门诊）")


class KioskApplicationOut(BaseModel):
    """What the kiosk shows the holder: no form data comes back to the kiosk."""
    id: str
    number: str
    matter_name: str
    department_name: str
    state: str
    state_name: str
    deadline: str | None


class AwaitingRating(BaseModel):
    id: str
    number: str
    matter_name: str
    department_name: str
    finished_on: str | None


class AwaitingRatingList(BaseModel):
    items: list[AwaitingRating]


class KioskRatingIn(_In):
    scan_id: str = Field(pattern=r"^s[0-9a-f]{24}$")
    application_id: str = Field(pattern=r"^a[0-9a-f]{24}$")
    score: int = Field(ge=1, le=5)
    tags: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field("", max_length=500)


class RatingOut(BaseModel):
    application_id: str
    score: int
    level: str
    tags: list[str]
    comment: str
    channel: str
    rectification_id: str | None


class RectificationOut(BaseModel):
    id: str
    application_number: str
    matter: str
    matter_name: str
    score: int
    comment: str
    tags: list[str]
    state: Literal["open", "answered", "closed"]
    due_on: str
    overdue: bool = False
    answer: str | None
    close_comment: str | None


class RectificationList(BaseModel):
    items: list[RectificationOut]


class RectificationQuery(BaseModel):
    state: Literal["open", "answered", "closed"] | None = None


class AnswerIn(_In):
    text: str = Field(min_length=2, max_length=1000)


class BundleApplicationIn(_In):
    bundle: str = Field(min_length=1, max_length=40)
    form: dict[str, Any]
    materials: list[MaterialIn] = Field(default_factory=list, max_length=40)


class BundleChild(BaseModel):
    id: str
    number: str
    matter: str
    matter_name: str
    department_name: str
    state: str
    state_name: str
    deadline: str | None
    version: int


class BundleApplication(BaseModel):
    id: str
    number: str
    bundle: str
    bundle_name: str
    state: Literal["in_progress", "supplement_requested", "partially_denied", "completed"]
    progress: dict[str, int]
    children: list[BundleChild]
