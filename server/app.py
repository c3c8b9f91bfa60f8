"""The Tornado application factory."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import tornado.web
from tornado.web import URLSpec

from card_wallet import views as wallet_views
from identity import code_views, enterprise_views
from identity import views as identity_views
from server import dev, kiosk_views
from server.matters import views as matters_views
from server.context import AppContext
from server.http import h5, system
from server.http.base import NotFoundHandler, request_id_of

access_log = logging.getLogger("superapp.access")


def api_routes(ctx: AppContext) -> list[URLSpec]:
    """Every route of the product; dev routes only when dev endpoints are on."""
    # Kiosk routes first: the scan is the hot path and Tornado tries routes in order.
    routes: list[URLSpec] = [
        *kiosk_views.routes(), *system.routes(), *identity_views.routes(), *enterprise_views.routes(),
        *code_views.routes(), *wallet_views.routes(), *matters_views.routes(),
    ]
    if ctx.settings.dev_endpoints:
        routes += dev.routes()
    return routes


SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class SuperApp(tornado.web.Application):
    def __init__(self, ctx: AppContext, routes: list[URLSpec], **settings: Any):
        self.inflight = 0
        self.api_routes = routes
        # Set on every response; HSTS only in production (dev runs on plain http).
        self.security_headers = SECURITY_HEADERS + ([] if ctx.settings.is_dev else [HSTS])
        super().__init__(
            routes,
            ctx=ctx,
            default_handler_class=NotFoundHandler,
            xheaders=ctx.settings.http.xheaders,
            **settings,
        )

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        ctx: AppContext = self.settings["ctx"]
        if not ctx.settings.log.access_log or not access_log.isEnabledFor(logging.INFO):
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
    # The H5 app comes last: any path no API route claims is the front end's.
    return SuperApp(ctx, [*api_routes(ctx), *(extra_routes or []), *h5.routes(ctx.settings.path("h5/dist"))])
