"""Request and response models of consent requests and decisions."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from server.models import Input as _In
from server.models import Line


Item = Annotated[str, Field(json_schema_extra={"x-enum": "consent-items"})]


class ConsentRequestIn(_In):
    purpose: Line = Field(min_length=2, max_length=200, description="申请事由，如“办理居住证”")
    items: list[Item] = Field(min_length=1, max_length=16)
    matter: str | None = Field(None, pattern=r"^[0-9A-Za-z-]{3,40}$",
                               description="为办理哪个事项（事项编码）；终端代为申请时只能用于该事项")


class ConsentItem(BaseModel):
    item: str
    label: str
    state: Literal["pending", "approved", "rejected"]


class ConsentOut(BaseModel):
    id: str
    state: Literal["pending", "approved", "partially_approved", "rejected", "expired"]
    purpose: str
    requester: dict[str, str]
    items: list[ConsentItem]
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


class ConsentList(BaseModel):
    items: list[ConsentOut]


class ConsentListQuery(BaseModel):
    state: Literal["pending", "approved", "partially_approved", "rejected", "expired"] | None = None


class ConsentDecisionIn(_In):
    items: list[Item] | None = Field(None, max_length=16, description="逐项同意：只同意这些（默认全部）")


class ConsentDisclosure(ConsentOut):
    values: dict[str, object] = Field(description="持码人同意提供的信息（仅限已同意的项）")
