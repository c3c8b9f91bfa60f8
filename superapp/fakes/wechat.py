"""A fake WeChat API (api.weixin.qq.com) for dev mode and tests.

Implements what we call, with WeChat's real error codes:
* ``GET /cgi-bin/token``: access token for the configured appid + secret (else 40013 / 40125);
* ``GET /sns/jscode2session``: login codes ``test-<name>`` -> a stable openid per name
  (and a unionid); any other code -> 40029 invalid code;
* ``POST /wxa/business/getuserphonenumber``: codes ``test-<11-digit phone>`` -> that
  phone; any other code -> 40029; a bad access token -> 40001;
* ``POST /cgi-bin/message/subscribe/send``: accepts and records subscribe messages;
* the official account's web authorisation (open.weixin.qq.com): ``GET /connect/oauth2/authorize``
  sends the browser back to ``redirect_uri`` with a one-use ``code`` and the ``state``, for the
  WeChat user the browser "is" (cookie ``fake_wechat_user``, else a page asks for a name), and
  ``GET /sns/oauth2/access_token`` turns that code into the user's openid under the account.

Test helpers under ``/__fake__/``: the recorded messages, and failure injection.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

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
    def __init__(self, appid: str, secret: str, oa_appid: str = "", oa_secret: str = ""):
        self.appid = appid
        self.secret = secret
        self.oa_appid = oa_appid
        self.oa_secret = oa_secret
        self.web_codes: dict[str, tuple[str, float, str]] = {}  # web authorisation code -> (user, expires, scope)
        self.used_web_codes: set[str] = set()
        self.fail_web_codes = 0  # answer the next n code exchanges with -1 system busy (the code stays good)
        self.web_code_seconds = 300.0  # how long a web authorisation code is good for (WeChat: 5 minutes)
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


_USER_FORM = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>微信授权（模拟）</title>
<main><h1>微信网页授权（模拟）</h1><p>此页代替微信客户端：以哪位微信用户授权？</p>
<form method="get"><input type="hidden" name="_q" value="{query}">
<label>微信用户名 <input name="user" required pattern="[A-Za-z0-9_.-]{{1,40}}"></label>
<button type="submit">授权</button></form></main></html>"""


class WebAuthorizeHandler(_Handler):
    """open.weixin.qq.com/connect/oauth2/authorize: WeChat's client asks nothing for snsapi_base."""

    def get(self) -> None:
        if self.get_argument("user", ""):  # the dev form: remember who this browser is
            self.set_cookie("fake_wechat_user", self.get_argument("user"))
            return self.redirect(f"{self.request.path}?{self.get_argument('_q', '')}")
        appid, redirect = self.get_argument("appid", ""), self.get_argument("redirect_uri", "")
        if not self.state.oa_appid or appid != self.state.oa_appid:
            self.set_status(400)
            return self.finish("appid 参数错误（10002）")
        if urlsplit(redirect).scheme not in ("http", "https") or self.get_argument("response_type", "") != "code" \
                or self.get_argument("scope", "") not in ("snsapi_base", "snsapi_userinfo"):
            self.set_status(400)
            return self.finish("redirect_uri 参数错误（10003）")
        user = self.get_cookie("fake_wechat_user", "")
        if not _NAME.match(f"test-{user}"):
            return self.finish(_USER_FORM.format(query=html.escape(self.request.query)))
        code = secrets.token_hex(16)
        self.state.web_codes[code] = (user, time.time() + self.state.web_code_seconds, self.get_argument("scope"))
        query = urlencode({"code": code, "state": self.get_argument("state", "")})
        self.redirect(f"{redirect}{'&' if '?' in redirect else '?'}{query}")


class WebAccessTokenHandler(_Handler):
    def get(self) -> None:
        if not self.state.oa_appid or self.get_argument("appid", "") != self.state.oa_appid:
            return self.error(40013, "invalid appid")
        if self.get_argument("secret", "") != self.state.oa_secret:
            return self.error(40125, "invalid appsecret")
        if self.get_argument("grant_type", "") != "authorization_code":
            return self.error(40002, "invalid grant_type")
        if self.state.fail_web_codes:
            self.state.fail_web_codes -= 1
            return self.error(-1, "system error")
        code = self.get_argument("code", "")
        user, expires, scope = self.state.web_codes.pop(code, ("", 0.0, ""))
        if not user:
            return self.error(40163 if code in self.state.used_web_codes else 40029, "invalid code")
        self.state.used_web_codes.add(code)
        if expires < time.time():
            return self.error(42003, "code expired")
        self.reply({"access_token": "fake-web-at-" + secrets.token_urlsafe(16), "expires_in": 7200,
                    "refresh_token": "fake-web-rt-" + secrets.token_urlsafe(16),
                    "openid": openid_for(self.state.oa_appid, user), "scope": scope})


class FakeMessagesHandler(_Handler):
    def get(self) -> None:
        self.reply({"items": self.state.messages})


def make_fake_wechat(appid: str, secret: str, oa_appid: str = "", oa_secret: str = ""
                     ) -> tuple[FakeServer, FakeWeChatState]:
    state = FakeWeChatState(appid, secret, oa_appid, oa_secret)
    kw = {"state": state}
    app = tornado.web.Application([
        (r"/cgi-bin/token", TokenHandler, kw),
        (r"/sns/jscode2session", CodeToSessionHandler, kw),
        (r"/connect/oauth2/authorize", WebAuthorizeHandler, kw),
        (r"/sns/oauth2/access_token", WebAccessTokenHandler, kw),
        (r"/wxa/business/getuserphonenumber", PhoneNumberHandler, kw),
        (r"/cgi-bin/message/subscribe/send", SubscribeSendHandler, kw),
        (r"/__fake__/messages", FakeMessagesHandler, kw),
    ])
    return FakeServer(app), state
