"""Running a fake service: a Tornado app on a free loopback port, in this process."""
from __future__ import annotations

import socket

import tornado.httpserver
import tornado.netutil
import tornado.web


class FakeServer:
    def __init__(self, app: tornado.web.Application):
        self.app = app
        self.server: tornado.httpserver.HTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeServer":
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        self.server = tornado.httpserver.HTTPServer(self.app)
        self.server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()
            self.server = None
