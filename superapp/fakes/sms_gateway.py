"""A fake SMS gateway for tests of the production sender (``sms.sender = "http"``).

``POST /send`` with ``Authorization: Bearer <token>`` and
``{"phone", "sign", "template", "params"}`` -> 200 ``{"message_id"}``; a wrong token
-> 401; ``fail_next`` > 0 makes the next sends fail with 500.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

import tornado.web

from superapp.fakes.base import FakeServer


class FakeSmsState:
    def __init__(self, token: str):
        self.token = token
        self.messages: list[dict[str, Any]] = []
        self.fail_next = 0


class SendHandler(tornado.web.RequestHandler):
    def initialize(self, state: FakeSmsState) -> None:
        self.state = state

    def post(self) -> None:
        if self.request.headers.get("Authorization") != f"Bearer {self.state.token}":
            raise tornado.web.HTTPError(401)
        if self.state.fail_next > 0:
            self.state.fail_next -= 1
            raise tornado.web.HTTPError(500)
        body = json.loads(self.request.body)
        for key in ("phone", "sign", "template", "params"):
            if key not in body:
                raise tornado.web.HTTPError(400)
        self.state.messages.append(body)
        self.finish({"message_id": secrets.token_hex(8)})


def make_fake_sms_gateway(token: str) -> tuple[FakeServer, FakeSmsState]:
    state = FakeSmsState(token)
    return FakeServer(tornado.web.Application([(r"/send", SendHandler, {"state": state})])), state
