"""A fake bank / treasury payout service for dev mode and tests (the protocol is in
policies/bank.py).

``POST /v1/payouts`` signed with ``X-Signature`` (HMAC-SHA256 of the raw body) ->
``{"accepted": true, "payout_id"}``; a bad signature -> 401; a payout id seen before is
acknowledged again and never paid twice. Each new payout is "paid" (or failed, see
``fail_next``) and the result is posted, signed, to the order's ``notify_url`` shortly after;
every callback sent is kept in ``callbacks`` so a test can deliver it again.
"""
from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from policies.bank import SIGNATURE_HEADER, sign, verify
from superapp.fakes.base import FakeServer

DEV_KEY = b"dev-only-policy-payout-hmac-key-not-a-secret"


class FakeBankState:
    def __init__(self, key: bytes):
        self.key = key
        self.payouts: dict[str, dict[str, Any]] = {}
        self.paid_fen: dict[str, int] = {}  # account -> total paid
        self.callbacks: list[dict[str, Any]] = []  # {"url", "body" (bytes), "signature", "status"}
        self.fail_next = 0  # next payouts fail (the account is "closed")
        self.refuse_next = 0  # next requests answered 503 (the bank is down)
        self.deliver = True

    async def send_callback(self, url: str, body: bytes, signature: str) -> int:
        resp = await AsyncHTTPClient().fetch(HTTPRequest(url, method="POST", body=body, headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: signature}), raise_error=False)
        return resp.code


class PayoutHandler(tornado.web.RequestHandler):
    def initialize(self, state: FakeBankState) -> None:
        self.state = state

    async def post(self) -> None:
        s = self.state
        if not verify(s.key, self.request.body, self.request.headers.get(SIGNATURE_HEADER)):
            raise tornado.web.HTTPError(401)
        if s.refuse_next > 0:
            s.refuse_next -= 1
            raise tornado.web.HTTPError(503)
        order = json.loads(self.request.body)
        pid = order["payout_id"]
        if pid not in s.payouts:
            status = "failed" if s.fail_next > 0 else "paid"
            s.fail_next = max(0, s.fail_next - 1)
            s.payouts[pid] = {**order, "status": status, "bank_ref": "B" + secrets.token_hex(6)}
            if status == "paid":
                s.paid_fen[order["account_number"]] = s.paid_fen.get(order["account_number"], 0) + order["amount_fen"]
            body = json.dumps({"payout_id": pid, "claim_id": order["claim_id"], "status": status,
                               "bank_ref": s.payouts[pid]["bank_ref"],
                               "reason": "收款账户状态异常" if status == "failed" else None}).encode()
            callback = {"url": order["notify_url"], "body": body, "signature": sign(s.key, body), "status": status}
            s.callbacks.append(callback)
            if s.deliver:
                asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(
                    s.send_callback(callback["url"], callback["body"], callback["signature"])))
        self.finish({"accepted": True, "payout_id": pid})


def make_fake_bank(key: bytes = DEV_KEY) -> tuple[FakeServer, FakeBankState]:
    state = FakeBankState(key)
    return FakeServer(tornado.web.Application([(r"/v1/payouts", PayoutHandler, {"state": state})])), state
