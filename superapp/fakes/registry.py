"""A fake enterprise registry (法人库) for tests of the production provider
(``registry.provider = "http"``); the protocol is in identity/registry.py."""
from __future__ import annotations

from typing import Any

import tornado.web

from superapp.fakes.base import FakeServer


class _Handler(tornado.web.RequestHandler):
    def initialize(self, token: str, records: dict[str, dict[str, Any]]) -> None:
        self.token = token
        self.records = records

    def get(self, uscc: str) -> None:
        if self.request.headers.get("Authorization") != f"Bearer {self.token}":
            raise tornado.web.HTTPError(401)
        record = self.records.get(uscc)
        if record is None:
            raise tornado.web.HTTPError(404)
        self.finish(record)


def make_fake_registry(token: str, records: dict[str, dict[str, Any]]) -> FakeServer:
    return FakeServer(tornado.web.Application([
        (r"/v1/enterprises/([0-9A-Z]{18})", _Handler, {"token": token, "records": records}),
    ]))
