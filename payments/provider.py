"""WeChat Pay API v3, through the maintained ``wechatpayv3`` package (its asyncio interface).

Why not wechatpy: its released 1.8.x speaks only WeChat Pay's legacy v2 (XML, MD5/HMAC
signatures); v3 is JSON with RSA-SHA256 request and response signatures and AES-256-GCM
encrypted notifications, and is the only API new merchants get. ``wechatpayv3`` implements
exactly that and nothing of ours; it is pinned (``==2.0.4``) because it hard-codes its gateway
in ``Core._gate_way``: development and the tests point it at the fake WeChat Pay on loopback
(``superapp/fakes/wechatpay.py``) by setting that one attribute, here in :func:`point_at`, and
``tests/payments/test_provider.py`` fails loudly if a release moves it. Nothing else is patched.

One client per merchant account (a collecting department's 商户号), in public-key mode
(the platform's public key and its id: WeChat's current verification for new merchants; no
platform-certificate download).
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from wechatpayv3.async_ import AsyncWeChatPay, WeChatPayType  # its own enum: the sync one is another class

log = logging.getLogger("superapp.payments")
WECHAT_GATEWAY = "https://api.mch.weixin.qq.com"
NOTIFICATION_SKEW_SECONDS = 300  # a notification signed longer ago (or ahead) than this is refused
GATEWAY_ATTRIBUTE = "_gate_way"  # wechatpayv3 2.0.4: AsyncCore._gate_way, the base URL of every call


class ProviderError(Exception):
    """WeChat Pay refused or could not be reached (``code``: WeChat's error code, or UNREACHABLE)."""

    def __init__(self, code: str, message: str, status: int = 0):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


class BadNotification(Exception):
    """A notification whose signature, merchant or ciphertext does not check out."""


@dataclass(frozen=True)
class Merchant:
    """A collecting department's WeChat Pay merchant account (商户号)."""
    id: str  # ours, named by the catalog's charges.collector.merchant
    mchid: str
    appid: str  # the mini-program's appid (JSAPI payments are made in it)
    serial_no: str  # the merchant API certificate's serial number
    private_key_pem: str
    apiv3_key: str
    public_key_pem: str  # WeChat Pay's platform public key …
    public_key_id: str  # … and its id (PUB_KEY_ID_…)
    oa_appid: str = ""  # the official account bound to it too (JSAPI in WeChat's browser), if any


def load_merchants(merchants_file: Path, apiv3_keys: str, path: Callable[[str], Path]) -> dict[str, Merchant]:
    """Merchant accounts from a JSON file (merchant id -> mchid, appid, serial_no, private_key_file,
    public_key_id, public_key_file, optional oa_appid; files relative to the project, via ``path``) and their APIv3
    keys (``apiv3_keys``: a JSON object, from the environment). Raises ValueError."""
    try:
        entries = json.loads(merchants_file.read_text(encoding="utf-8"))
        keys = json.loads(apiv3_keys or "{}")
        return {mid: Merchant(mid, e["mchid"], e["appid"], e["serial_no"], path(e["private_key_file"]).read_text(),
                              keys[mid], path(e["public_key_file"]).read_text(), e["public_key_id"],
                              e.get("oa_appid", ""))
                for mid, e in entries.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"cannot read the merchant accounts: {e!r}") from None


def point_at(pay: AsyncWeChatPay, gateway: str) -> None:
    """The one place the gateway is changed (see the module's docstring)."""
    core = getattr(pay, "_core", None)
    if getattr(core, GATEWAY_ATTRIBUTE, None) != WECHAT_GATEWAY:
        raise RuntimeError("wechatpayv3 no longer keeps its gateway in _core._gate_way: "
                           "check payments/provider.py before upgrading it")
    setattr(core, GATEWAY_ATTRIBUTE, gateway.rstrip("/"))


def fen(yuan: str) -> int:
    """A bill's amount (``10.00`` yuan) in integer fen, exactly."""
    return int((Decimal(yuan.strip().lstrip("`") or "0") * 100).to_integral_value())


def parse_bill(text: str) -> list[dict[str, Any]]:
    """WeChat's trade bill (CSV, every field prefixed with a backtick; a summary after the rows)
    -> its payment and refund rows: kind, ref (商户订单号 / 商户退款单号), out_trade_no,
    provider_ref, amount_fen, time."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    out = []
    for raw in rows[1:]:
        if not raw or raw[0].strip() == "总交易单数":
            break
        r = {h: v.strip().lstrip("`") for h, v in zip(header, raw)}
        if r.get("交易状态") == "REFUND":
            out.append({"kind": "refund", "ref": r["商户退款单号"], "out_trade_no": r["商户订单号"],
                        "provider_ref": r["微信退款单号"], "amount_fen": fen(r["退款金额"]), "time": r["交易时间"]})
        elif r.get("交易状态") == "SUCCESS":
            # 订单金额: what the payer was charged (应结订单金额 leaves out coupons, which fees never take)
            out.append({"kind": "payment", "ref": r["商户订单号"], "out_trade_no": r["商户订单号"],
                        "provider_ref": r["微信订单号"], "amount_fen": fen(r.get("订单金额") or r["应结订单金额"]),
                        "time": r["交易时间"]})
    return out


class WeChatPayGateway:
    def __init__(self, merchants: dict[str, Merchant], notify_url: str, gateway: str = "",
                 timeout_seconds: float = 10.0):
        self.merchants = merchants
        self.notify_url = notify_url
        self.gateway = gateway or WECHAT_GATEWAY
        self.timeout = timeout_seconds
        self._clients: dict[str, AsyncWeChatPay] = {}

    def merchant(self, merchant_id: str) -> Merchant:
        m = self.merchants.get(merchant_id)
        if m is None:
            raise ProviderError("MERCHANT_NOT_CONFIGURED", f"商户 {merchant_id} 未配置")
        return m

    def _make(self, m: Merchant) -> AsyncWeChatPay:
        pay = AsyncWeChatPay(wechatpay_type=WeChatPayType.MINIPROG, mchid=m.mchid, private_key=m.private_key_pem,
                             cert_serial_no=m.serial_no, appid=m.appid, apiv3_key=m.apiv3_key,
                             notify_url=self.notify_url, public_key=m.public_key_pem, public_key_id=m.public_key_id,
                             timeout=(5, self.timeout))
        if self.gateway != WECHAT_GATEWAY:
            point_at(pay, self.gateway)
        return pay

    async def _client(self, merchant_id: str) -> AsyncWeChatPay:
        pay = self._clients.get(merchant_id)
        if pay is None:
            pay = self._make(self.merchant(merchant_id))
            await pay.__aenter__()  # its HTTP client, closed by close()
            self._clients[merchant_id] = pay
        return pay

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for pay in clients.values():
            await pay.__aexit__(None, None, None)

    async def _call(self, merchant_id: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        pay = await self._client(merchant_id)
        try:
            code, body = await getattr(pay, method)(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - transport errors and a response whose signature fails
            log.warning("WeChat Pay %s failed", method, exc_info=True)
            raise ProviderError("UNREACHABLE", f"微信支付暂时无法访问（{type(e).__name__}）") from None
        if code >= 400:
            try:
                answer = json.loads(body)
            except (TypeError, ValueError):
                answer = {}
            raise ProviderError(answer.get("code", "HTTP_%d" % code), answer.get("message", ""), code)
        return code, body

    async def prepay(self, merchant_id: str, channel: str, out_trade_no: str, description: str, amount_fen: int,
                     expire_at: datetime, openid: str | None = None, client_ip: str | None = None,
                     appid: str | None = None) -> dict[str, Any]:
        """JSAPI (``openid``: the payer under ``appid``, the mini-program's unless the official
        account's) -> {prepay_id}; H5 -> {h5_url}."""
        kind = WeChatPayType.MINIPROG if channel == "jsapi" else WeChatPayType.H5
        _, body = await self._call(
            merchant_id, "pay", description=description[:127], out_trade_no=out_trade_no, appid=appid,
            amount={"total": amount_fen, "currency": "CNY"}, time_expire=expire_at.isoformat(timespec="seconds"),
            payer={"openid": openid} if openid else None, pay_type=kind,
            scene_info={"payer_client_ip": client_ip or "127.0.0.1", "h5_info": {"type": "Wap"}}
            if channel == "h5" else None)
        return json.loads(body)

    def jsapi_params(self, merchant_id: str, prepay_id: str, appid: str | None = None) -> dict[str, str]:
        """What ``wx.requestPayment`` (or ``getBrandWCPayRequest`` in WeChat's browser) takes,
        signed with the merchant's key (RSA); ``appid``: the one the order was made in."""
        m = self.merchant(merchant_id)
        appid = appid or m.appid
        timestamp, nonce, package = str(int(time.time())), secrets.token_hex(16), f"prepay_id={prepay_id}"
        pay = self._clients.get(merchant_id) or self._make(m)
        return {"appId": appid, "timeStamp": timestamp, "nonceStr": nonce, "package": package, "signType": "RSA",
                "paySign": pay.sign([appid, timestamp, nonce, package])}

    async def query(self, merchant_id: str, out_trade_no: str) -> dict[str, Any] | None:
        try:
            _, body = await self._call(merchant_id, "query", out_trade_no=out_trade_no)
        except ProviderError as e:
            if e.code == "ORDER_NOT_EXIST":
                return None
            raise
        return json.loads(body)

    async def close_trade(self, merchant_id: str, out_trade_no: str) -> bool:
        """Closed (or never created); False when it is already paid."""
        try:
            await self._call(merchant_id, "close", out_trade_no=out_trade_no)
        except ProviderError as e:
            if e.code == "ORDERPAID":
                return False
            if e.code != "ORDER_NOT_EXIST":
                raise
        return True

    async def refund(self, merchant_id: str, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
                     reason: str) -> dict[str, Any]:
        _, body = await self._call(merchant_id, "refund", out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                                   amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
                                   reason=reason[:80])
        return json.loads(body)

    async def query_refund(self, merchant_id: str, out_refund_no: str) -> dict[str, Any] | None:
        try:
            _, body = await self._call(merchant_id, "query_refund", out_refund_no=out_refund_no)
        except ProviderError as e:
            if e.code == "RESOURCE_NOT_EXISTS":
                return None
            raise
        return json.loads(body)

    async def bill(self, merchant_id: str, day: str) -> list[dict[str, Any]]:
        """The day's trade bill, downloaded and parsed (no trade that day: an empty list)."""
        try:
            _, body = await self._call(merchant_id, "trade_bill", bill_date=day, tar_type="GZIP")
        except ProviderError as e:
            if e.code == "NO_STATEMENT_EXIST":
                return []
            raise
        answer = json.loads(body)
        _, data = await self._call(merchant_id, "download_bill", answer["download_url"])
        raw = data if isinstance(data, bytes) else data.encode()
        plain = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        if answer.get("hash_type") == "SHA1" and hashlib.sha1(plain).hexdigest() != answer.get("hash_value", ""):
            raise ProviderError("BILL_HASH_MISMATCH", "账单文件与摘要不符")  # the download is not signed
        return parse_bill(plain.decode("utf-8"))

    async def decode_notification(self, headers: dict[str, str], body: str) -> tuple[Merchant, dict[str, Any]]:
        """The merchant and the decrypted notification (``event_type``, ``resource``) — or
        BadNotification: a signature that fails, an unknown key, a ciphertext no merchant opens,
        or a signing time more than five minutes away (WeChat's advice against replays; each
        of WeChat's retries is signed anew, and wechatpayv3 does not check the time)."""
        try:
            signed_at = int(headers.get("Wechatpay-Timestamp", ""))
        except ValueError:
            raise BadNotification("notification without a signing time") from None
        if abs(time.time() - signed_at) > NOTIFICATION_SKEW_SECONDS:
            raise BadNotification("notification signed too long ago (or ahead)")
        serial = headers.get("Wechatpay-Serial", "")
        for m in self.merchants.values():
            if m.public_key_id != serial:
                continue
            pay = await self._client(m.id)
            try:
                data = pay.callback(headers, body)
            except Exception:  # noqa: BLE001 - an algorithm it does not know, a malformed body
                data = None
            if data and isinstance(data.get("resource"), dict) and data["resource"].get("mchid") == m.mchid:
                return m, data
        raise BadNotification("notification not verified")
