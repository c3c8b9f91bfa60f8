"""A fake identity-verification service for tests of the production provider
(``verification.provider = "http"``); the protocol is in identity/verification.py."""
from __future__ import annotations

import json

import tornado.web

from superapp.fakes.base import FakeServer


class FakeVerificationState:
    def __init__(self, token: str, people: dict[str, str]):
        self.token = token
        self.people = dict(people)  # id_number -> name
        self.calls: list[dict[str, str]] = []
        self.broken = False


class _Handler(tornado.web.RequestHandler):
    def initialize(self, state: FakeVerificationState, kind: str) -> None:
        self.state = state
        self.kind = kind

    def post(self) -> None:
        if self.request.headers.get("Authorization") != f"Bearer {self.state.token}":
            raise tornado.web.HTTPError(401)
        if self.state.broken:
            raise tornado.web.HTTPError(502)
        body = json.loads(self.request.body)
        self.state.calls.append({"kind": self.kind, **body})
        name = self.state.people.get(body["id_number"])
        if self.kind == "identity":
            result = "not_found" if name is None else ("match" if name == body["name"] else "mismatch")
        else:
            result = "pass" if name == body["name"] and body.get("evidence") == "live-ok" else "fail"
        self.finish({"result": result})


def make_fake_verification(token: str, people: dict[str, str]) -> tuple[FakeServer, FakeVerificationState]:
    state = FakeVerificationState(token, people)
    app = tornado.web.Application([
        (r"/v1/verify/identity", _Handler, {"state": state, "kind": "identity"}),
        (r"/v1/verify/face", _Handler, {"state": state, "kind": "face"}),
    ])
    return FakeServer(app), state
