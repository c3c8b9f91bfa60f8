"""Base request handler: JSON in and out, problem+json errors, limits, headers, CORS.

Handlers stay thin: parse (via :func:`server.http.routing.operation`), authorise,
call one service method, render.
"""
from __future__ import annotations

import json
import logging
import os
import re
import traceback
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic_core
import tornado.web
from pydantic import BaseModel, ValidationError

from server import audit
from server.errors import (
    Unavailable,
    AppError,
    FieldError,
    InvalidInput,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from server.http import problem
from server.http.routing import IDEMPOTENCY_KEY_PATTERN
from server.models import problems_in
from server.outages import as_unavailable
from server.principal import Caller, Principal, require_level, require_proxy_scope

if TYPE_CHECKING:
    from server.http.app import PlatformApp

log = logging.getLogger("superapp.http")
M = TypeVar("M", bound=BaseModel)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def request_id_of(request: tornado.httputil.HTTPServerRequest) -> str:
    rid = getattr(request, "_superapp_request_id", None)
    if rid is None:
        incoming = request.headers.get("X-Request-Id", "")
        rid = incoming if incoming and _REQUEST_ID_RE.match(incoming) else os.urandom(16).hex()
        request._superapp_request_id = rid  # type: ignore[attr-defined]
    return rid


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


_OPTIONAL: dict[type, bool] = {}


def _all_optional(model: type[BaseModel]) -> bool:
    known = _OPTIONAL.get(model)
    if known is None:
        known = _OPTIONAL[model] = not any(f.is_required() for f in model.model_fields.values())
    return known


class _AnyMethod(tuple):
    """Tornado answers a method outside SUPPORTED_METHODS with 405 before the request is
    read, which leaves the connection unusable; every method is let in instead and a
    method the handler lacks gets its 405 after the request is read."""

    def __contains__(self, method: object) -> bool:
        return True


_STANDARD_METHODS = frozenset(tornado.web.RequestHandler.SUPPORTED_METHODS)


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    """Every handler of the product derives from this one."""

    SUPPORTED_METHODS = _AnyMethod(tornado.web.RequestHandler.SUPPORTED_METHODS)  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        request = self.__dict__.get("request")
        if request is not None and request.method not in _STANDARD_METHODS and name == request.method.lower():
            return self._method_not_allowed
        raise AttributeError(name)

    async def _method_not_allowed(self, *args: Any, **kwargs: Any) -> None:
        raise tornado.web.HTTPError(405)

    #: Largest body this handler accepts; ``None`` = ``http.max_body_bytes`` from config.
    max_body_bytes: int | None = None
    #: Content-Security-Policy for this handler's responses.
    content_security_policy = API_CSP

    # -- lifecycle ---------------------------------------------------------------------

    application: "PlatformApp"

    @property
    def request_id(self) -> str:
        return request_id_of(self.request)

    def set_default_headers(self) -> None:
        # Plain ASCII constants go straight into the header map (set_header would
        # re-validate each on every request).
        headers = self._headers
        del headers["Server"]
        headers["X-Request-Id"] = self.request_id
        for name, value in self.application.security_headers:
            headers[name] = value
        headers["Content-Security-Policy"] = self.content_security_policy
        if self.request.headers.get("Origin") is not None:
            self._set_cors_headers()

    def prepare(self) -> None:
        self._count_in()
        audit.begin_request()
        self._body_chunks: list[bytes] = []
        self._body_size = 0
        self._too_large = False
        limit = self.body_limit()
        declared = self.request.headers.get("Content-Length")
        if declared is not None:
            try:
                declared_n = int(declared)
            except ValueError:
                raise InvalidInput("Content-Length 无效", code="bad_content_length") from None
            if declared_n > limit:
                raise PayloadTooLarge(f"请求体不能超过 {limit} 字节", extra={"limit": limit})
        # A chunked body is counted in data_received (so it gets the same 413 problem); the
        # server's hard cap stays with Tornado.

    def data_received(self, chunk: bytes) -> None:
        if self._too_large or self._finished:
            return
        self._body_size += len(chunk)
        limit = self.body_limit()
        if self._body_size > limit:
            self._too_large = True
            self._body_chunks.clear()
            err = PayloadTooLarge(f"请求体不能超过 {limit} 字节", extra={"limit": limit})
            self.send_error(413, exc_info=(PayloadTooLarge, err, None))
            return
        self._body_chunks.append(chunk)

    # Every way a request ends (finished, failed in prepare, aborted by the client, cut off
    # by the server) counts it out exactly once, so a graceful stop waits for real work only.
    def _count_in(self) -> None:
        if not getattr(self, "_counted", False):
            self._counted = True
            self.application.inflight += 1

    def _count_out(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            self.application.inflight -= 1

    def on_finish(self) -> None:
        self._count_out()

    def on_connection_close(self) -> None:
        self._count_out()
        super().on_connection_close()

    def body_limit(self) -> int:
        return self.max_body_bytes or self.application.http_config.max_body_bytes

    # -- CORS ----------------------------------------------------------------------------

    def _set_cors_headers(self) -> None:
        origin = self.request.headers.get("Origin")
        if not origin or origin not in self.application.http_config.cors_origins:
            return
        self.set_header("Access-Control-Allow-Origin", origin)
        self.set_header("Vary", "Origin")
        self.set_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Location")

    async def options(self, *args: Any, **kwargs: Any) -> None:
        """CORS pre-flight."""
        if "Access-Control-Allow-Origin" in self._headers:
            self.set_header("Access-Control-Allow-Methods", ", ".join(self.allowed_methods()))
            self.set_header(
                "Access-Control-Allow-Headers",
                "Authorization, Content-Type, Idempotency-Key, X-Request-Id",
            )
            self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    def allowed_methods(self) -> list[str]:
        out = []
        for m in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if getattr(type(self), m.lower()) is not getattr(tornado.web.RequestHandler, m.lower()):
                out.append(m)
        return out

    # -- authentication --------------------------------------------------------------------

    async def authenticate(self, channels: frozenset[str], min_level: int = 0,
                           check_revocation: bool = True, proxy: str | None = None) -> Principal:
        """The caller's verified, unrevoked access token for one of ``channels``. A proxy acting
        for a person (亲友代办) passes only where ``proxy`` names a scope of their grant, and
        what the request records is recorded as done by the proxy on the person's behalf."""
        token = self.bearer_token()
        if not token:
            raise Unauthenticated("请先登录", code="token_missing")
        principal = await self.application.authenticator.authenticate(token, channels, check_revocation)
        if principal.proxy is not None:
            require_proxy_scope(principal, proxy)
            audit.acting_for(principal.subject, principal.proxy.proxy_id)
        if principal.level < min_level:
            require_level(principal, min_level)
        return principal

    def caller(self, channel: str) -> Caller:
        """Where this request comes from, for the audit trail."""
        return Caller(channel=channel, ip=self.client_ip)

    def idempotency_key(self) -> str:
        """The ``Idempotency-Key`` header every create a retry could duplicate must carry."""
        key = self.request.headers.get("Idempotency-Key", "")
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            raise InvalidInput("请求头 Idempotency-Key 必填（1-100 个可见 ASCII 字符）", code="idempotency_key_required",
                               errors=[FieldError("Idempotency-Key", "必填，1-100 个可见 ASCII 字符（不含空格）")])
        return key

    def bearer_token(self) -> str:
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    @property
    def client_ip(self) -> str:
        return self.request.remote_ip or ""

    # -- input -----------------------------------------------------------------------------

    def raw_body(self) -> bytes:
        return b"".join(self._body_chunks)

    def _json_bytes(self) -> bytes:
        """The body, checked to be present and declared as JSON."""
        body = self.raw_body()
        if not body.strip():
            raise InvalidInput("请求体不能为空，应为 JSON 对象", code="body_required")
        ctype = self.request.headers.get("Content-Type", "")
        mime = ctype.split(";")[0].strip().lower()
        if mime != "application/json" and not (mime.startswith("application/") and mime.endswith("+json")):
            raise UnsupportedMediaType("请求体应为 JSON（Content-Type: application/json）")
        return body

    def json_body(self) -> Any:
        body = self._json_bytes()
        try:
            # pydantic-core's parser: strict JSON (no NaN/Infinity), UTF-8, bounded depth
            return pydantic_core.from_json(body, allow_inf_nan=False)
        except (ValueError, RecursionError) as e:
            raise InvalidInput("请求体不是合法的 JSON", code="malformed_json",
                               extra={"reason": str(e)[:200]}) from None

    def parse_body(self, model: type[M]) -> M:
        if not self.raw_body().strip() and _all_optional(model):
            return model()  # every field is optional: an empty body is fine
        data = self.json_body()
        bad = problems_in(data)
        if bad:
            raise InvalidInput(f"请求体有 {len(bad)} 处错误，请检查后重试", errors=bad)
        try:
            return model.model_validate(data)
        except ValidationError as e:
            raise problem.invalid_input_from(e) from None

    def parse_query(self, model: type[M]) -> M:
        data: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            key = field.alias or name
            values = self.request.query_arguments.get(key)
            if values is None:
                continue
            decoded = [v.decode("utf-8", "replace") for v in values]
            is_list = getattr(field.annotation, "__origin__", None) is list
            data[key] = decoded if is_list else decoded[-1]
        sanitised = getattr(model, "__sanitised__", frozenset())
        bad = problems_in({k: v for k, v in data.items() if k not in sanitised})
        if bad:
            raise InvalidInput(f"查询参数有 {len(bad)} 处错误，请检查后重试", errors=bad)
        try:
            return model.model_validate(data)
        except ValidationError as e:
            raise problem.invalid_input_from(e, where="查询参数") from None

    # -- output -------------------------------------------------------------------------

    def send_json(self, obj: Any, status: int = 200) -> None:
        body = obj.model_dump_json(by_alias=True) if isinstance(obj, BaseModel) else dumps(obj)
        self.set_status(status)
        self._headers["Content-Type"] = JSON_CONTENT_TYPE
        self.finish(body)

    def send_problem(self, status: int, body: dict[str, Any]) -> None:
        body.setdefault("request_id", self.request_id)
        self.set_status(status)
        self.set_header("Content-Type", problem.PROBLEM_CONTENT_TYPE)
        if not self._finished:
            self.finish(dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AppError):
            status, body = problem.from_app_error(exc)
            for k, v in exc.headers.items():
                self.set_header(k, v)
            if status == 401:
                self.set_header("WWW-Authenticate", 'Bearer realm="superapp", error="invalid_token"')
        elif isinstance(exc, tornado.web.HTTPError) and status_code < 500:
            status, body = status_code, problem.from_status(status_code)
            if status_code == 405:
                self.set_header("Allow", ", ".join(self.allowed_methods() + ["OPTIONS"]))
        else:
            status = status_code
            body = problem.from_status(
                status_code, f"服务器处理请求时出错，请稍后重试（请求编号 {self.request_id}）"
            )
        if status == 413:
            # Answered before the whole body is read: the connection cannot be reused, so say so.
            self.set_header("Connection", "close")
        self.send_problem(status, body)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, Unavailable):
            log.warning("request %s: %s", self.request_id, value)
            return
        if isinstance(value, AppError) and problem.STATUS_BY_KIND.get(value.kind, 500) < 500:
            log.info("request %s: %s", self.request_id, value)
            return
        if isinstance(value, tornado.web.HTTPError) and value.status_code < 500:
            return
        log.error(
            "unhandled error in %s %s (request %s)\n%s",
            self.request.method,
            self.request.path,
            self.request_id,
            "".join(traceback.format_exception(typ, value, tb)),
        )

    def _handle_request_exception(self, e: BaseException) -> None:
        outage = as_unavailable(e)
        if outage is not None:
            log.warning("request %s %s: %s (%s)", self.request_id, self.request.path, outage.code, e)
            e = outage
        if isinstance(e, AppError):
            self.log_exception(type(e), e, e.__traceback__)
            if not self._finished:
                self.send_error(problem.STATUS_BY_KIND.get(e.kind, 500), exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)


class NotFoundHandler(BaseHandler):
    """Any path no route matches: a 404 problem+json, whatever the method — answered after
    the request (and any body) is read, so a keep-alive connection stays usable."""

    async def _not_found(self, *args: Any, **kwargs: Any) -> None:
        raise tornado.web.HTTPError(404)

    get = post = put = patch = delete = head = _not_found  # type: ignore[assignment]

    def allowed_methods(self) -> list[str]:
        return []
