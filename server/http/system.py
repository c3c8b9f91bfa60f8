"""Operational endpoints: /healthz, /readyz, /openapi.json, /docs."""
from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import BaseModel

from server import health
from server.errors import FieldError, Unavailable
from server.http.base import BaseHandler
from server.http.openapi import build_openapi
from server.http.routing import operation, route

TAGS = ["运维 Operations"]
_DOCS_PAGE = Path(__file__).with_name("docs.html").read_text(encoding="utf-8")


class Liveness(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


class HealthzHandler(BaseHandler):
    @operation("进程存活检查（liveness）", tags=TAGS, response=Liveness)
    async def get(self) -> Liveness:
        return Liveness(status="ok")


class ReadyzHandler(BaseHandler):
    def initialize(self, probes: health.Probes) -> None:
        self.probes = probes

    @operation("就绪检查：MongoDB 与 Redis 是否可用（readiness）", tags=TAGS, response=Readiness, errors=(503,))
    async def get(self) -> Readiness:
        checks = await health.readiness(self.probes)
        down = {name: state for name, state in checks.items() if state != "ok"}
        if down:
            raise Unavailable(
                "依赖服务不可用：" + "、".join(down),
                code="not_ready",
                errors=[FieldError(name, f"无法连接（{state}）") for name, state in down.items()],
                extra={"checks": checks},
            )
        return Readiness(status="ready", checks=checks)


class OpenApiHandler(BaseHandler):
    @operation("OpenAPI 3.1 接口描述（由路由与模型生成）", tags=TAGS)
    async def get(self) -> dict:
        doc = self.application.settings.get("openapi")
        if doc is None:
            doc = build_openapi(self.application.api_routes, title="政务超级应用 API", version="v1",
                                enums=self.application.openapi_enums)
            self.application.settings["openapi"] = doc
        self.set_header("Cache-Control", "no-cache")
        return doc


class DocsHandler(BaseHandler):
    @operation("接口文档页面（渲染 /openapi.json）", tags=TAGS, content_type="text/html")
    async def get(self) -> None:
        nonce = secrets.token_urlsafe(16)
        self.set_header(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "img-src 'self' data:; frame-ancestors 'none'",
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(_DOCS_PAGE.replace("{{nonce}}", nonce))


def routes(probes: health.Probes) -> list:
    """``probes``: name -> a call that succeeds when that dependency answers."""
    return [
        route(r"/healthz", HealthzHandler),
        route(r"/readyz", ReadyzHandler, probes=probes),
        route(r"/openapi.json", OpenApiHandler),
        route(r"/docs/?", DocsHandler),
    ]
