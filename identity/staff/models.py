"""Request and response models of staff login."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from server.models import Input as _In


class StaffLoginIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    totp: str = Field(pattern=r"^[0-9]{6}$", description="动态口令（6 位）")


class StaffOut(BaseModel):
    username: str
    name: str
    department: str
    department_name: str
    roles: list[str]


class StaffLoginOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    staff: StaffOut
