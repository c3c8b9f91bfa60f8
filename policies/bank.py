"""Disbursement providers: the bank / treasury that pays a claim to the holder's account.

Requests and callbacks are signed with HMAC-SHA256 over the raw JSON body (header
``X-Signature: <hex>``) with a key shared with the bank. A payout is asked for once per
attempt under its ``payout_id`` (``<claim id>-<attempt>``): the bank pays a payout id at most
once, whatever is retried, and answers the result later on ``notify_url``. Development and
the tests point the same client at the fake bank on loopback (``superapp/fakes/bank.py``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Protocol

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

SIGNATURE_HEADER = "X-Signature"


class PayoutError(Exception):
    """The bank did not accept the payout (the claim is marked failed; it may be retried)."""


def sign(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(key: bytes, body: bytes, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(sign(key, body), signature or "")


class PayoutProvider(Protocol):
    key: bytes

    async def pay(self, order: dict[str, Any]) -> dict[str, Any]:
        """Ask the bank to pay ``order`` (payout_id, claim_id, amount_fen, account_number,
        account_name, purpose, notify_url); returns its acknowledgement or raises PayoutError."""


class HttpPayoutProvider:
    def __init__(self, base_url: str, key: bytes, timeout_seconds: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout_seconds

    async def pay(self, order: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(order, ensure_ascii=False, sort_keys=True).encode()
        request = HTTPRequest(f"{self.base_url}/v1/payouts", method="POST", body=body,
                              headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.key, body)},
                              request_timeout=self.timeout)
        try:
            resp = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as e:
            raise PayoutError(f"bank answered {e.code}") from None
        except OSError as e:
            raise PayoutError(f"bank unreachable: {e}") from None
        answer = json.loads(resp.body)
        if not answer.get("accepted"):
            raise PayoutError(answer.get("message") or "refused by the bank")
        return answer


class NoPayouts:
    """No bank configured (production without a payout channel): payouts fail, to be retried."""

    key = b""

    async def pay(self, order: dict[str, Any]) -> dict[str, Any]:
        raise PayoutError("未配置代发渠道")
