"""Base of every request model, and the bounded types numbers and text are given.

Every number a client sends is bounded (JSON's safe integers at most, since canonical JSON
and MongoDB's 8-byte integers both end there); every string people may see is free of
control characters and of the bidi overrides that make text read differently from what it
is. Both are checked for whole request bodies too (``check_json``), so free-form values such
as an application's form are covered as well.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server.errors import FieldError

MAX_SAFE_INT = 2**53 - 1
MAX_VERSION = 2**31 - 1

# C0 controls except tab, line feed and carriage return; DEL and C1 controls; the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\t\r\n]")

EpochMs = Annotated[int, Field(ge=0, le=MAX_SAFE_INT)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION, description="当前版本号（防止两人同时处理）")]


def _single_line(value: str) -> str:
    if _FORBIDDEN.search(value) or _LINE_BREAKS.search(value):
        raise ValueError("不能包含控制字符或换行")
    return value


LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$"
Line = Annotated[str, AfterValidator(_single_line), Field(json_schema_extra={"pattern": LINE_PATTERN})]
"""A one-line text people see (a name, a title): no control characters, no line breaks."""


def problems_in(value: Any, path: str = "") -> list[FieldError]:
    """Numbers beyond JSON's safe integers and strings with control or bidi-override
    characters anywhere in a decoded JSON value, each named by its path (``form.x``)."""
    out: list[FieldError] = []
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack and len(out) < 20:
        where, v = stack.pop()
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int):
            if not -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
                out.append(FieldError(where or "(body)", f"数值超出范围（绝对值不能超过 {MAX_SAFE_INT}）"))
        elif isinstance(v, str):
            if _FORBIDDEN.search(v):
                out.append(FieldError(where or "(body)", "不能包含控制字符或文字方向控制符"))
        elif isinstance(v, dict):
            for k, item in v.items():
                key = str(k)
                sub = f"{where}.{key}" if where else key
                if _FORBIDDEN.search(key):
                    out.append(FieldError(sub, "字段名不能包含控制字符"))
                stack.append((sub, item))
        elif isinstance(v, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(v))
    return sorted(out, key=lambda e: e.field)


_MARKUP = re.compile(r"<[^>]*>")
_FILENAME_DROP = re.compile(r"[<>\"'`:*?|]")


def display_filename(name: str, default: str = "file") -> str:
    """A file name kept only to show people: the last path component, without markup,
    control characters or characters that mean something to a shell or a file system."""
    base = re.split(r"[\\/]", _MARKUP.sub("", name))[-1]
    cleaned = _FORBIDDEN.sub("", _LINE_BREAKS.sub("", _FILENAME_DROP.sub("", base))).strip(" .")
    return (cleaned or default)[:120]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AccessOut(BaseModel):
    """An access token exchanged for a client assertion (kiosks, issuing authorities)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
