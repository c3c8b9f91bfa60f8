"""Request and response models of 一件事 bundles."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from matters.applying.models import MaterialIn
from server.models import Input as _In


class BundleApplicationIn(_In):
    bundle: str = Field(min_length=1, max_length=40)
    form: dict[str, Any]
    materials: list[MaterialIn] = Field(default_factory=list, max_length=40)


class BundleChild(BaseModel):
    id: str
    number: str
    matter: str
    matter_name: str
    department_name: str
    state: str
    state_name: str
    deadline: str | None
    version: int


class BundleApplication(BaseModel):
    id: str
    number: str
    bundle: str
    bundle_name: str
    state: Literal["in_progress", "supplement_requested", "partially_denied", "completed"]
    progress: dict[str, int]
    children: list[BundleChild]
