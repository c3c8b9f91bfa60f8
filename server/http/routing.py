"""Declaring operations: one decorator gives a handler method its input parsing,
its response rendering and its OpenAPI description, so the docs cannot drift
from what the code does."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

from pydantic import BaseModel
from tornado.web import URLSpec

from server.principal import ANY_PROXY_SCOPE, PERSON_CHANNELS


@dataclass(frozen=True)
class Header:
    """A request header an operation reads."""

    description: str
    required: bool = False
    pattern: str | None = None
    max_length: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.pattern:
            out["pattern"] = self.pattern
        if self.max_length:
            out["maxLength"] = self.max_length
        return out


IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,100}$"
IDEMPOTENCY_KEY = Header("必填：客户端为这次提交生成的唯一键（1-100 个可见 ASCII 字符，重试时不变）", required=True,
                         pattern=IDEMPOTENCY_KEY_PATTERN, max_length=100)


@dataclass(frozen=True)
class Operation:
    summary: str
    tags: tuple[str, ...] = ()
    description: str | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Extra non-JSON success content type, e.g. "image/png".
    content_type: str | None = None
    errors: tuple[int, ...] = ()
    # Channels (token audiences) allowed to call; None = no authentication.
    auth: frozenset[str] | None = None
    min_level: int = 0
    # The service checks the token's revocation itself (in its own Redis round trip).
    revocation_in_service: bool = False
    headers: dict[str, Header] = field(default_factory=dict)  # request headers it reads
    # What a proxy acting for a person (亲友代办) needs in their grant to call it: a scope,
    # ANY_PROXY_SCOPE, or None (proxies may not: login, real name, proxies, closing …).
    proxy: str | None = None


def operation(
    summary: str,
    *,
    tags: tuple[str, ...] | list[str] = (),
    description: str | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    content_type: str | None = None,
    errors: tuple[int, ...] = (),
    auth: Iterable[str] | None = None,
    min_level: int = 0,
    revocation_in_service: bool = False,
    headers: dict[str, Header] | None = None,
    proxy: str | None = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Decorate an ``async def get/post/...`` of a :class:`BaseHandler`.

    ``auth`` (the channels allowed) authenticates first and passes ``principal``;
    ``body``/``query`` models are parsed and passed as the keyword arguments
    ``body``/``query``; a returned model or dict is sent as JSON with ``status``.
    """
    auth_set = frozenset(auth) if auth is not None else None
    if auth_set is not None:  # a person's token may be a proxy's, refused what the grant does not cover
        refusable = min_level or (auth_set & PERSON_CHANNELS and proxy != ANY_PROXY_SCOPE)
        errors = tuple(sorted(set(errors) | {401} | ({403} if refusable else set())))
    op = Operation(
        summary=summary,
        tags=tuple(tags),
        description=description,
        body=body,
        query=query,
        response=response,
        status=status,
        content_type=content_type,
        errors=tuple(errors),
        auth=auth_set,
        min_level=min_level,
        revocation_in_service=revocation_in_service,
        headers=dict(headers or {}),
        proxy=proxy,
    )

    def deco(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
            if op.auth is not None:
                kwargs["principal"] = await self.authenticate(op.auth, op.min_level,
                                                              check_revocation=not op.revocation_in_service,
                                                              proxy=op.proxy)
            if op.body is not None:
                kwargs["body"] = self.parse_body(op.body)
            if op.query is not None:
                kwargs["query"] = self.parse_query(op.query)
            result = await fn(self, *args, **kwargs)
            if self._finished:
                return
            if op.status == 204:
                self.set_status(204)
                self.finish()
            elif result is not None:
                self.send_json(result, op.status)

        wrapper.__operation__ = op  # type: ignore[attr-defined]
        return wrapper

    return deco


def route(pattern: str, handler: type, name: str | None = None, **kwargs: Any) -> URLSpec:
    """A route; path parameters are named groups, e.g. ``(?P<code>[^/]+)``; ``kwargs`` go to
    the handler's ``initialize``."""
    return URLSpec(pattern, handler, kwargs or None, name=name)
