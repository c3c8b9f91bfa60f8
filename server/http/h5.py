"""Serving the H5 app (``h5/dist``, built by the set-up) with history-mode routing:
files under ``/assets/`` (content-hashed names) are cached for a year; a browser navigating
to any other path that is not an API path gets ``index.html`` (never cached), so deep links
work. A program (no ``text/html`` in Accept) asking for an unknown path, or any method other
than GET/HEAD, gets the usual 404 problem, as if the H5 app were not there."""
from __future__ import annotations

import asyncio
import functools
import gzip
import mimetypes
import re
from pathlib import Path

from server.errors import NotFound, Unavailable
from server.http.base import BaseHandler
from server.http.routing import operation, route

H5_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; "
          "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'")
FILE_NAME = re.compile(r"\.[a-z][a-z0-9]{1,4}$")
NOT_H5 = r"(?!api/|open311/|\.well-known/|healthz$|readyz$|openapi\.json$|docs/?$|problems/)"
COMPRESSIBLE = (".js", ".css", ".html", ".svg", ".json", ".ttf", ".woff", ".ico", ".txt")


@functools.lru_cache(maxsize=256)
def _gzipped(path: str, mtime_ns: int) -> bytes:
    """An asset compressed once (level 9) and kept: assets are immutable, named by content."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


def wants_page(handler: BaseHandler) -> bool:
    """A browser navigating (a phone camera opening a link), not a program asking for JSON."""
    accept = handler.request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept


async def send_index(handler: BaseHandler, dist: Path) -> None:
    """The H5 app's page, for a front-end route that shares its address with an API (the
    verification link a QR code holds): the app then asks the same address for JSON."""
    index = dist / "index.html"
    if not index.is_file():
        raise Unavailable("H5 应用尚未构建：请运行 make run（会自动构建）", code="h5_not_built")
    handler.set_header("Content-Security-Policy", H5_CSP)
    handler.set_header("Content-Type", "text/html; charset=UTF-8")
    handler.set_header("Cache-Control", "no-cache")
    handler.set_header("Vary", "Accept")
    handler.finish(await asyncio.to_thread(index.read_bytes))


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
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if (path.startswith("assets/") and target.suffix in COMPRESSIBLE
                and "gzip" in self.request.headers.get("Accept-Encoding", "")):
            data = await asyncio.to_thread(_gzipped, str(target), target.stat().st_mtime_ns)
            self.set_header("Content-Encoding", "gzip")
            self.set_header("Vary", "Accept-Encoding")
        else:
            data = await asyncio.to_thread(target.read_bytes)
        self.set_header("Content-Type", f"{ctype}; charset=UTF-8" if ctype.startswith("text/") else ctype)
        self.set_header("Cache-Control", "public, max-age=31536000, immutable" if path.startswith("assets/")
                        else "no-cache")
        self.finish(data)


def routes(dist: Path) -> list:
    return [route(rf"/{NOT_H5}(?P<path>.*)", H5Handler, dist=dist)]
