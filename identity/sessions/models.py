"""Request and response models of sessions: token pairs, refresh and logout."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from identity.sessions.service import TokenPair
from server.models import Input


class RefreshIn(Input):
    refresh_token: str = Field(min_length=10, max_length=200)


class LogoutIn(Input):
    refresh_token: str | None = Field(None, max_length=200)


class TokensOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime


def tokens_out(pair: TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, expires_in=pair.expires_in,
                     refresh_token=pair.refresh_token, refresh_expires_at=pair.refresh_expires_at)
