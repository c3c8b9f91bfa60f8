"""Request and response models of notification delivery status (support staff)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class NotificationQuery(BaseModel):
    status: Literal["pending", "sending", "sent", "failed"] | None = None
    application_id: str | None = Field(None, pattern=r"^a[0-9a-f]{24}$")
    limit: int = Field(100, ge=1, le=500)


class NotificationOut(BaseModel):
    id: str
    application_id: str
    number: str
    state: str
    status: str
    channel: str | None
    attempts: int
    last_error: str | None
    created_at: int
    sent_at: int | None


class NotificationList(BaseModel):
    items: list[NotificationOut]
