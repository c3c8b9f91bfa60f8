"""The one liberty taken with wechatpayv3: its hard-coded gateway (``_core._gate_way``) is set
to the configured one. Pinned to 2.0.4; this fails loudly if a release moves the attribute,
so the upgrade is looked at instead of silently paying against the real WeChat."""
from __future__ import annotations

import importlib.metadata

import pytest
from wechatpayv3.async_ import AsyncWeChatPay, WeChatPayType

from payments.provider import WECHAT_GATEWAY, fen, parse_bill, point_at
from superapp.fakes.wechatpay import DevMerchant


def client(m: DevMerchant) -> AsyncWeChatPay:
    return AsyncWeChatPay(wechatpay_type=WeChatPayType.MINIPROG, mchid=m.mchid, private_key=m.private_key_pem,
                          cert_serial_no=m.serial_no, appid=m.appid, apiv3_key=m.apiv3_key,
                          notify_url="https://example.invalid/notify", public_key=m.platform_public_pem,
                          public_key_id=m.public_key_id)


def test_the_pinned_release_keeps_its_gateway_where_we_set_it():
    assert importlib.metadata.version("wechatpayv3") == "2.0.4", "re-check payments/provider.py before upgrading"
    pay = client(DevMerchant.generate("1900000199", "wx0000000000000000"))
    assert pay._core._gate_way == WECHAT_GATEWAY
    point_at(pay, "http://127.0.0.1:9/")
    assert pay._core._gate_way == "http://127.0.0.1:9"


def test_a_client_without_that_attribute_is_refused_loudly():
    pay = client(DevMerchant.generate("1900000198", "wx0000000000000000"))
    del pay._core._gate_way
    with pytest.raises(RuntimeError, match="_gate_way"):
        point_at(pay, "http://127.0.0.1:9")


def test_bill_amounts_are_exact_fen_and_the_summary_is_not_a_row():
    text = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
            "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
            "手续费,费率,订单金额,申请退款金额,费率备注\n"
            "`2026-12-06 10:00:00,`wx1,`19,`0,`,`4200001,`poA,`o1,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.29,`0.00,`0,`0,"
            "`0.00,`0.00,`,`,`工本费,`,`0.00,`0.60%,`0.29,`0.00,`\n"
            "`2026-12-06 11:00:00,`wx1,`19,`0,`,`4200001,`poA,`o1,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5001,`poAR,"
            "`0.29,`0.00,`ORIGINAL,`SUCCESS,`工本费,`,`0.00,`0.60%,`0.29,`0.29,`\n"
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n"
            "`2,`0.29,`0.29,`0.00,`0.00,`0.29,`0.29\n")
    rows = parse_bill(text)
    assert [(r["kind"], r["ref"], r["amount_fen"]) for r in rows] == [("payment", "poA", 29), ("refund", "poAR", 29)]
    assert fen("`10.10") == 1010 and fen("0.07") == 7
