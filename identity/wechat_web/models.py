"""Shapes of the official account's web authorisation (paying inside WeChat's browser)."""
from __future__ import annotations

from pydantic import BaseModel, Field

from server.models import Input

# a page of our own H5 (no host, no "//"): where the person returns after WeChat's authorisation
RETURN_PATH = r"^/([A-Za-z0-9_\-.?=&%][A-Za-z0-9_\-./?=&%]*)?$"


class AuthorizeIn(Input):
    return_path: str = Field(max_length=200, pattern=RETURN_PATH, description="授权后回到的本站页面（以 / 开头）")


class AuthorizeOut(BaseModel):
    authorize_url: str = Field(description="微信网页授权地址（snsapi_base，静默授权）：在微信内打开")
    expires_in: int = Field(description="state 的有效期（秒）")


class BindIn(Input):
    code: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$", description="微信回传的 code")
    state: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9]+$", description="发起授权时的 state")


class BindOut(BaseModel):
    return_path: str = Field(description="发起授权时要回到的页面")
