"""Request and response models of 好差评 and rectifications."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from server.models import Input as _In

Indicator = Literal["整体满意度", "办事效率", "办事指南精确度", "办事便捷度", "平台操作性"]
Score = Annotated[int, Field(ge=1, le=5)]


@dataclass(frozen=True)
class BadRating:
    """A person's 差评 as another domain may see it (a 12345 complaint rests on it)."""
    rating_id: str
    application_id: str
    application_number: str
    matter_name: str
    department: str
    score: int
    comment: str
    rectification_id: str | None


@dataclass(frozen=True)
class Rectified:
    """A rectification the department's supervisor closed."""
    rectification_id: str
    rating_id: str
    department: str
    answer: str
    closed_by: str
    closed_at: int


class RatingIn(_In):
    score: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    tags: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field("", max_length=500)
    indicators: dict[Indicator, Score] = Field(default_factory=dict, max_length=5,
                                               description="分项评价（1-5）：整体满意度、办事效率、办事指南精确度、办事便捷度、平台操作性")


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
