"""Request and response models of the catalog, uploads and applications."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from server.models import Input as _In
from server.models import Line, Version, display_filename


class MatterQuery(BaseModel):
    q: str = Field("", max_length=50, description="中文关键词，匹配名称、部门、条件、材料")
    target: Literal["person", "enterprise"] | None = None
    department: str | None = Field(None, max_length=40)
    tongban: bool | None = Field(None, description="true：在本地可办的通办事项（户籍或注册地在外地也可在本市申请）")
    cross_border: bool | None = Field(None, description="true：跨境通办专区（港澳台及境外人士可办）")


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
    instant_approval: bool = Field(False, description="符合条件即时办结（秒批）")
    tongban: Literal["local", "city", "province", "cross_province"] = Field(
        "local", description="local 本地办理 | city 全市通办 | province 省内通办 | cross_province 跨省通办")
    cross_border: bool = Field(False, description="港澳台及境外人士可办（跨境通办专区）")


class MatterList(BaseModel):
    items: list[MatterSummary]


class MaterialIn(_In):
    id: str = Field(min_length=1, max_length=40)
    certificate_id: str | None = Field(None, max_length=120, description="用卡包中的这张电子证照（免证办）")
    upload_id: str | None = Field(None, pattern=r"^f[0-9a-f]{24}$", description="已上传的文件")


class DeliveryIn(_In):
    method: Literal["wallet", "mail", "pickup"] = Field(description="wallet 电子证照 | mail 邮寄 | pickup 到收件地点领取")
    address: Line = Field("", max_length=200, description="邮寄地址（mail 时必填）")


class ApplicationIn(_In):
    matter: str = Field(min_length=1, max_length=40)
    form: dict[str, Any]
    materials: list[MaterialIn] = Field(default_factory=list, max_length=30)
    situation: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,29}$",
                                  description="办理情形（办事指南 situations 之一；事项有情形时必选）")
    delivery: DeliveryIn | None = Field(None, description="通办事项的结果送达方式（默认：有电子证照结果则放入卡包，否则到收件地点领取）")
    draft: bool = Field(False, description="true 时保存为草稿，稍后提交")


class ApplicantActionIn(_In):
    version: Version
    comment: str = Field("", max_length=500)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=30, description="补正时补交或替换的材料")


class Application(BaseModel):
    id: str
    number: str = Field(description="受理编号")
    matter: str
    matter_name: str
    department: str
    department_name: str
    applicant: dict[str, Any]
    situation: dict[str, str] | None = Field(None, description="办理情形（id、name），事项有情形时")
    receiving: dict[str, str] | None = Field(None, description="收件地（通办事项）：channel、department、department_name、region")
    handling: dict[str, str] | None = Field(None, description="办理地（通办事项）：作出决定的部门")
    forwarded: bool | None = Field(None, description="收件地与办理地不同（收受分离：收件地受理后转交办理地）")
    delivery: dict[str, str] | None = Field(None, description="结果送达：method wallet | mail | pickup")
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
    finished_at: int | None = Field(None, description="办结（或撤回、不予受理）的时间，毫秒时间戳")
    supplement: dict[str, Any] | None
    result: dict[str, Any] | None
    instant_approval: dict[str, Any] | None = Field(None, description="秒批：各条规则是否满足")
    fee: dict[str, Any] | None = Field(None, description="收费（事项收费时）：state（not_due 审批通过后缴费、pending 缴费单生成中、unpaid 待缴费、"
                                       "paying、paid 已缴费、waived 已减免、refunding、refunded、closed）、state_name、"
                                       "amount_fen（分）、due、order_id；缴费单见 GET /applications/{id}/payment")


class ApplicationList(BaseModel):
    items: list[Application]


class UploadOut(BaseModel):
    id: str
    sha256: str
    size: int
    content_type: str
    filename: str


class UploadQuery(BaseModel):
    # Kept only to show people: sanitised (path, markup and control characters dropped), never refused.
    __sanitised__ = frozenset({"filename"})
    filename: Annotated[str, BeforeValidator(lambda v: display_filename(str(v), "upload"))] = Field(
        "upload", max_length=500, description="原文件名（仅用于显示；路径、标记与控制字符会被去掉）")
