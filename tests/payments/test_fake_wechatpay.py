"""The fake WeChat Pay (superapp/fakes/wechatpay.py) driven by the real client, wechatpayv3's
AsyncWeChatPay, pointed at it: JSAPI prepay → the payer confirms → query SUCCESS and a signed,
encrypted TRANSACTION.SUCCESS the client verifies and decrypts; requests signed with another key
refused; repeats, close, refunds (once per out_refund_no, REFUND.SUCCESS), notifications retried,
lost and delivered again; H5 and its cashier page; the day's trade bill; ``/_fake/pay``."""
from __future__ import annotations

import asyncio
import csv
import gzip
import hashlib
import io
import json
import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any, AsyncIterator, Callable
from urllib.parse import quote

import httpx
import pytest
import tornado.web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3.async_ import AsyncWeChatPay, WeChatPayType  # not wechatpayv3.WeChatPayType: another enum
from wechatpayv3.utils import build_authorization, load_private_key, load_public_key, rsa_verify

from superapp.fakes.base import FakeServer
from superapp.fakes.wechatpay import DevMerchant, FakeWeChatPayState, WeChatPayError, make_fake_wechatpay

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
          "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
          "手续费,费率,订单金额,申请退款金额,费率备注").split(",")
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额".split(",")


class Receiver:
    """The merchant's notify_url: records what arrives; answers 500 to the next ``fail_next``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        self.server = FakeServer(tornado.web.Application([(r"/notify", _NotifyHandler, {"receiver": self})]))

    @property
    def url(self) -> str:
        return self.server.url + "/notify"

    def events(self, event_type: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.received if json.loads(b)["event_type"] == event_type]


class _NotifyHandler(tornado.web.RequestHandler):
    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def post(self) -> None:
        if self.receiver.fail_next:
            self.receiver.fail_next -= 1
            raise tornado.web.HTTPError(500)
        self.receiver.received.append((dict(self.request.headers), self.request.body))
        self.set_status(204)


async def until(condition: Callable[[], Any], timeout: float = 3.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := condition()):
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)
    return value


def new_no(prefix: str = "T") -> str:
    return prefix + datetime.now().strftime("%Y%m%d") + secrets.token_hex(6).upper()


@pytest.fixture(scope="module")
def merchants() -> tuple[DevMerchant, DevMerchant]:
    return DevMerchant.generate("1900000109", "wxd678efh567hg6787"), DevMerchant.generate("1900000110", "wx2")


@pytest.fixture
async def fake(merchants) -> AsyncIterator[tuple[FakeServer, FakeWeChatPayState]]:
    server, state = make_fake_wechatpay(list(merchants))
    server.start()
    yield server, state
    await server.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    r.server.start()
    yield r
    await r.server.stop()


def client(m: DevMerchant, notify_url: str, private_key: str | None = None,
           kind: WeChatPayType = WeChatPayType.MINIPROG) -> AsyncWeChatPay:
    return AsyncWeChatPay(wechatpay_type=kind, mchid=m.mchid, private_key=private_key or m.private_key_pem,
                          cert_serial_no=m.serial_no, appid=m.appid, apiv3_key=m.apiv3_key, notify_url=notify_url,
                          public_key=m.platform_public_pem, public_key_id=m.public_key_id)


@pytest.fixture
async def pay(fake, receiver, merchants) -> AsyncIterator[AsyncWeChatPay]:
    async with client(merchants[0], receiver.url) as p:
        p._core._gate_way = fake[0].url
        yield p


async def prepay(pay: AsyncWeChatPay, total: int = 1000, no: str | None = None, **kw: Any) -> tuple[str, str]:
    no = no or new_no()
    code, text = await pay.pay(description=kw.pop("description", "社保缴费"), out_trade_no=no,
                               amount={"total": total, "currency": "CNY"}, payer={"openid": OPENID}, **kw)
    assert code == 200, text
    return no, json.loads(text)["prepay_id"]


async def paid(pay: AsyncWeChatPay, state: FakeWeChatPayState, total: int = 1000, **kw: Any) -> dict[str, Any]:
    no, prepay_id = await prepay(pay, total, **kw)
    return await state.confirm(prepay_id)


async def test_prepay_confirm_query_and_a_notification_the_client_verifies_and_decrypts(fake, pay, receiver, merchants):
    _, state = fake
    m = merchants[0]
    no, prepay_id = await prepay(pay, 1000, attach="order:42")
    assert re.fullmatch(r"wx\d{14}[0-9a-f]{20}", prepay_id)  # like wx201410272009395522657a690389285100
    code, text = await pay.query(out_trade_no=no)
    unpaid = json.loads(text)
    assert code == 200 and unpaid["trade_state"] == "NOTPAY" and unpaid["trade_state_desc"] == "订单未支付"
    assert "transaction_id" not in unpaid and "success_time" not in unpaid

    confirmed = await state.confirm(prepay_id)
    code, text = await pay.query(out_trade_no=no)  # the client verified the answer's signature
    q = json.loads(text)
    assert code == 200 and q == confirmed
    assert q["trade_state"] == "SUCCESS" and q["trade_type"] == "JSAPI" and q["transaction_id"].startswith("42000")
    assert (q["appid"], q["mchid"], q["out_trade_no"], q["attach"], q["payer"]) == (
        m.appid, m.mchid, no, "order:42", {"openid": OPENID})
    assert q["amount"] == {"total": 1000, "payer_total": 1000, "currency": "CNY", "payer_currency": "CNY"}
    paid_at = datetime.fromisoformat(q["success_time"])
    assert paid_at.utcoffset() == timedelta(hours=8) and q["success_time"].endswith("+08:00")
    assert json.loads((await pay.query(transaction_id=q["transaction_id"]))[1]) == q

    headers, body = (await until(lambda: receiver.events("TRANSACTION.SUCCESS")))[0]
    assert headers["Wechatpay-Serial"] == m.public_key_id and headers["Wechatpay-Signature-Type"] == \
        "WECHATPAY2-SHA256-RSA2048"
    note = pay.callback(headers, body)
    assert note["event_type"] == "TRANSACTION.SUCCESS" and note["resource_type"] == "encrypt-resource"
    assert note["summary"] == "支付成功" and note["resource"] == q
    assert json.loads(body)["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert pay.callback(headers, body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.FAILED")) is None  # tampered
    # paying once more is refused, and nothing more is sent
    with pytest.raises(WeChatPayError) as refused:
        await state.confirm(prepay_id)
    assert (refused.value.status, refused.value.code, refused.value.message) == (409, "ORDERPAID", "该订单已支付")
    with pytest.raises(WeChatPayError) as unknown:
        await state.confirm("wx-no-such-prepay")
    assert unknown.value.code == "ORDER_NOT_EXIST"
    assert [n["event_type"] for n in state.notifications] == ["TRANSACTION.SUCCESS"]
    assert await until(lambda: state.notifications[0]["attempts"]) == [204]  # answered 2xx: sent once


async def test_requests_not_signed_by_the_merchant_are_refused_and_every_answer_is_signed(fake, receiver, merchants):
    server, _ = fake
    m, other = merchants
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    async with client(m, receiver.url, private_key=stranger) as bad:
        bad._core._gate_way = server.url
        code, text = await bad.query(out_trade_no="T000001")
        assert code == 401 and json.loads(text) == {"code": "SIGN_ERROR", "message": "签名错误"}
        code, _ = await bad.pay(description="x", out_trade_no=new_no(), amount={"total": 1}, payer={"openid": OPENID})
        assert code == 401
    async with client(other, receiver.url, private_key=m.private_key_pem) as mixed:  # B's mchid, A's key
        mixed._core._gate_way = server.url
        assert (await mixed.query(out_trade_no="T000001"))[0] == 401

    platform = load_public_key(m.platform_public_pem)
    path = "/v3/pay/transactions/out-trade-no/T000404?mchid=" + m.mchid
    async with httpx.AsyncClient(base_url=server.url) as web:
        for headers, status in [({}, 401), ({"Authorization": build_authorization(
                path, "GET", m.mchid, m.serial_no, load_private_key(m.private_key_pem))}, 404), (
                {"Authorization": build_authorization(path, "GET", m.mchid, "0" * 40,
                                                      load_private_key(m.private_key_pem))}, 401)]:
            r = await web.get(path, headers=headers)
            assert r.status_code == status and r.headers["Content-Type"] == "application/json; charset=utf-8"
            assert r.headers["Wechatpay-Serial"] == m.public_key_id and r.headers["Request-ID"]
            assert rsa_verify(r.headers["Wechatpay-Timestamp"], r.headers["Wechatpay-Nonce"], r.text,
                              r.headers["Wechatpay-Signature"], platform)
        assert r.json() == {"code": "SIGN_ERROR", "message": "签名错误"}
        # the signature covers the body: one signed for another body is refused
        body = json.dumps({"mchid": m.mchid})
        auth = build_authorization("/v3/pay/transactions/out-trade-no/T000404/close", "POST", m.mchid, m.serial_no,
                                   load_private_key(m.private_key_pem), data=body)
        r = await web.post("/v3/pay/transactions/out-trade-no/T000404/close", headers={"Authorization": auth},
                           content=json.dumps({"mchid": other.mchid}))
        assert r.status_code == 401


async def test_bad_parameters_and_a_mismatched_mchid(fake, pay, merchants):
    m, other = merchants
    code, text = await pay.pay(description="社保缴费", out_trade_no=new_no(), amount={"total": 0, "currency": "CNY"},
                               payer={"openid": OPENID})
    assert code == 400 and json.loads(text)["code"] == "PARAM_ERROR" and "/body/amount/total" in json.loads(text)[
        "message"]
    code, text = await pay.pay(description="社保缴费", out_trade_no="短", amount={"total": 1}, payer={"openid": OPENID})
    assert code == 400 and json.loads(text)["code"] == "PARAM_ERROR"
    code, text = await pay.pay(description="社保缴费", out_trade_no=new_no(), amount={"total": 1},
                               payer={"openid": OPENID}, mchid=other.mchid)
    assert code == 400 and json.loads(text)["code"] == "MCH_NOT_EXISTS"
    code, text = await pay.pay(description="社保缴费", out_trade_no=new_no(), amount={"total": 1},
                               payer={"openid": OPENID}, appid="wx_not_bound")
    assert code == 400 and json.loads(text)["code"] == "APPID_MCHID_NOT_MATCH"
    code, text = await pay.query(out_trade_no="T000001", mchid=other.mchid)
    assert code == 400 and json.loads(text)["code"] == "MCH_NOT_EXISTS"
    code, text = await pay.query(out_trade_no="T000001")
    assert code == 404 and json.loads(text) == {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}


async def test_the_same_order_again_gets_the_same_prepay_id_a_different_one_is_refused(fake, pay):
    _, state = fake
    no, prepay_id = await prepay(pay, 1000)
    assert (await prepay(pay, 1000, no))[1] == prepay_id
    code, text = await pay.pay(description="社保缴费", out_trade_no=no, amount={"total": 1001, "currency": "CNY"},
                               payer={"openid": OPENID})
    assert code == 400 and json.loads(text) == {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"}
    code, text = await pay.pay(description="社保缴费", out_trade_no=no, amount={"total": 1000, "currency": "CNY"},
                               pay_type=WeChatPayType.H5, scene_info={"payer_client_ip": "203.0.113.7",
                                                                      "h5_info": {"type": "Wap"}})
    assert code == 400 and json.loads(text)["code"] == "INVALID_REQUEST"
    await state.confirm(prepay_id)
    code, text = await pay.pay(description="社保缴费", out_trade_no=no, amount={"total": 1000, "currency": "CNY"},
                               payer={"openid": OPENID})
    assert code == 400 and json.loads(text) == {"code": "ORDERPAID", "message": "该订单已支付"}
    assert len(state.transactions) == 1


async def test_close_then_the_order_is_closed_and_cannot_be_paid(fake, pay):
    _, state = fake
    no, prepay_id = await prepay(pay, 500)
    code, body = await pay.close(no)  # 204, signed, no body: the client verified the signature over ""
    assert (code, body) == (204, b"")
    q = json.loads((await pay.query(out_trade_no=no))[1])
    assert q["trade_state"] == "CLOSED" and q["trade_state_desc"] == "订单已关闭"
    assert (await pay.close(no))[0] == 204
    code, text = await pay.pay(description="社保缴费", out_trade_no=no, amount={"total": 500, "currency": "CNY"},
                               payer={"openid": OPENID})
    assert code == 400 and json.loads(text)["code"] == "ORDERCLOSED"
    with pytest.raises(WeChatPayError) as refused:
        await state.confirm(prepay_id)
    assert refused.value.code == "ORDERCLOSED"
    assert json.loads((await pay.close("T000404"))[1])["code"] == "ORDER_NOT_EXIST"
    other = await paid(pay, state)
    code, text = await pay.close(other["out_trade_no"])
    assert code == 400 and json.loads(text) == {"code": "ORDERPAID", "message": "该订单已支付"}
    assert state.notifications and all(n["event_type"] == "TRANSACTION.SUCCESS" for n in state.notifications)


async def test_a_refund_is_processing_then_succeeds_once_and_is_notified(fake, pay, receiver, merchants):
    _, state = fake
    m = merchants[0]
    state.refund_delay = 0.3  # long enough to see PROCESSING
    trade = await paid(pay, state, 1000)
    no, rno = trade["out_trade_no"], new_no("R")
    code, text = await pay.refund(out_refund_no=rno, amount={"refund": 400, "total": 1000, "currency": "CNY"},
                                  out_trade_no=no, reason="多缴退费")
    r = json.loads(text)
    assert code == 200 and r["status"] == "PROCESSING" and r["refund_id"].startswith("50")
    assert (r["out_refund_no"], r["out_trade_no"], r["transaction_id"]) == (rno, no, trade["transaction_id"])
    assert (r["channel"], r["user_received_account"]) == ("ORIGINAL", "支付用户零钱")
    assert r["amount"] == {"total": 1000, "refund": 400, "payer_total": 1000, "payer_refund": 400, "currency": "CNY"}
    assert json.loads((await pay.query_refund(rno))[1])["status"] == "PROCESSING"
    # the same out_refund_no again (even with another amount): the same refund, never a second one
    again = json.loads((await pay.refund(out_refund_no=rno, amount={"refund": 600, "total": 1000, "currency": "CNY"},
                                         out_trade_no=no))[1])
    assert again["refund_id"] == r["refund_id"] and again["amount"]["refund"] == 400 and len(state.refunds) == 1

    done = await until(lambda: receiver.events("REFUND.SUCCESS"))
    q = json.loads((await pay.query_refund(rno))[1])
    assert q["status"] == "SUCCESS" and q["success_time"].endswith("+08:00")
    note = pay.callback(*done[0])
    assert note["event_type"] == "REFUND.SUCCESS" and note["summary"] == "退款成功"
    assert note["resource"] == {
        "mchid": m.mchid, "out_trade_no": no, "transaction_id": trade["transaction_id"], "out_refund_no": rno,
        "refund_id": r["refund_id"], "refund_status": "SUCCESS", "success_time": q["success_time"],
        "user_received_account": "支付用户零钱", "amount": {"total": 1000, "refund": 400, "payer_total": 1000,
                                                          "payer_refund": 400}}
    assert json.loads((await pay.query(out_trade_no=no))[1])["trade_state"] == "SUCCESS"  # partly refunded

    for amount in ({"refund": 700, "total": 1000}, {"refund": 100, "total": 999}):  # more than the rest; wrong total
        code, text = await pay.refund(out_refund_no=new_no("R"), amount={**amount, "currency": "CNY"}, out_trade_no=no)
        assert code == 400 and json.loads(text)["code"] == "INVALID_REQUEST"
    state.refund_delay = 0.01
    rest = new_no("R")
    code, _ = await pay.refund(out_refund_no=rest, amount={"refund": 600, "total": 1000, "currency": "CNY"},
                               transaction_id=trade["transaction_id"])
    assert code == 200
    await until(lambda: state.refunds[(m.mchid, rest)]["status"] == "SUCCESS")
    q = json.loads((await pay.query(out_trade_no=no))[1])
    assert q["trade_state"] == "REFUND" and q["trade_state_desc"] == "订单发生过退款"
    await until(lambda: len(receiver.events("REFUND.SUCCESS")) == 2)
    assert sum(n["event_type"] == "REFUND.SUCCESS" for n in state.notifications) == 2

    unpaid, _ = await prepay(pay, 300)
    code, text = await pay.refund(out_refund_no=new_no("R"), amount={"refund": 1, "total": 300}, out_trade_no=unpaid)
    assert code == 400 and json.loads(text) == {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在或未支付"}
    code, text = await pay.refund(out_refund_no=new_no("R"), amount={"refund": 1, "total": 300},
                                  out_trade_no="T000404")
    assert code == 404 and json.loads(text)["code"] == "RESOURCE_NOT_EXISTS"
    code, text = await pay.query_refund("R000404")
    assert code == 404 and json.loads(text)["code"] == "RESOURCE_NOT_EXISTS"


async def test_notifications_are_retried_and_a_lost_one_can_be_delivered_again(fake, pay, receiver):
    _, state = fake
    state.retry_delays = [0.01, 0.01]
    receiver.fail_next = 2
    first = await paid(pay, state)
    assert await until(lambda: state.notifications[-1]["attempts"][2:]) == [204]
    assert state.notifications[-1]["attempts"] == [500, 500, 204] and len(receiver.received) == 1
    assert json.loads(state.notifications[-1]["body"])["event_type"] == "TRANSACTION.SUCCESS"
    assert pay.callback(*receiver.received[0])["resource"]["out_trade_no"] == first["out_trade_no"]

    receiver.fail_next = 9  # never answered: three tries, then WeChat gives up
    await paid(pay, state)
    await until(lambda: len(state.notifications[-1]["attempts"]) == 3)
    assert state.notifications[-1]["attempts"] == [500, 500, 500] and len(receiver.received) == 1

    receiver.fail_next = 0
    state.deliver = False  # lost: recorded, never sent
    assert not state.deliver
    lost = await paid(pay, state)
    n = state.notifications[-1]
    assert n["attempts"] == [] and len(receiver.received) == 1
    assert await state.deliver(n) == 204  # a test delivers it (again) by hand, even while sending is off
    assert pay.callback(*receiver.received[-1])["resource"]["out_trade_no"] == lost["out_trade_no"]
    state.deliver = True
    assert state.deliver and await state.deliver(n) == 204
    assert receiver.received[-1][1] == receiver.received[-2][1]  # the same notification twice, as WeChat may


async def test_h5_prepay_and_the_cashier_page_pay_and_go_back(fake, pay, receiver):
    server, state = fake
    no = new_no("H")
    code, text = await pay.pay(description="不动产登记费 <加急>", out_trade_no=no, pay_type=WeChatPayType.H5,
                               amount={"total": 1234, "currency": "CNY"},
                               scene_info={"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}})
    h5_url = json.loads(text)["h5_url"]
    assert code == 200 and h5_url.startswith(server.url + "/cashier?prepay_id=wx")
    back = "https://h5.example.gov.cn/pay/result?order=42&from=wechat"
    async with httpx.AsyncClient() as web:
        page = await web.get(h5_url + "&redirect_url=" + quote(back, safe=""))
        html = page.text
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        for part in ('<html lang="zh-CN">', '<meta name="viewport"', "<title>", "<main>", "<h1>微信支付</h1>",
                     "不动产登记费 &lt;加急&gt;", "¥12.34", '<form method="post" action="/cashier/pay">',
                     '<button type="submit">确认支付</button>', 'href="https://h5.example.gov.cn/pay/result?order=42&amp;'
                     'from=wechat">取消</a>'):
            assert part in html, part
        assert "<加急>" not in html and "src=" not in html and "<link" not in html  # escaped; nothing external
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
        assert fields["prepay_id"] == h5_url.split("prepay_id=")[1]
        done = await web.post(server.url + "/cashier/pay", data={"prepay_id": fields["prepay_id"],
                                                                   "redirect_url": back}, follow_redirects=False)
        assert done.status_code == 302 and done.headers["Location"] == back
        q = json.loads((await pay.query(out_trade_no=no))[1])
        assert q["trade_state"] == "SUCCESS" and q["trade_type"] == "MWEB" and q["payer"]["openid"]
        note = pay.callback(*(await until(lambda: receiver.received))[0])
        assert note["resource"]["trade_type"] == "MWEB" and note["resource"]["amount"]["total"] == 1234

        again = await web.post(server.url + "/cashier/pay", data={"prepay_id": fields["prepay_id"]})
        assert again.status_code == 409 and "该订单已支付" in again.text
        assert "该订单已支付" in (await web.get(h5_url)).text
        assert (await web.get(server.url + "/cashier?prepay_id=wx404")).status_code == 404

        # only http(s) pages to go back to: no javascript: link, and a result page instead of a redirect
        code, text = await pay.pay(description="工本费", out_trade_no=new_no("H"), pay_type=WeChatPayType.H5,
                                   amount={"total": 500, "currency": "CNY"},
                                   scene_info={"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}})
        h5_url = json.loads(text)["h5_url"]
        page = await web.get(h5_url + "&redirect_url=" + quote("javascript:alert(1)"))
        assert "javascript:" not in page.text and "取消" not in page.text
        done = await web.post(server.url + "/cashier/pay", data={
            "prepay_id": h5_url.split("prepay_id=")[1], "redirect_url": "javascript:alert(1)"}, follow_redirects=False)
        assert done.status_code == 200 and "支付成功" in done.text and "Location" not in done.headers
    assert [n["event_type"] for n in state.notifications] == ["TRANSACTION.SUCCESS"] * 2


def parse_bill(text: str) -> tuple[list[list[str]], list[dict[str, str]], dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER and rows[-2] == SUMMARY
    assert all(f.startswith("`") for r in rows[1:-2] + rows[-1:] for f in r)
    records = [dict(zip(HEADER, (f[1:] for f in r))) for r in rows[1:-2]]
    return rows, records, dict(zip(SUMMARY, (f[1:] for f in rows[-1])))


async def test_the_trade_bill_lists_the_days_payments_refunds_and_an_unrecorded_payment(fake, pay, merchants):
    server, state = fake
    m, other = merchants
    state.refund_delay = 0.01
    first = await paid(pay, state, 1000, description="机动车驾驶证工本费")
    second = await paid(pay, state, 2550)
    rno = new_no("R")
    await pay.refund(out_refund_no=rno, amount={"refund": 500, "total": 1000, "currency": "CNY"},
                     out_trade_no=first["out_trade_no"])
    await until(lambda: state.refunds[(m.mchid, rno)]["status"] == "SUCCESS")
    ghost = state.add_unrecorded_payment(m.mchid, "UNKNOWN20261206X1", 123)
    unpaid, _ = await prepay(pay, 999)
    state.add_unrecorded_payment(other.mchid, "OTHERMERCHANT01", 777)
    day = datetime.fromisoformat(first["success_time"]).date().isoformat()  # China time

    code, text = await pay.trade_bill(bill_date=day)  # tar_type GZIP, the client's default
    info = json.loads(text)
    assert code == 200 and info["hash_type"] == "SHA1"
    assert info["download_url"].startswith(server.url + "/v3/billdownload/file?token=")
    code, data = await pay.download_bill(info["download_url"])
    assert code == 200 and isinstance(data, bytes) and data[:2] == b"\x1f\x8b"
    text = gzip.decompress(data).decode("utf-8")
    assert hashlib.sha1(text.encode()).hexdigest() == info["hash_value"]  # of the bill, not of the gzip (as WeChat)
    rows, records, summary = parse_bill(text)

    payments = {r["商户订单号"]: r for r in records if r["交易状态"] == "SUCCESS"}
    assert set(payments) == {first["out_trade_no"], second["out_trade_no"], "UNKNOWN20261206X1"}  # not unpaid
    assert unpaid not in payments and "OTHERMERCHANT01" not in text
    p = payments[first["out_trade_no"]]
    assert (p["公众账号ID"], p["商户号"], p["微信订单号"], p["用户标识"], p["交易类型"], p["付款银行"], p["货币种类"]) == (
        m.appid, m.mchid, first["transaction_id"], OPENID, "JSAPI", "OTHERS", "CNY")
    assert (p["应结订单金额"], p["订单金额"], p["手续费"], p["费率"], p["退款金额"], p["商品名称"]) == (
        "10.00", "10.00", "0.06000", "0.60%", "0.00", "机动车驾驶证工本费")
    assert datetime.strptime(p["交易时间"], "%Y-%m-%d %H:%M:%S") == datetime.fromisoformat(
        first["success_time"]).replace(tzinfo=None)
    assert (payments[second["out_trade_no"]]["应结订单金额"], payments[second["out_trade_no"]]["手续费"]) == (
        "25.50", "0.15000")
    assert (payments["UNKNOWN20261206X1"]["应结订单金额"], payments["UNKNOWN20261206X1"]["微信订单号"]) == (
        "1.23", ghost["transaction_id"])
    (refund,) = [r for r in records if r["交易状态"] == "REFUND"]
    assert (refund["商户订单号"], refund["微信退款单号"], refund["商户退款单号"], refund["退款金额"], refund["申请退款金额"],
            refund["退款类型"], refund["退款状态"], refund["应结订单金额"], refund["手续费"]) == (
        first["out_trade_no"], state.refunds[(m.mchid, rno)]["refund_id"], rno, "5.00", "5.00", "ORIGINAL",
        "SUCCESS", "0.00", "-0.03000")
    assert summary == {"总交易单数": "4", "应结订单总金额": "36.73", "退款总金额": "5.00", "充值券退款总金额": "0.00",
                       "手续费总金额": "0.19000", "订单总金额": "36.73", "申请退款总金额": "5.00"}

    # without tar_type: the CSV itself (wechatpayv3 cannot leave tar_type out: it sends "None")
    code, text = await pay._core.request(f"/v3/bill/tradebill?bill_date={day}&bill_type=ALL")
    code, plain = await pay.download_bill(json.loads(text)["download_url"])
    assert code == 200 and plain.decode("utf-8") == gzip.decompress(data).decode("utf-8")
    assert hashlib.sha1(plain).hexdigest() == json.loads(text)["hash_value"] == info["hash_value"]
    code, text = await pay.trade_bill(bill_date=day, tar_type=None)
    assert code == 400 and json.loads(text)["code"] == "PARAM_ERROR"
    # no trade that day, a bad date, another merchant's file
    code, text = await pay.trade_bill(bill_date=(date.fromisoformat(day) - timedelta(days=1)).isoformat())
    assert code == 400 and json.loads(text) == {"code": "NO_STATEMENT_EXIST", "message": "账单文件不存在"}
    assert json.loads((await pay.trade_bill(bill_date="2026-13-01"))[1])["code"] == "PARAM_ERROR"
    async with client(other, "https://example.gov.cn/notify") as b:
        b._core._gate_way = server.url
        code, text = await b.download_bill(info["download_url"])
        assert code == 404 and json.loads(text)["code"] == "RESOURCE_NOT_EXISTS"
        code, text = await b.trade_bill(bill_date=day)
        _, data = await b.download_bill(json.loads(text)["download_url"])
        _, records, summary = parse_bill(gzip.decompress(data).decode("utf-8"))
        assert [r["商户订单号"] for r in records] == ["OTHERMERCHANT01"] and summary["应结订单总金额"] == "7.77"


async def test_fake_pay_over_http_for_the_mini_program(fake, pay, receiver):
    server, state = fake
    no, prepay_id = await prepay(pay, 880)
    async with httpx.AsyncClient(base_url=server.url) as web:
        r = await web.post("/_fake/pay", json={"prepay_id": prepay_id})
        assert r.status_code == 200 and r.json()["trade_state"] == "SUCCESS" and r.json()["out_trade_no"] == no
        r = await web.post("/_fake/pay", json={"prepay_id": prepay_id})
        assert r.status_code == 409 and r.json() == {"code": "ORDERPAID", "message": "该订单已支付"}
        r = await web.post("/_fake/pay", json={"prepay_id": "wx404"})
        assert r.status_code == 404 and r.json()["code"] == "ORDER_NOT_EXIST"
        assert (await web.post("/_fake/pay", content=b"not json")).status_code == 400
        closed, closed_prepay = await prepay(pay, 100)
        await pay.close(closed)
        r = await web.post("/_fake/pay", json={"prepay_id": closed_prepay})
        assert r.status_code == 409 and r.json()["code"] == "ORDERCLOSED"
    note = pay.callback(*(await until(lambda: receiver.received))[0])
    assert note["resource"]["out_trade_no"] == no and note["resource"]["amount"]["total"] == 880
    assert json.loads((await pay.query(out_trade_no=no))[1])["trade_state"] == "SUCCESS"
