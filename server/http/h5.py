"""Serving the H5 app (``h5/dist``, built by the set-up) with history-mode routing:
files under ``/assets/`` (content-hashed names) are cached for a year; a browser navigating
to any other path that is not an API path gets ``index.html`` (never cached), so deep links
work. A program (no ``text/html`` in Accept) asking for an unknown path, or any method other
than GET/HEAD, gets the usual 404 problem, as if the H5 app were not there."""
from __future__ import annotations

import asyncio
import mimetypes
import re
from pathlib import Path

from server.errors import NotFound, Unavailable
from server.http.base import BaseHandler
from server.http.routing import operation, route

H5_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; "
          "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'")
FILE_NAME = re.compile(r"\.[a-z][a-z0-9]{1,4}$")
NOT_H5 = r"(?!api/|\.well-known/|healthz$|readyz$|openapi\.json$|docs/?$|problems/)"


class H5Handler(BaseHandler):
    content_security_policy = H5_CSP

    def initialize(self, dist: Path) -> None:
        self.dist = dist.resolve()

    def prepare(self) -> None:
        super().prepare()
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            raise NotFound(code="not_found")

    @operation("H5 应用（居民端、企业门户、自助终端、审批工作台）：静态资源与前端路由", tags=["H5"],
               content_type="text/html", errors=(404, 503))
    async def get(self, path: str) -> None:
        index = self.dist / "index.html"
        if not index.is_file():
            raise Unavailable("H5 应用尚未构建：请运行 make run（会自动构建）", code="h5_not_built")
        target = (self.dist / path).resolve() if path else index
        if not target.is_relative_to(self.dist):
            raise NotFound(code="not_found")
        if not target.is_file():
            # a file name has an extension (".js", ".woff2"); a certificate id's dots do not end in one
            if path.startswith("assets/") or FILE_NAME.search(path.rsplit("/", 1)[-1]):
                raise NotFound("未找到该文件", code="not_found")
            if "text/html" not in self.request.headers.get("Accept", ""):
                raise NotFound(code="not_found")
            target = index  # a browser on a front-end route: the app decides
        data = await asyncio.to_thread(target.read_bytes)
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.set_header("Content-Type", f"{ctype}; charset=UTF-8" if ctype.startswith("text/") else ctype)
        self.set_header("Cache-Control", "public, max-age=31536000, immutable" if path.startswith("assets/")
                        else "no-cache")
        self.finish(data)


def routes(dist: Path) -> list:
    return [route(rf"/{NOT_H5}(?P<path>.*)", H5Handler, dist=dist)]
