"""Payments: the cost of what WeChat Pay sends us, against baselines measured in the same run.

    .venv/bin/python bench/fees.py [--notifications 2000] [--bill-rows 20000] [--rounds 3]

1. A notification: the signature verified with the platform public key (RSA-SHA256) and the
   resource decrypted (AEAD_AES_256_GCM) by wechatpayv3's ``callback`` — what
   ``POST /api/v1/payments/wechat/notify`` does before it reads the order — against the
   baseline of only parsing the same body as JSON.
2. A day's trade bill: ``payments.provider.parse_bill`` (backtick fields, yuan to exact fen)
   over a bill of ``--bill-rows`` payments and refunds, against the baseline of splitting the
   same CSV with ``csv.reader`` alone.
Notifications are made by the fake WeChat Pay's own signing and encryption code paths.
Prints per-item microseconds, items/s and the ratios.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wechatpayv3.async_ import AsyncWeChatPay, WeChatPayType  # noqa: E402

from payments.provider import parse_bill  # noqa: E402
from superapp.fakes.wechatpay import CN, DevMerchant, FakeWeChatPayState  # noqa: E402


async def notifications(state: FakeWeChatPayState, m: DevMerchant, n: int) -> list[dict]:
    """``n`` TRANSACTION.SUCCESS notifications, signed and encrypted by the fake (not sent)."""
    state.deliver = False
    for i in range(n):
        t = state.prepay(m.mchid, {"appid": m.appid, "mchid": m.mchid, "description": "工本费",
                                   "out_trade_no": f"bench{i:08d}J1", "notify_url": "http://127.0.0.1:9/n",
                                   "amount": {"total": 1000, "currency": "CNY"}, "payer": {"openid": "o1"}}, False)
        await state.confirm(t["_prepay_id"])
    return list(state.notifications)


def bill(state: FakeWeChatPayState, m: DevMerchant, rows: int) -> str:
    for i in range(rows):
        state.add_unrecorded_payment(m.mchid, f"bill{i:08d}J1", 100 + i % 5000)
    return state.trade_bill(m.mchid, datetime.now(CN).date()).decode("utf-8")


def timed(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notifications", type=int, default=2000)
    ap.add_argument("--bill-rows", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    m = DevMerchant.generate("1900000101", "wx0000000000000000")
    state = FakeWeChatPayState([m])
    sent = asyncio.run(notifications(state, m, args.notifications))
    pay = AsyncWeChatPay(wechatpay_type=WeChatPayType.MINIPROG, mchid=m.mchid, private_key=m.private_key_pem,
                         cert_serial_no=m.serial_no, appid=m.appid, apiv3_key=m.apiv3_key,
                         notify_url="http://127.0.0.1:9/n", public_key=m.platform_public_pem,
                         public_key_id=m.public_key_id)
    assert pay.callback(sent[0]["headers"], sent[0]["body"])["resource"]["amount"]["total"] == 1000
    verify, parse = [], []
    for _ in range(args.rounds):
        verify.append(timed(lambda n: pay.callback(n["headers"], n["body"]), sent))
        parse.append(timed(lambda n: json.loads(n["body"]), sent))
    v, p = statistics.median(verify), statistics.median(parse)
    print(f"notification: verify+decrypt {v * 1e6:8.1f} µs ({1 / v:9.0f}/s); JSON only {p * 1e6:6.1f} µs "
          f"({1 / p:9.0f}/s); ratio {v / p:6.1f}x the baseline")
    text = bill(state, m, args.bill_rows)
    ours, base = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        rows = parse_bill(text)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        raw = list(csv.reader(io.StringIO(text)))
        base.append(time.perf_counter() - start)
    assert len(rows) == args.bill_rows + args.notifications and len(raw) > len(rows)  # + header and summary
    o, b = statistics.median(ours), statistics.median(base)
    print(f"bill of {len(rows)} rows: parse_bill {o * 1e3:7.1f} ms ({o / len(rows) * 1e6:5.2f} µs/row); "
          f"csv.reader {b * 1e3:7.1f} ms; ratio {o / b:5.1f}x the baseline")


if __name__ == "__main__":
    main()
