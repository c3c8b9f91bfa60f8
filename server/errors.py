"""One error family for the whole product.

Services raise these; they know nothing of HTTP. The HTTP layer (``server.http.problem``)
turns each kind into a status and an ``application/problem+json`` body with a stable
machine ``code``, a Chinese ``title`` for people and per-field ``errors``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class AppError(Exception):
    """Base of every error a client may see. Subclasses fix the kind (and so the status)."""

    kind = "internal"
    default_code = "internal_error"
    default_title = "服务器内部错误"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        self.code = code or self.default_code
        self.title = title or self.default_title
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(f"{self.code}: {self.detail}")


class InvalidInput(AppError):
    kind = "invalid_input"
    default_code = "validation_failed"
    default_title = "请求参数有误"


class Unauthenticated(AppError):
    kind = "unauthenticated"
    default_code = "unauthenticated"
    default_title = "请先登录"


class PermissionDenied(AppError):
    kind = "forbidden"
    default_code = "forbidden"
    default_title = "无权进行此操作"


class NotFound(AppError):
    kind = "not_found"
    default_code = "not_found"
    default_title = "未找到请求的资源"


class Conflict(AppError):
    kind = "conflict"
    default_code = "conflict"
    default_title = "操作与当前状态冲突"


class Gone(AppError):
    kind = "gone"
    default_code = "gone"
    default_title = "已过期或已失效"


class Unprocessable(AppError):
    kind = "unprocessable"
    default_code = "unprocessable"
    default_title = "请求无法处理"


class PayloadTooLarge(AppError):
    kind = "too_large"
    default_code = "payload_too_large"
    default_title = "请求内容过大"


class UnsupportedMediaType(AppError):
    kind = "unsupported_media_type"
    default_code = "unsupported_media_type"
    default_title = "不支持的内容类型"


class RateLimited(AppError):
    kind = "rate_limited"
    default_code = "rate_limited"
    default_title = "操作过于频繁，请稍后再试"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kw: Any):
        headers = {"Retry-After": str(max(1, int(retry_after)))}
        extra = {"retry_after": max(1, int(retry_after))}
        super().__init__(detail, headers=headers, extra=extra, **kw)


class Unavailable(AppError):
    kind = "unavailable"
    default_code = "service_unavailable"
    default_title = "服务暂时不可用"

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None, **kw: Any):
        if retry_after is not None:
            kw["headers"] = {**kw.get("headers", {}), "Retry-After": str(max(1, int(retry_after)))}
            kw["extra"] = {**kw.get("extra", {}), "retry_after": max(1, int(retry_after))}
        super().__init__(detail, **kw)
