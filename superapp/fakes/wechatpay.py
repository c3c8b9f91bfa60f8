"""A fake WeChat Pay API v3 (api.mch.weixin.qq.com, direct-merchant mode) for dev mode and tests.

The real ``wechatpayv3`` client runs against it unchanged (its ``_core._gate_way`` set to this url) in public-key
mode. Requests need a valid WECHATPAY2-SHA256-RSA2048 Authorization (else 401 SIGN_ERROR); answers (errors and 204s
too) and the AEAD_AES_256_GCM-encrypted notifications (retried until a 2xx) are signed with the merchant's platform
key. The payer pays by ``state.confirm``, ``POST /_fake/pay`` or the H5 ``/cashier``. Departures from WeChat: no
platform certificates (each ``DevMerchant`` has its own platform key pair, as WeChat); a day's bill is served as soon
as asked (WeChat: from 10:00 the next day) so tests can reconcile today, and its token never expires; notify_url may
be http; retries follow ``retry_delays`` (WeChat: 15 s, 15 s, 30 s ... 24 h); no coupons; the bank is always OTHERS.
"""
from __future__ import annotations

import asyncio
import base64
import csv
import functools
import gzip
import hashlib
import html
import io
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import tornado.web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from server.calendar import CHINA as CN
from superapp.fakes.base import FakeServer

SIGN_TYPE = "WECHATPAY2-SHA256-RSA2048"
BILL_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
               "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
               "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注").split(",")
BILL_SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额".split(",")
STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭", "REFUND": "订单发生过退款"}
PAID = ("SUCCESS", "REFUND")
NOT_PAYABLE = {"SUCCESS": ("ORDERPAID", "该订单已支付"), "REFUND": ("ORDERPAID", "该订单已支付"),
               "CLOSED": ("ORDERCLOSED", "订单已关闭")}
_OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
_OUT_REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")


@dataclass(frozen=True)
class DevMerchant:
    mchid: str
    appid: str
    serial_no: str  # the merchant API certificate's serial: 40 upper-case hex digits
    private_key_pem: str  # the merchant's RSA 2048 key, PKCS#8 PEM
    apiv3_key: str  # 32 ASCII characters
    platform_private_pem: str  # WeChat Pay's key for this merchant: signs answers and notifications
    platform_public_pem: str  # its public half (SubjectPublicKeyInfo PEM), given to the client
    public_key_id: str  # "PUB_KEY_ID_" + 32 hex digits
    oa_appid: str = ""  # an official account also bound to the merchant (JSAPI in WeChat's browser)

    @classmethod
    def generate(cls, mchid: str, appid: str, oa_appid: str = "") -> DevMerchant:
        keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]  # merchant, platform
        pems = [k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode() for k in keys]
        public = keys[1].public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return cls(mchid, appid, secrets.token_hex(20).upper(), pems[0], secrets.token_hex(16), pems[1], public,
                   "PUB_KEY_ID_" + secrets.token_hex(16).upper(), oa_appid)


class WeChatPayError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


def _now() -> datetime:
    return datetime.now(CN).replace(microsecond=0)


def _yuan(fen: int, places: int = 2) -> str:
    return f"{Decimal(fen) / 100:.{places}f}"


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in record.items() if not k.startswith("_")}


class _Off(functools.partial):  # state.deliver while notifications are only recorded (lost): falsy, yet callable
    def __bool__(self) -> bool:
        return False


class FakeWeChatPayState:
    def __init__(self, merchants: list[DevMerchant]):
        load = serialization.load_pem_private_key
        self.merchants = {m.mchid: m for m in merchants}
        self.keys = {m.mchid: (load(m.private_key_pem.encode(), None).public_key(),
                               load(m.platform_private_pem.encode(), None)) for m in merchants}
        # trades and refunds are kept as WeChat answers them, plus "_..." fields of the fake's own
        self.transactions: dict[tuple[str, str], dict[str, Any]] = {}  # (mchid, out_trade_no) -> trade
        self.prepays: dict[str, dict[str, Any]] = {}  # prepay_id -> trade
        self.refunds: dict[tuple[str, str], dict[str, Any]] = {}  # (mchid, out_refund_no) -> refund
        self.bills: dict[str, tuple[str, bytes]] = {}  # download token -> (mchid, file)
        self.notifications: list[dict[str, Any]] = []  # {"url", "headers", "body", "event_type", "attempts"}
        self.refund_delay, self.retry_delays = 0.05, [0.2, 0.5]
        self._deliver, self._tasks = True, set[asyncio.Future[Any]]()

    @property
    def deliver(self) -> Any:
        """Truthy while notifications are sent (False: lost); ``await deliver(n)``: sent again, the HTTP status."""
        return self.redeliver if self._deliver else _Off(self.redeliver)

    @deliver.setter
    def deliver(self, enabled: bool) -> None:
        self._deliver = bool(enabled)

    def signed_headers(self, mchid: str, body: str) -> dict[str, str]:
        m = self.merchants.get(mchid) or next(iter(self.merchants.values()))
        ts, nonce = str(int(time.time())), secrets.token_hex(16).upper()
        sig = self.keys[m.mchid][1].sign(f"{ts}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(), hashes.SHA256())
        return {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": m.public_key_id,
                "Wechatpay-Signature": base64.b64encode(sig).decode(), "Wechatpay-Signature-Type": SIGN_TYPE}

    def authenticate(self, method: str, uri: str, body: bytes, authorization: str) -> str:
        scheme, _, rest = authorization.partition(" ")
        p = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        m = self.merchants.get(p.get("mchid", ""))
        try:
            if scheme != SIGN_TYPE or m is None or p.get("serial_no") != m.serial_no or \
                    abs(time.time() - int(p.get("timestamp", ""))) > 300:
                raise ValueError
            message = f"{method}\n{uri}\n{p['timestamp']}\n{p.get('nonce_str', '')}\n".encode() + body + b"\n"
            self.keys[m.mchid][0].verify(base64.b64decode(p.get("signature", "")), message, padding.PKCS1v15(),
                                         hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误") from None
        return m.mchid

    def trade(self, mchid: str, out_trade_no: str, transaction_id: str = "", missing: str = "ORDER_NOT_EXIST") -> dict:
        t = self.transactions.get((mchid, out_trade_no)) or next((t for t in self.transactions.values() if (
            t["mchid"], t.get("transaction_id")) == (mchid, transaction_id) and transaction_id), None)
        if t is None:
            raise WeChatPayError(404, missing, "订单不存在")
        return t

    def prepay(self, mchid: str, body: dict[str, Any], h5: bool) -> dict[str, Any]:
        for path in ["appid", "description", "out_trade_no", "notify_url", "amount/total"] + (
                ["scene_info/payer_client_ip", "scene_info/h5_info/type"] if h5 else ["payer/openid"]):
            v = functools.reduce(lambda d, k: d.get(k) if isinstance(d, dict) else None, path.split("/"), body)
            if not isinstance(v, int if path == "amount/total" else str) or isinstance(v, bool) or v in ("", 0):
                raise WeChatPayError(400, "PARAM_ERROR", f"输入源“/body/{path}”映射到值字段失败：缺少或格式错误")
        amount, no = body["amount"], body["out_trade_no"]
        if amount["total"] < 0 or amount.get("currency", "CNY") != "CNY" or not _OUT_TRADE_NO.match(no) or \
                urlsplit(body["notify_url"]).scheme not in ("http", "https"):
            raise WeChatPayError(400, "PARAM_ERROR", "amount、out_trade_no或notify_url格式错误")
        if body["appid"] not in (self.merchants[mchid].appid, self.merchants[mchid].oa_appid or None):
            raise WeChatPayError(400, "APPID_MCHID_NOT_MATCH", "AppID和mch_id不匹配")
        trade_type = "MWEB" if h5 else "JSAPI"
        if (t := self.transactions.get((mchid, no))) is not None:
            if t["trade_state"] != "NOTPAY":
                raise WeChatPayError(400, *NOT_PAYABLE[t["trade_state"]])
            if (t["trade_type"], t["amount"]["total"]) == (trade_type, amount["total"]):
                return t
            raise WeChatPayError(400, "INVALID_REQUEST", "201 商户订单号重复")
        t = {"appid": body["appid"], "mchid": mchid, "out_trade_no": no, "trade_type": trade_type,
             "trade_state": "NOTPAY", "trade_state_desc": STATE_DESC["NOTPAY"], "attach": body.get("attach", ""),
             "amount": {"total": amount["total"], "currency": "CNY", "payer_currency": "CNY"},
             **({} if h5 else {"payer": {"openid": body["payer"]["openid"]}}),
             "_prepay_id": "wx" + _now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(10),
             "_description": body["description"], "_notify_url": body["notify_url"], "_paid_at": None, "_refunded": 0}
        self.transactions[(mchid, no)] = self.prepays[t["_prepay_id"]] = t
        return t

    def _pay(self, t: dict[str, Any], openid: str | None) -> dict[str, Any]:
        now, n = _now(), secrets.randbelow(10 ** 15)  # transaction ids: 42000 + 5 digits + date + 10 digits
        t.update(trade_state="SUCCESS", trade_state_desc=STATE_DESC["SUCCESS"], bank_type="OTHERS", _paid_at=now,
                 success_time=now.isoformat(), transaction_id=f"42000{n // 10**10:05d}{now:%Y%m%d}{n % 10**10:010d}",
                 payer={"openid": openid or t.get("payer", {}).get("openid") or "o" + secrets.token_hex(14)})
        t["amount"]["payer_total"] = t["amount"]["total"]
        return public(t)

    async def confirm(self, prepay_id: str, openid: str | None = None) -> dict[str, Any]:
        """The payer confirms in WeChat: the trade is paid and TRANSACTION.SUCCESS is sent."""
        if (t := self.prepays.get(prepay_id)) is None:
            raise WeChatPayError(404, "ORDER_NOT_EXIST", "订单不存在")
        if t["trade_state"] != "NOTPAY":
            raise WeChatPayError(409, *NOT_PAYABLE[t["trade_state"]])
        paid = self._pay(t, openid)
        self._notify(t["mchid"], t["_notify_url"], "TRANSACTION.SUCCESS", "支付成功", "transaction", paid)
        return public(t)

    def add_unrecorded_payment(self, mchid: str, out_trade_no: str, amount_fen: int) -> dict[str, Any]:
        """A trade paid today that nobody asked for and nobody is told of: a reconciliation mismatch."""
        return self._pay(self.prepay(mchid, {
            "appid": self.merchants[mchid].appid, "out_trade_no": out_trade_no, "description": "未记录的交易",
            "notify_url": "http://127.0.0.1/", "amount": {"total": amount_fen},
            "payer": {"openid": "o" + secrets.token_hex(14)}}, False), None)

    def refund(self, mchid: str, body: dict[str, Any]) -> dict[str, Any]:
        amount, no = body.get("amount"), body.get("out_refund_no")
        if not isinstance(no, str) or not _OUT_REFUND_NO.match(no) or not isinstance(amount, dict) or not all(
                type(amount.get(k)) is int and amount[k] > 0 for k in ("refund", "total")):
            raise WeChatPayError(400, "PARAM_ERROR", "输入源“/body/amount”或“/body/out_refund_no”映射到值字段失败")
        if (r := self.refunds.get((mchid, no))) is not None:
            return r  # the same out_refund_no: one refund, never two
        t = self.trade(mchid, str(body.get("out_trade_no") or ""), str(body.get("transaction_id") or ""),
                       "RESOURCE_NOT_EXISTS")
        if t["trade_state"] not in PAID:
            raise WeChatPayError(400, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
        total = t["amount"]["total"]
        if amount["total"] != total or amount["refund"] > total - t["_refunded"]:
            raise WeChatPayError(400, "INVALID_REQUEST", "订单金额与原订单不一致，或申请退款金额超过订单可退金额")
        t["_refunded"] += amount["refund"]
        r = self.refunds[(mchid, no)] = {
            "refund_id": f"50{secrets.randbelow(10 ** 27):027d}", "out_refund_no": no,
            "transaction_id": t["transaction_id"], "out_trade_no": t["out_trade_no"], "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱", "create_time": _now().isoformat(), "status": "PROCESSING",
            "funds_account": "AVAILABLE", "amount": {"total": total, "refund": amount["refund"], "payer_total": total,
                                                     "payer_refund": amount["refund"], "currency": "CNY"},
            "_mchid": mchid, "_notify_url": body.get("notify_url", ""), "_done_at": None}
        asyncio.get_running_loop().call_later(self.refund_delay, self._refunded, r, t)
        return r

    def _refunded(self, r: dict[str, Any], t: dict[str, Any]) -> None:
        now = _now()
        r.update(status="SUCCESS", success_time=now.isoformat(), _done_at=now)
        if sum(x["amount"]["refund"] for x in self.refunds.values() if x["status"] == "SUCCESS" and (
                x["_mchid"], x["out_trade_no"]) == (r["_mchid"], r["out_trade_no"])) >= t["amount"]["total"]:
            t.update(trade_state="REFUND", trade_state_desc=STATE_DESC["REFUND"])
        if r["_notify_url"]:
            keep = ("out_trade_no", "transaction_id", "out_refund_no", "refund_id", "success_time",
                    "user_received_account")
            self._notify(r["_mchid"], r["_notify_url"], "REFUND.SUCCESS", "退款成功", "refund", {
                "mchid": r["_mchid"], "refund_status": "SUCCESS", **{k: r[k] for k in keep},
                "amount": {k: r["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")}})

    def _notify(self, mchid: str, url: str, event: str, summary: str, kind: str, resource: dict[str, Any]) -> None:
        nonce = secrets.token_urlsafe(9)[:12]
        plain = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        cipher = AESGCM(self.merchants[mchid].apiv3_key.encode()).encrypt(nonce.encode(), plain, kind.encode())
        body = json.dumps({"id": str(uuid.uuid4()), "create_time": _now().isoformat(), "event_type": event,
                           "resource_type": "encrypt-resource", "summary": summary, "resource": {
                               "original_type": kind, "algorithm": "AEAD_AES_256_GCM", "associated_data": kind,
                               "ciphertext": base64.b64encode(cipher).decode(), "nonce": nonce}},
                          ensure_ascii=False, separators=(",", ":"))
        n = {"url": url, "mchid": mchid, "body": body, "event_type": event, "attempts": []}
        self.notifications.append(n)
        if self._deliver:
            task = asyncio.ensure_future(self._send(n))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, n: dict[str, Any]) -> None:
        for delay in [0.0, *self.retry_delays]:
            await asyncio.sleep(delay)
            if 200 <= await self.redeliver(n) < 300:
                return

    async def redeliver(self, n: dict[str, Any]) -> int:
        """Posts a recorded notification again, signed anew as WeChat signs each delivery: the status (599: none)."""
        n["headers"] = {**self.signed_headers(n["mchid"], n["body"]), "Content-Type": "application/json"}
        try:
            code = (await AsyncHTTPClient().fetch(HTTPRequest(n["url"], "POST", n["headers"], n["body"],
                                                              request_timeout=5), raise_error=False)).code
        except (OSError, HTTPClientError):  # refused, timed out
            code = 599
        n["attempts"].append(code)
        return code

    def trade_bill(self, mchid: str, day: date) -> bytes | None:
        """The day's trade bill (CSV, as WeChat's), or None when nothing was paid or refunded that day."""
        def row(at: datetime, t: dict[str, Any], paid: int, r: dict[str, Any] | None) -> list[Any]:
            back = r["amount"]["refund"] if r else 0
            fee = (paid * 6 + 500) // 1000 - (back * 6 + 500) // 1000  # 0.6 %, rounded half up to the fen
            return [at, t["appid"], mchid, "0", "", t["transaction_id"], t["out_trade_no"], t["payer"]["openid"],
                    t["trade_type"], "REFUND" if r else "SUCCESS", "OTHERS", "CNY", _yuan(paid), "0.00",
                    *((r["refund_id"], r["out_refund_no"]) if r else ("0", "0")), _yuan(back), "0.00",
                    *(("ORIGINAL", "SUCCESS") if r else ("", "")), t["_description"], t["attach"],
                    _yuan(fee, 5), "0.60%", _yuan(paid), _yuan(back), "", paid, back, fee]
        rows = [row(t["_paid_at"], t, t["amount"]["total"], None) for t in self.transactions.values()
                if t["mchid"] == mchid and t["_paid_at"] and t["_paid_at"].date() == day]
        rows += [row(r["_done_at"], self.transactions[(mchid, r["out_trade_no"])], 0, r) for r in self.refunds.values()
                 if r["_mchid"] == mchid and r["_done_at"] and r["_done_at"].date() == day]
        if not rows:
            return None
        rows.sort(key=lambda r: r[0])
        paid, back, fees = (sum(r[i] for r in rows) for i in (-3, -2, -1))
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows([BILL_HEADER, *(
            [f"`{r[0]:%Y-%m-%d %H:%M:%S}", *(f"`{f}" for f in r[1:-3])] for r in rows), BILL_SUMMARY_HEADER,
            [f"`{f}" for f in (len(rows), _yuan(paid), _yuan(back), "0.00", _yuan(fees, 5), _yuan(paid), _yuan(back))]])
        return out.getvalue().encode()


class V3Handler(tornado.web.RequestHandler):
    """Every ``/v3`` path: authenticates, runs the operation named for the method in ``ops``, signs the answer."""

    def initialize(self, state: FakeWeChatPayState, ops: dict[str, str]) -> None:
        self.state, self.ops, self.mchid = state, ops, ""

    async def get(self, *args: str) -> None:
        try:
            self.mchid = self.state.authenticate(self.request.method or "", self.request.uri or "",
                                                 self.request.body, self.request.headers.get("Authorization", ""))
            if (op := self.ops.get(self.request.method or "")) is None:
                raise WeChatPayError(404, "NOT_FOUND", "请求的资源不存在")
            if self.get_query_argument("mchid", self.mchid) != self.mchid:
                raise WeChatPayError(400, "MCH_NOT_EXISTS", "商户号不存在")
            getattr(self, op)(*args)
        except WeChatPayError as e:
            self.answer(e.status, {"code": e.code, "message": e.message})
        except ValueError as e:  # a body that is not a JSON object, a bad date
            self.answer(400, {"code": "PARAM_ERROR", "message": f"参数格式错误：{e}"})

    post = get

    def answer(self, status: int, body: dict[str, Any] | None = None) -> None:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        self.set_status(status)
        for k, v in {**self.state.signed_headers(self.mchid, text), "Request-ID": secrets.token_hex(16).upper(),
                     **({"Content-Type": "application/json; charset=utf-8"} if text else {})}.items():
            self.set_header(k, v)
        self.finish(text.encode() if text else None)

    def body(self, with_mchid: bool = True) -> dict[str, Any]:
        if not isinstance(body := json.loads(self.request.body), dict):
            raise ValueError("请求体不是JSON对象")
        if with_mchid and body.get("mchid") != self.mchid:
            raise WeChatPayError(400, "MCH_NOT_EXISTS", "商户号不存在")
        return body

    def prepay(self, kind: str) -> None:
        prepay_id = self.state.prepay(self.mchid, self.body(), kind == "h5")["_prepay_id"]
        self.answer(200, {"h5_url": f"{self.request.protocol}://{self.request.host}/cashier?prepay_id={prepay_id}"}
                    if kind == "h5" else {"prepay_id": prepay_id})

    def query(self, by: str, no: str) -> None:
        self.answer(200, public(self.state.trade(self.mchid, *(("", no) if by == "id" else (no,)))))

    def close(self, no: str) -> None:
        self.body()
        if (t := self.state.trade(self.mchid, no))["trade_state"] in PAID:
            raise WeChatPayError(400, "ORDERPAID", "该订单已支付")
        t.update(trade_state="CLOSED", trade_state_desc=STATE_DESC["CLOSED"])
        self.answer(204)

    def refund(self) -> None:
        self.answer(200, public(self.state.refund(self.mchid, self.body(with_mchid=False))))

    def refund_query(self, no: str) -> None:
        if (r := self.state.refunds.get((self.mchid, no))) is None:
            raise WeChatPayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        self.answer(200, public(r))

    def trade_bill(self) -> None:
        day, tar = date.fromisoformat(self.get_query_argument("bill_date", "")), self.get_query_argument("tar_type", "")
        if self.get_query_argument("bill_type", "ALL") != "ALL" or tar not in ("", "GZIP"):
            raise WeChatPayError(400, "PARAM_ERROR", "bill_type或tar_type取值错误")
        if (data := self.state.trade_bill(self.mchid, day)) is None:
            raise WeChatPayError(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        digest = hashlib.sha1(data).hexdigest()  # as WeChat's: of the bill itself, not of its gzip
        self.state.bills[token := secrets.token_urlsafe(24)] = (self.mchid, gzip.compress(data) if tar else data)
        self.answer(200, {"hash_type": "SHA1", "hash_value": digest, "download_url":
                          f"{self.request.protocol}://{self.request.host}/v3/billdownload/file?token={token}"})

    def download(self) -> None:
        mchid, data = self.state.bills.get(self.get_query_argument("token", ""), ("", b""))
        if mchid != self.mchid:
            raise WeChatPayError(404, "RESOURCE_NOT_EXISTS", "账单文件不存在或已过期")
        # As WeChat's, the file itself is not signed: it is checked against hash_value.
        gzipped = data[:2] == b"\x1f\x8b"
        self.set_header("Content-Type", "application/octet-stream" if gzipped else "text/plain; charset=utf-8")
        self.set_header("Request-ID", secrets.token_hex(16).upper())
        self.finish(data)


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 微信支付</title>
<style>body{{margin:0;background:#f2f2f2;color:#191919;font:1rem/1.6 system-ui,sans-serif}} .amount{{font-size:2rem}}
main{{max-width:30rem;margin:auto;padding:1.5rem 1rem;text-align:center;overflow-wrap:anywhere}} h1{{font-size:1.25rem}}
button{{width:100%;min-height:3rem;border:0;border-radius:.5rem;background:#05803f;color:#fff;font-size:1.125rem}}
a{{display:inline-block;padding:.75rem;color:#0b4f99}} :focus-visible{{outline:3px solid #191919;outline-offset:2px}}
</style></head><body><main><h1>微信支付</h1>
{content}</main></body></html>"""


class PayerHandler(tornado.web.RequestHandler):
    """The payer: ``POST /_fake/pay`` {prepay_id, openid?}, unsigned; H5: ``GET /cashier``, ``POST /cashier/pay``."""

    def initialize(self, state: FakeWeChatPayState) -> None:
        self.state = state

    def page(self, status: int, title: str, t: dict[str, Any] | None = None) -> None:
        url = self.get_argument("redirect_url", "")
        back = html.escape(url) if urlsplit(url).scheme in ("http", "https") else ""
        content = f'<p role="status">{html.escape(title)}</p>' if t is None else (
            f'<p>{html.escape(t["_description"])}</p><p class="amount">¥{_yuan(t["amount"]["total"])}</p>\n'
            f'<form method="post" action="/cashier/pay"><input type="hidden" name="prepay_id" '
            f'value="{html.escape(t["_prepay_id"])}"><input type="hidden" name="redirect_url" value="{back}">'
            f'<button type="submit">确认支付</button></form>')
        if back:
            content += f'\n<a href="{back}">{"返回商户" if t is None else "取消"}</a>'
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_PAGE.format(title=html.escape(title), content=content))

    def get(self) -> None:
        if (t := self.state.prepays.get(self.get_argument("prepay_id", ""))) is None:
            return self.page(404, "订单不存在")
        if t["trade_state"] != "NOTPAY":
            return self.page(409, NOT_PAYABLE[t["trade_state"]][1])
        self.page(200, "确认支付", t)

    async def post(self) -> None:
        if self.request.path == "/_fake/pay":
            try:
                body = json.loads(self.request.body)
                return self.finish(await self.state.confirm(str(body["prepay_id"]), body.get("openid")))
            except (ValueError, KeyError, TypeError, AttributeError, WeChatPayError) as e:
                err = e if isinstance(e, WeChatPayError) else WeChatPayError(400, "PARAM_ERROR", "缺少参数prepay_id")
                self.set_status(err.status)
                return self.finish({"code": err.code, "message": err.message})
        try:
            await self.state.confirm(self.get_argument("prepay_id", ""))
        except WeChatPayError as e:
            return self.page(e.status, e.message)
        if urlsplit(url := self.get_argument("redirect_url", "")).scheme in ("http", "https"):
            return self.redirect(url)
        self.page(200, "支付成功")


def make_fake_wechatpay(merchants: list[DevMerchant]) -> tuple[FakeServer, FakeWeChatPayState]:
    state = FakeWeChatPayState(merchants)
    v3 = [(r"/v3/pay/transactions/(jsapi|h5)", {"POST": "prepay"}),
          (r"/v3/pay/transactions/out-trade-no/([^/]+)/close", {"POST": "close"}),
          (r"/v3/pay/transactions/(out-trade-no|id)/([^/]+)", {"GET": "query"}),
          (r"/v3/refund/domestic/refunds", {"POST": "refund"}), (r"/v3/bill/tradebill", {"GET": "trade_bill"}),
          (r"/v3/refund/domestic/refunds/([^/]+)", {"GET": "refund_query"}),
          (r"/v3/billdownload/file", {"GET": "download"}), (r"/v3/.*", {})]  # in order: the first that matches
    return FakeServer(tornado.web.Application([(path, V3Handler, {"state": state, "ops": ops}) for path, ops in v3] + [
        (r"/(?:_fake/pay|cashier|cashier/pay)", PayerHandler, {"state": state})])), state
