"""Base of every request model: unknown members are refused, strings are trimmed."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AccessOut(BaseModel):
    """An access token exchanged for a client assertion (kiosks, issuing authorities)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
