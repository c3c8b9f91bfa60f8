"""Sending SMS: the sender is pluggable.

* :class:`DevOutboxSender` keeps messages in a Redis outbox (every process and the tests
  can read it; in dev mode also ``GET /api/v1/dev/sms-outbox?phone=``);
* :class:`HttpSmsSender` posts to an SMS gateway (production).

Phones are 11-digit mainland numbers or E.164 (``+852…``). A message names its template and,
where its wording differs by region (:func:`sms_region`: mainland; Hong Kong, Macao and Taiwan
in traditional characters; elsewhere in English), the template and sign of that region.
"""
from __future__ import annotations

import json
import time
from typing import Any, Literal, Protocol

import redis.asyncio as aioredis
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from server.errors import Unavailable
from server.pii import PiiCipher
from server.storage.redis import Keys

OUTBOX_SIZE = 50

SmsRegion = Literal["mainland", "hmt", "international"]
HMT_CALLING_CODES = ("+852", "+853", "+886")  # Hong Kong, Macao, Taiwan


def sms_region(phone: str) -> SmsRegion:
    """Where a number is (country calling codes are prefix-free, so a prefix decides)."""
    if not phone.startswith("+") or phone.startswith("+86"):
        return "mainland"
    return "hmt" if phone.startswith(HMT_CALLING_CODES) else "international"


class SmsSender(Protocol):
    async def send(self, phone: str, template: str, params: dict[str, str], text: str,
                   sign: str | None = None) -> None:
        """``template`` is the gateway's template id, ``text`` the message as sent (for the
        outbox); ``sign`` the 签名 when it is not the default one (another region's)."""


class DevOutboxSender:
    """Development: messages kept per phone (by its blind index) in Redis for a day."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, pii: PiiCipher):
        self._redis = redis
        self._keys = keys
        self._pii = pii

    def _key(self, phone: str) -> str:
        return self._keys("dev", "sms-outbox", self._pii.blind_index(phone, "phone"))

    async def send(self, phone: str, template: str, params: dict[str, str], text: str,
                   sign: str | None = None) -> None:
        message = {"phone": phone, "template": template, "params": params, "text": text, "at": int(time.time()),
                   "region": sms_region(phone), "sign": sign}
        key = self._key(phone)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(message, ensure_ascii=False).encode())
            pipe.ltrim(key, 0, OUTBOX_SIZE - 1)
            pipe.expire(key, 86400)
            await pipe.execute()

    async def outbox(self, phone: str) -> list[dict[str, Any]]:
        raw = await self._redis.lrange(self._key(phone), 0, OUTBOX_SIZE - 1)
        return [json.loads(r) for r in raw]


class HttpSmsSender:
    """``POST <gateway_url>`` with ``{"phone", "sign", "template", "params"}`` and a bearer token;
    ``phone`` is 11 digits for the mainland, E.164 (``+852…``) otherwise."""

    def __init__(self, url: str, token: str, sign: str, timeout: float = 5.0):
        self.url, self.token, self.sign, self.timeout = url, token, sign, timeout
        self.http = AsyncHTTPClient()

    async def send(self, phone: str, template: str, params: dict[str, str], text: str,
                   sign: str | None = None) -> None:
        body = json.dumps({"phone": phone, "sign": sign or self.sign, "template": template, "params": params},
                          ensure_ascii=False).encode()
        req = HTTPRequest(self.url, method="POST", body=body, request_timeout=self.timeout,
                          headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        try:
            await self.http.fetch(req)
        except (HTTPClientError, OSError) as e:
            raise Unavailable("短信发送失败，请稍后重试", code="sms_gateway_failed",
                              extra={"reason": str(e)[:200]}) from None
