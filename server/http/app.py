"""The Tornado application of the platform: routes handed in by the composition root,
the caller's authenticator, security headers and the JSON access log."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import tornado.web
from tornado.web import URLSpec

from server.config import HttpConfig, LogConfig
from server.http.base import NotFoundHandler, request_id_of
from server.http.compression import Compression
from server.principal import Authenticator

access_log = logging.getLogger("superapp.access")

SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class PlatformApp(tornado.web.Application):
    """Every route, tried in order, is also described in ``/openapi.json``."""

    def __init__(self, routes: list[URLSpec], http: HttpConfig, log: LogConfig, authenticator: Authenticator,
                 hsts: bool, openapi_enums: dict[str, list[str]] | None = None, **settings: Any):
        self.inflight = 0
        self.api_routes = routes
        self.openapi_enums = openapi_enums or {}  # values known at run time, for fields marked x-enum
        self.http_config = http
        self.log_config = log
        self.authenticator = authenticator
        self.security_headers = SECURITY_HEADERS + ([HSTS] if hsts else [])
        super().__init__(routes, transforms=[Compression], default_handler_class=NotFoundHandler,
                         xheaders=http.xheaders, **settings)

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        if not self.log_config.access_log or not access_log.isEnabledFor(logging.INFO):
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
