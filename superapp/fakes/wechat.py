"""A fake WeChat API (api.weixin.qq.com) for dev mode and tests.

Implements what we call, with WeChat's real error codes:
* ``GET /cgi-bin/token``: access token for the configured appid + secret (else 40013 / 40125);
* ``GET /sns/jscode2session``: login codes ``test-<name>`` -> a stable openid per name
  (and a unionid); any other code -> 40029 invalid code;
* ``POST /wxa/business/getuserphonenumber``: codes ``test-<11-digit phone>`` -> that
  phone; any other code -> 40029; a bad access token -> 40001;
* ``POST /cgi-bin/message/subscribe/send``: accepts and records subscribe messages.

Test helpers under ``/__fake__/``: the recorded messages, and failure injection.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from typing import Any

import tornado.web

from superapp.fakes.base import FakeServer

_NAME = re.compile(r"^test-([A-Za-z0-9_.-]{1,40})$")
_PHONE = re.compile(r"^test-(1[3-9][0-9]{9})$")


def openid_for(appid: str, name: str) -> str:
    digest = hashlib.sha256(f"openid:{appid}:{name}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def unionid_for(name: str) -> str:
    digest = hashlib.sha256(f"unionid:{name}".encode()).digest()
    return "u" + base64.urlsafe_b64encode(digest).decode()[:27]


class FakeWeChatState:
    def __init__(self, appid: str, secret: str):
        self.appid = appid
        self.secret = secret
        self.tokens: dict[str, float] = {}
        self.messages: list[dict[str, Any]] = []
        self.fail_next: list[int] = []  # errcodes to return for the next subscribe sends
        self.calls: list[str] = []
        self.hold_seconds = 0.0  # keep subscribe sends waiting (to kill a sender mid-delivery)
        self.inflight = 0

    def token_ok(self, token: str | None) -> bool:
        return bool(token) and self.tokens.get(token, 0) > time.time()


class _Handler(tornado.web.RequestHandler):
    def initialize(self, state: FakeWeChatState) -> None:
        self.state = state

    def reply(self, body: dict[str, Any]) -> None:
        self.state.calls.append(self.request.path)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body, ensure_ascii=False))

    def error(self, code: int, msg: str) -> None:
        self.reply({"errcode": code, "errmsg": f"{msg} rid: {secrets.token_hex(4)}"})

    def body_json(self) -> dict[str, Any]:
        try:
            return json.loads(self.request.body or b"{}")
        except ValueError:
            return {}


class TokenHandler(_Handler):
    def get(self) -> None:
        if self.get_argument("appid", "") != self.state.appid:
            return self.error(40013, "invalid appid")
        if self.get_argument("secret", "") != self.state.secret:
            return self.error(40125, "invalid appsecret")
        token = "fake-at-" + secrets.token_urlsafe(24)
        self.state.tokens[token] = time.time() + 7200
        self.reply({"access_token": token, "expires_in": 7200})


class CodeToSessionHandler(_Handler):
    def get(self) -> None:
        if self.get_argument("appid", "") != self.state.appid or self.get_argument("secret", "") != self.state.secret:
            return self.error(40125, "invalid appsecret")
        m = _NAME.match(self.get_argument("js_code", ""))
        if not m:
            return self.error(40029, "invalid code")
        name = m.group(1)
        self.reply({"openid": openid_for(self.state.appid, name), "unionid": unionid_for(name),
                    "session_key": base64.b64encode(secrets.token_bytes(16)).decode()})


class PhoneNumberHandler(_Handler):
    def post(self) -> None:
        if not self.state.token_ok(self.get_argument("access_token", None)):
            return self.error(40001, "invalid credential, access_token is invalid or not latest")
        m = _PHONE.match(str(self.body_json().get("code", "")))
        if not m:
            return self.error(40029, "invalid code")
        phone = m.group(1)
        self.reply({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
            "watermark": {"timestamp": int(time.time()), "appid": self.state.appid}}})


class SubscribeSendHandler(_Handler):
    async def post(self) -> None:
        if not self.state.token_ok(self.get_argument("access_token", None)):
            return self.error(40001, "invalid credential, access_token is invalid or not latest")
        body = self.body_json()
        if not body.get("touser") or not body.get("template_id") or not isinstance(body.get("data"), dict):
            return self.error(47003, "argument invalid!")
        if self.state.fail_next:
            return self.error(self.state.fail_next.pop(0), "system error")
        if self.state.hold_seconds:
            self.state.inflight += 1
            try:
                await asyncio.sleep(self.state.hold_seconds)
            finally:
                self.state.inflight -= 1
            if self.request.connection.stream.closed():
                return  # the sender went away before the request completed: nothing was sent
        self.state.messages.append({**body, "received_at": time.time()})
        self.reply({"errcode": 0, "errmsg": "ok", "msgid": int(time.time() * 1000)})


class FakeMessagesHandler(_Handler):
    def get(self) -> None:
        self.reply({"items": self.state.messages})


def make_fake_wechat(appid: str, secret: str) -> tuple[FakeServer, FakeWeChatState]:
    state = FakeWeChatState(appid, secret)
    kw = {"state": state}
    app = tornado.web.Application([
        (r"/cgi-bin/token", TokenHandler, kw),
        (r"/sns/jscode2session", CodeToSessionHandler, kw),
        (r"/wxa/business/getuserphonenumber", PhoneNumberHandler, kw),
        (r"/cgi-bin/message/subscribe/send", SubscribeSendHandler, kw),
        (r"/__fake__/messages", FakeMessagesHandler, kw),
    ])
    return FakeServer(app), state
