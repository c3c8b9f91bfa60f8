"""``application/problem+json`` (RFC 9457) bodies for every error a client sees."""
from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from server.errors import AppError, FieldError, InvalidInput

PROBLEM_CONTENT_TYPE = "application/problem+json; charset=UTF-8"
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

STATUS_BY_KIND = {
    "invalid_input": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "gone": 410,
    "too_large": 413,
    "unsupported_media_type": 415,
    "unprocessable": 422,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}

# Errors raised by Tornado itself (routing, methods, protocol) -> code + Chinese title.
HTTP_STATUS_PROBLEMS = {
    400: ("bad_request", "请求格式有误"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "未找到请求的资源"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    500: ("internal_error", "服务器内部错误"),
    503: ("service_unavailable", "服务暂时不可用"),
}


def problem_type(code: str) -> str:
    return f"/problems/{code}"


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        # a field path may name a key the client sent: never echo control characters back
        "errors": [{"field": _UNSAFE.sub("?", e.field), "message": e.message} for e in errors or []],
    }
    for k, v in (extra or {}).items():
        body.setdefault(k, v)
    return body


def from_app_error(err: AppError) -> tuple[int, dict[str, Any]]:
    status = STATUS_BY_KIND.get(err.kind, 500)
    return status, problem_body(status, err.code, err.title, err.detail, err.errors, err.extra)


def from_status(status: int, detail: str | None = None) -> dict[str, Any]:
    code, title = HTTP_STATUS_PROBLEMS.get(status, (None, None))
    if code is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        title = "请求失败" if status < 500 else "服务器内部错误"
    return problem_body(status, code, title, detail or title)


# --- Pydantic validation errors -> per-field Chinese messages --------------------------

_MESSAGES = {
    "missing": "必填项缺失",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为布尔值（true/false）",
    "bool_parsing": "应为布尔值（true/false）",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多允许 {max_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "string_pattern_mismatch": "格式不正确",
    "literal_error": "取值应为 {expected} 之一",
    "enum": "取值应为 {expected} 之一",
    "datetime_type": "应为日期时间（ISO 8601）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "uuid_parsing": "应为 UUID",
    "json_invalid": "不是合法的 JSON",
    "union_tag_invalid": "类型不正确",
    "none_required": "应为空",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(body)"


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    out = []
    for e in exc.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        template = _MESSAGES.get(e["type"])
        if e["type"] == "value_error":
            # Our own validators raise ValueError with a Chinese message.
            msg = str(e.get("ctx", {}).get("error", e["msg"]))
        elif template:
            try:
                msg = template.format(**{k: v for k, v in (e.get("ctx") or {}).items()})
            except (KeyError, IndexError):
                msg = template
        else:
            msg = "格式不正确"
        path = _field_path(loc)
        out.append(FieldError(f"{prefix}{path}" if prefix else path, msg))
    return out


def invalid_input_from(exc: ValidationError, where: str = "请求体") -> InvalidInput:
    errs = field_errors(exc)
    return InvalidInput(f"{where}有 {len(errs)} 处错误，请检查后重试", errors=errs)
