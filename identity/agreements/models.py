"""Request and response models of the 用户协议 / 隐私政策 a person agrees to before logging in."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from server.models import Input

KINDS = ("user", "privacy")
Kind = Literal["user", "privacy"]
VersionText = str


class Agreement(BaseModel):
    kind: Kind = Field(description="user 用户协议 | privacy 隐私政策")
    title: str
    version: str = Field(description="版本号；新版本生效后，登录时须重新同意")
    effective: str = Field(description="生效日期")
    text: str


class AgreementsOut(BaseModel):
    items: list[Agreement]


class Accepted(Input):
    """The versions the person read and agreed to, e.g. ``{"user": "2026.12", "privacy": "2026.12"}``."""

    user: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z.\-]+$")
    privacy: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z.\-]+$")
