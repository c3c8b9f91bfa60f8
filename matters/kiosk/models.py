"""Request and response models of a kiosk applying for the holder and collecting ratings."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from server.models import Input as _In


class KioskApplicationIn(_In):
    consent_id: str = Field(pattern=r"^c[0-9a-f]{24}$", description="持码人在手机上同意的本次授权")
    matter: str = Field(min_length=3, max_length=40)
    form: dict[str, Any] = Field(default_factory=dict, description="只需填写实名信息和授权证照之外的字段（如接种门诊）")
    situation: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,29}$", description="办理情形（事项有情形时必选）")


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
