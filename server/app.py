"""The Tornado application factory."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import tornado.web
from tornado.web import URLSpec

from identity import code_views, enterprise_views
from identity import views as identity_views
from server import dev, kiosk_views
from server.context import AppContext
from server.http import system
from server.http.base import NotFoundHandler, request_id_of

access_log = logging.getLogger("superapp.access")


def api_routes(ctx: AppContext) -> list[URLSpec]:
    """Every route of the product; dev routes only when dev endpoints are on."""
    routes: list[URLSpec] = [
        *system.routes(), *identity_views.routes(), *enterprise_views.routes(), *code_views.routes(),
        *kiosk_views.routes(),
    ]
    if ctx.settings.dev_endpoints:
        routes += dev.routes()
    return routes


class SuperApp(tornado.web.Application):
    def __init__(self, ctx: AppContext, routes: list[URLSpec], **settings: Any):
        self.inflight = 0
        self.api_routes = routes
        super().__init__(
            routes,
            ctx=ctx,
            default_handler_class=NotFoundHandler,
            compress_response=True,
            xheaders=ctx.settings.http.xheaders,
            **settings,
        )

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        ctx: AppContext = self.settings["ctx"]
        if not ctx.settings.log.access_log:
            return
        req = handler.request
        status = handler.get_status()
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": request_id_of(req),
            "method": req.method,
            "path": req.path,
            "status": status,
            "ms": round(1000.0 * req.request_time(), 2),
            "ip": req.remote_ip,
            "bytes_in": _content_length(req),
            "ua": req.headers.get("User-Agent", "")[:200],
        }
        level = logging.INFO if status < 500 else logging.ERROR
        access_log.log(level, json.dumps(entry, ensure_ascii=False))


def _content_length(req: Any) -> int:
    try:
        return int(req.headers.get("Content-Length", 0))
    except ValueError:
        return -1


def make_app(ctx: AppContext, extra_routes: list[URLSpec] | None = None) -> SuperApp:
    return SuperApp(ctx, [*api_routes(ctx), *(extra_routes or [])])
