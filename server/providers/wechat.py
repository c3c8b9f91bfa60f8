"""WeChat API through wechatpy, against a configurable base URL.

wechatpy is synchronous (requests): every call runs in a thread pool so the IOLoop never
blocks. The access token lives in Redis (wechatpy's RedisStorage), shared by every
process, so processes do not keep invalidating each other's tokens.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import redis
import requests
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.exceptions import WeChatClientException
from wechatpy.oauth import WeChatOAuth
from wechatpy.session.redisstorage import RedisStorage

from server.errors import FieldError, InvalidInput, Unavailable

log = logging.getLogger("superapp.wechat")
T = TypeVar("T")

# WeChat error codes that mean "the code the client sent is no good".
BAD_CODE_ERRORS = {40029: "无效的 code", 40163: "code 已被使用", 42003: "code 已过期", 40226: "高风险用户，登录被拦截",
                   41008: "缺少 code"}


@dataclass(frozen=True)
class WxSession:
    openid: str
    unionid: str | None


def _client_class(base: str) -> type[WeChatClient]:
    """A WeChatClient whose every endpoint (incl. the token endpoint) uses ``base``."""

    class Wxa(WeChatWxa):
        API_BASE_URL = f"{base}/"

    class Client(WeChatClient):
        API_BASE_URL = f"{base}/cgi-bin/"
        wxa = Wxa()

        def fetch_access_token(self) -> dict[str, Any]:
            return self._fetch_access_token(
                url=f"{base}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return Client


@dataclass(frozen=True)
class OfficialAccount:
    """The official account (服务号) whose web authorisation gives a payer's openid in WeChat's
    browser; ``oauth_base_url`` empty = ``<api base>/connect`` (the fake serves both)."""
    appid: str
    secret: str
    oauth_base_url: str = ""


def _oauth_class(api_base: str, oauth_base: str, timeout: float) -> type[WeChatOAuth]:
    class OAuth(WeChatOAuth):
        API_BASE_URL = f"{api_base}/"
        OAUTH_BASE_URL = f"{oauth_base}/"

        def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
            return super()._request(method, url_or_endpoint, **{"timeout": timeout, **kwargs})

    return OAuth


class WeChatGateway:
    def __init__(self, base_url: str, appid: str, secret: str, sync_redis: Any, key_prefix: str,
                 executor: Executor, timeout: float = 5.0, official_account: OfficialAccount | None = None):
        """``sync_redis``: a blocking redis-py client (single, cluster or Sentinel master) for
        wechatpy's shared access token."""
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.official_account = official_account
        self._oauth_type = _oauth_class(
            self.base_url, (official_account.oauth_base_url or f"{self.base_url}/connect").rstrip("/"), timeout
        ) if official_account else None
        # one client (one HTTP session, kept alive) for every code exchange; only its result is read
        self._web = self._oauth("", "") if official_account else None
        self._sync_redis = sync_redis
        storage = RedisStorage(self._sync_redis, prefix=f"{key_prefix}wechatpy")
        self.client = _client_class(self.base_url)(appid, secret, session=storage, timeout=timeout)
        self.executor = executor

    async def _call(self, fn: Callable[[], T], stale: str = "微信授权已失效，请重新进入小程序后再试") -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, fn)
        except WeChatClientException as e:
            if e.errcode in BAD_CODE_ERRORS:
                raise InvalidInput(
                    stale, code="wechat_code_invalid",
                    errors=[FieldError("code", f"微信返回：{BAD_CODE_ERRORS[e.errcode]}（{e.errcode}）")],
                    extra={"wechat_errcode": e.errcode},
                ) from None
            log.warning("WeChat API error %s: %s", e.errcode, e.errmsg)
            raise Unavailable("微信服务暂时不可用，请稍后重试", code="wechat_unavailable",
                              extra={"wechat_errcode": e.errcode}) from None
        except (requests.RequestException, redis.RedisError, OSError) as e:
            log.warning("WeChat API unreachable: %s", e)
            raise Unavailable("微信服务暂时不可用，请稍后重试", code="wechat_unavailable") from None

    async def code_to_session(self, code: str) -> WxSession:
        result = await self._call(lambda: self.client.wxa.code_to_session(code))
        return WxSession(openid=result["openid"], unionid=result.get("unionid"))

    def _oauth(self, redirect_uri: str, state: str) -> WeChatOAuth:
        oa = self.official_account
        if oa is None or self._oauth_type is None:
            raise RuntimeError("no official account configured")
        return self._oauth_type(oa.appid, oa.secret, redirect_uri, scope="snsapi_base", state=state)

    def web_authorize_url(self, redirect_uri: str, state: str) -> str:
        """WeChat's silent web authorisation (snsapi_base) for the official account: WeChat
        sends the browser back to ``redirect_uri`` with ``code`` and ``state``."""
        return self._oauth(redirect_uri, state).authorize_url

    async def web_openid(self, code: str) -> str:
        """The openid (under the official account) that a web authorisation ``code`` stands for."""
        if self._web is None:
            raise RuntimeError("no official account configured")
        web = self._web
        result = await self._call(lambda: web.fetch_access_token(code),
                                  stale="微信授权已失效，请返回后重新点击支付")
        return result["openid"]

    async def phone_number(self, code: str) -> str:
        """getuserphonenumber (wechatpy has no helper): the phone the user authorised."""
        result = await self._call(lambda: self.client.post(
            "wxa/business/getuserphonenumber", data={"code": code}, api_base_url=f"{self.base_url}/"
        ))
        info = result.get("phone_info") or {}
        if info.get("countryCode", "86") != "86":
            raise InvalidInput("目前仅支持中国大陆手机号码", code="phone_not_supported")
        return info["purePhoneNumber"]

    async def send_subscribe_message(self, openid: str, template_id: str, data: dict[str, Any],
                                     page: str | None = None) -> dict[str, Any]:
        return await self._call(lambda: self.client.wxa.send_subscribe_message(openid, template_id, data, page))

    def close(self) -> None:
        self._sync_redis.close()
