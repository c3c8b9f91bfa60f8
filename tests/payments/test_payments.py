"""Fees paid in the app, over HTTP, with the real WeChat Pay v3 client (wechatpayv3) against
the fake WeChat Pay on loopback: pay → notification (delivered twice) → 受理; deny →
automatic refund; a lost notification settled by the worker's query; two devices paying at
once; a waiver by rule; a fee due after approval; the day's reconciliation."""
from __future__ import annotations

import asyncio
import base64
import time
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.matters.test_matters import staff_act
from tests.payments.support import (NOTIFY, apply_licence, forged, ledger_of, merchant_of, order_in, paid_licence,
                                    pay, settled, wechat_person)
from tests.support import assert_problem, bearer, demo_staff, staff_token

CHINA = timezone(timedelta(hours=8))


async def clerk(app, username: str = "gaj.shouli") -> dict[str, str]:
    return bearer(await staff_token(app.api, demo_staff(app.ctx, username)))


async def test_pay_the_notification_twice_then_the_clerk_accepts(idapp):
    api, fake = idapp.api, idapp.runner.fake_wechatpay
    person = await wechat_person(idapp)
    app = await apply_licence(idapp, person)
    assert app["fee"]["state"] == "unpaid" and app["fee"]["amount_fen"] == 1000
    intake = await clerk(idapp)
    # 待缴费: not 受理-able yet, and the queue says so
    assert_problem(await staff_act(idapp, intake["Authorization"][7:], app["id"], "accept", app["version"]), 409,
                   "fee_unpaid")
    queue = (await api.get("/api/v1/staff/queue", headers=intake)).json()["items"]
    assert next(a for a in queue if a["id"] == app["id"])["fee"]["state_name"] == "待缴费"

    order = (await api.get(f"/api/v1/applications/{app['id']}/payment", headers=person["h"])).json()
    assert order["items"] == [{"name": "机动车驾驶证工本费", "amount_fen": 1000}] and order["state"] == "unpaid"
    assert order["collector"] == "广州市公安局交通警察支队" and order["waiver"] is None
    made = await pay(idapp, person, order["id"])
    assert made.status == 201, made.body
    params = made.json()["params"]
    # wx.requestPayment's parameters, signed with the merchant's key (RSA over appId, timeStamp, nonceStr, package)
    m = merchant_of(idapp)
    key = serialization.load_pem_private_key(m.private_key_pem.encode(), None).public_key()
    key.verify(base64.b64decode(params["paySign"]),
               f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode(),
               padding.PKCS1v15(), hashes.SHA256())
    assert params["signType"] == "RSA" and params["appId"] == idapp.ctx.settings.wechat.appid

    await fake.confirm(params["package"].removeprefix("prepay_id="))
    paid = await order_in(idapp, person, app["id"], "paid")
    assert paid["state"] == "paid" and paid["paid"]["transaction_id"].startswith("42")
    # WeChat delivers the same notification again: answered 2xx, nothing counted twice
    sent = [n for n in fake.notifications if n["event_type"] == "TRANSACTION.SUCCESS"][-1]
    assert await fake.redeliver(sent) == 204
    assert await fake.redeliver(sent) == 204
    entries = await ledger_of(idapp, order["id"])
    assert [e["kind"] for e in entries] == ["charge", "payment"] and entries[1]["amount_fen"] == 1000
    # 电子票据 in the wallet, signed by the collecting department
    receipt = (await order_in(idapp, person, app["id"], "paid"))["receipt"]
    assert receipt and receipt["certificate_id"]
    wallet = (await api.get("/api/v1/wallet", headers=person["h"])).json()["items"]
    assert any(c["id"] == receipt["certificate_id"] and c["type_name"] == "非税收入电子票据" for c in wallet)
    accepted = await staff_act(idapp, intake["Authorization"][7:], app["id"], "accept", app["version"])
    assert accepted.status == 200, accepted.body
    assert accepted.json()["fee"]["state"] == "paid"
    # the person's trail says what happened to their money
    trail = (await api.get("/api/v1/me/activity", headers=person["h"])).json()["items"]
    assert {"payment.charged", "payment.paid"} <= {e["action"] for e in trail}


async def test_a_denied_application_is_refunded_automatically(idapp):
    person, app, _, _ = await paid_licence(idapp, "被驳回")
    intake, reviewer = await clerk(idapp), await clerk(idapp, "gaj.shenhe")
    accepted = (await staff_act(idapp, intake["Authorization"][7:], app["id"], "accept", app["version"])).json()
    denied = await staff_act(idapp, reviewer["Authorization"][7:], app["id"], "deny", accepted["version"],
                             "驾驶证已被注销，不符合换证条件")
    assert denied.status == 200, denied.body
    refunded = await order_in(idapp, person, app["id"], "refunded")
    assert refunded["state"] == "refunded" and refunded["refunds"][0]["state"] == "succeeded"
    assert refunded["refunds"][0]["amount_fen"] == 1000 and "自动退款" in refunded["refunds"][0]["reason"]
    kinds = [e["kind"] for e in await ledger_of(idapp, app["fee"]["order_id"])]
    assert kinds == ["charge", "payment", "refund"]
    shown = (await idapp.api.get(f"/api/v1/applications/{app['id']}", headers=person["h"])).json()
    assert shown["fee"]["state_name"] == "已退款"
    # the money went back: the 电子票据 is revoked (作废) and proves no payment any more
    receipt = refunded["receipt"]["certificate_id"]
    voided = await settled(lambda: _status_of(idapp, person, receipt, "revoked"))
    assert voided, "the receipt is revoked once the refund succeeded"


async def _status_of(app, person, cert_id, status):
    cert = await app.api.get(f"/api/v1/wallet/{cert_id}", headers=person["h"])
    return cert.status == 200 and cert.json()["status"] == status


async def test_a_lost_notification_is_settled_by_the_workers_query(idapp):
    fake = idapp.runner.fake_wechatpay
    person = await wechat_person(idapp, "丢通知")
    app = await apply_licence(idapp, person)
    made = await pay(idapp, person, app["fee"]["order_id"])
    fake.deliver = False  # WeChat took the money; its notification never arrives (or we crashed)
    try:
        await fake.confirm(made.json()["params"]["package"][10:])
        await asyncio.sleep(0.2)
        assert (await order_in(idapp, person, app["id"], "paying", 0))["state"] == "paying"
    finally:
        fake.deliver = True
    assert await idapp.ctx.payments.sweep(0) >= 1
    assert (await order_in(idapp, person, app["id"], "paid"))["state"] == "paid"


async def test_two_devices_paying_at_once_pay_once_and_the_second_payment_is_refunded(idapp):
    fake = idapp.runner.fake_wechatpay
    person = await wechat_person(idapp, "两台手机")
    app = await apply_licence(idapp, person)
    oid = app["fee"]["order_id"]
    # many presses of the pay button at once on one device: one WeChat order
    many = await asyncio.gather(*(pay(idapp, person, oid) for _ in range(8)))
    assert all(r.status in (200, 201) for r in many), [r.body for r in many]
    assert len({r.json()["out_trade_no"] for r in many}) == 1
    # a second device, in a browser: its own WeChat order; both are paid
    h5 = await pay(idapp, person, oid, "h5", body={"return_path": f"/applications/{app['id']}"})
    assert h5.status == 201 and "redirect_url=" in h5.json()["h5_url"]
    h5_prepay = h5.json()["h5_url"].split("prepay_id=")[1].split("&")[0]
    await asyncio.gather(fake.confirm(many[0].json()["params"]["package"][10:]), fake.confirm(h5_prepay))
    order = await settled(lambda: _refunded_twice(idapp, person, app["id"]))
    assert order, "one payment kept, the other refunded"
    assert order["state"] == "paid" and len(order["refunds"]) == 1
    assert order["refunds"][0]["reason"] == "重复支付，自动退款" and order["refunds"][0]["state"] == "succeeded"
    kinds = sorted(e["kind"] for e in await ledger_of(idapp, oid))
    assert kinds == ["charge", "payment", "payment", "refund"]
    # the same prepay again: WeChat refuses to take the money twice
    assert_problem(await pay(idapp, person, oid), 409, "payment_not_payable")


async def test_a_second_payment_whose_notification_is_lost_is_still_refunded(idapp):
    fake = idapp.runner.fake_wechatpay
    person = await wechat_person(idapp, "两次付款")
    app = await apply_licence(idapp, person)
    oid = app["fee"]["order_id"]
    jsapi = (await pay(idapp, person, oid)).json()
    h5 = (await pay(idapp, person, oid, "h5")).json()
    fake.deliver = False  # neither notification arrives by itself
    try:
        await fake.confirm(jsapi["params"]["package"][10:])
        await fake.confirm(h5["h5_url"].split("prepay_id=")[1].split("&")[0])
    finally:
        fake.deliver = True
    first = [n for n in fake.notifications if n["event_type"] == "TRANSACTION.SUCCESS"][-2]
    assert await fake.redeliver(first) == 204  # only the first payment's: closing the other finds it paid
    order = await settled(lambda: _refunded_twice(idapp, person, app["id"]))
    assert order and order["state"] == "paid" and order["refunds"][0]["reason"] == "重复支付，自动退款"
    assert sorted(e["kind"] for e in await ledger_of(idapp, oid)) == ["charge", "payment", "payment", "refund"]


async def test_an_application_older_than_its_fee_is_charged_when_the_clerk_comes_to_it(idapp):
    person = await wechat_person(idapp, "老办件")
    app = await apply_licence(idapp, person)
    await idapp.ctx.db.payment_orders.delete_one({"_id": app["fee"]["order_id"]})  # as if charges came later
    intake = await clerk(idapp)
    blocked = await staff_act(idapp, intake["Authorization"][7:], app["id"], "accept", app["version"])
    assert_problem(blocked, 409, "fee_unpaid")
    order = (await idapp.api.get(f"/api/v1/applications/{app['id']}/payment", headers=person["h"])).json()
    assert order["state"] == "unpaid" and order["amount_fen"] == 1000


async def _refunded_twice(app, person, app_id):
    order = (await app.api.get(f"/api/v1/applications/{app_id}/payment", headers=person["h"])).json()
    return order if order["refunds"] and order["refunds"][0]["state"] == "succeeded" else None


async def test_bad_notifications_change_nothing(idapp):
    api = idapp.api
    person = await wechat_person(idapp, "假通知")
    app = await apply_licence(idapp, person)
    made = (await pay(idapp, person, app["fee"]["order_id"])).json()
    m = merchant_of(idapp)
    trade = {"mchid": m.mchid, "appid": m.appid, "out_trade_no": made["out_trade_no"], "transaction_id": "4200000001",
             "trade_type": "JSAPI", "trade_state": "SUCCESS", "success_time": datetime.now(CHINA).isoformat(),
             "amount": {"total": 1000, "payer_total": 1000, "currency": "CNY"}, "payer": {"openid": "o1"}}
    # a bad signature (the body changed after signing)
    body, headers = forged(idapp, "TRANSACTION.SUCCESS", trade)
    assert_problem(await api.request("POST", NOTIFY, body=body.replace(b"forged", b"forgeD"), headers=headers), 401,
                   "notification_signature_invalid")
    # encrypted with another key
    body, headers = forged(idapp, "TRANSACTION.SUCCESS", trade, apiv3_key="x" * 32)
    assert_problem(await api.request("POST", NOTIFY, body=body, headers=headers), 401)
    # a wrong amount
    body, headers = forged(idapp, "TRANSACTION.SUCCESS", {**trade, "amount": {"total": 1, "currency": "CNY"}})
    assert_problem(await api.request("POST", NOTIFY, body=body, headers=headers), 422, "payment_amount_mismatch")
    # an unknown order
    body, headers = forged(idapp, "TRANSACTION.SUCCESS", {**trade, "out_trade_no": "po" + "0" * 24 + "J1"})
    assert_problem(await api.request("POST", NOTIFY, body=body, headers=headers), 404, "payment_not_found")
    # a refund nobody asked for (a refund notification before, or without, its refund)
    refund = {"mchid": m.mchid, "out_trade_no": made["out_trade_no"], "out_refund_no": made["out_trade_no"] + "R",
              "refund_id": "5000001", "refund_status": "SUCCESS", "success_time": datetime.now(CHINA).isoformat(),
              "amount": {"total": 1000, "refund": 1000, "payer_total": 1000, "payer_refund": 1000}}
    body, headers = forged(idapp, "REFUND.SUCCESS", refund)
    assert_problem(await api.request("POST", NOTIFY, body=body, headers=headers), 404, "refund_not_found")
    # a genuine notification captured and replayed later: signed (correctly) six minutes ago
    body, _ = forged(idapp, "TRANSACTION.SUCCESS", trade)
    fake = idapp.runner.fake_wechatpay
    platform_key, signed_at, nonce = fake.keys[m.mchid][1], str(int(time.time()) - 360), "A" * 32
    old = platform_key.sign(f"{signed_at}\n{nonce}\n{body.decode()}\n".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert_problem(await api.request("POST", NOTIFY, body=body, headers={
        "Content-Type": "application/json", "Wechatpay-Timestamp": signed_at, "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": m.public_key_id, "Wechatpay-Signature": base64.b64encode(old).decode(),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}), 401, "notification_signature_invalid")
    # not JSON at all
    assert_problem(await api.request("POST", NOTIFY, body=b"<xml/>", headers={"Content-Type": "application/json"}),
                   400)
    order = (await api.get(f"/api/v1/applications/{app['id']}/payment", headers=person["h"])).json()
    assert order["state"] == "paying" and order["refunds"] == []
    assert [e["kind"] for e in await ledger_of(idapp, order["id"])] == ["charge"]
    # the genuine one, delivered many times at once: paid once
    fake.deliver = False
    try:
        await fake.confirm(made["params"]["package"][10:])
    finally:
        fake.deliver = True
    genuine = [n for n in fake.notifications if n["event_type"] == "TRANSACTION.SUCCESS"][-1]
    assert await asyncio.gather(*(fake.redeliver(genuine) for _ in range(6))) == [204] * 6
    assert [e["kind"] for e in await ledger_of(idapp, order["id"])] == ["charge", "payment"]


async def test_nobody_pays_for_someone_elses_application(idapp):
    owner, other = await wechat_person(idapp, "本人"), await wechat_person(idapp, "旁人")
    app = await apply_licence(idapp, owner)
    assert_problem(await idapp.api.get(f"/api/v1/applications/{app['id']}/payment", headers=other["h"]), 404,
                   "payment_not_found")
    assert_problem(await pay(idapp, other, app["fee"]["order_id"]), 404, "payment_not_found")
    assert_problem(await pay(idapp, other, app["fee"]["order_id"], "h5"), 404, "payment_not_found")
    assert_problem(await idapp.api.get(f"/api/v1/applications/{app['id']}/payment"), 401)
    # bad input: a missing key, an unknown field, a return path to another site
    no_key = await idapp.api.post(f"/api/v1/payments/{app['fee']['order_id']}/wechat-jsapi", {}, headers=owner["h"])
    assert_problem(no_key, 400, "idempotency_key_required")
    assert_problem(await pay(idapp, owner, app["fee"]["order_id"], body={"amount_fen": 1}), 400)
    assert_problem(await pay(idapp, owner, app["fee"]["order_id"], "h5", body={"return_path": "//evil.example"}), 400)
    assert_problem(await pay(idapp, owner, "po" + "f" * 24), 404, "payment_not_found")
    order = (await idapp.api.get(f"/api/v1/applications/{app['id']}/payment", headers=owner["h"])).json()
    assert order["state"] == "unpaid"


async def test_a_withdrawn_application_closes_its_unpaid_order(idapp):
    person = await wechat_person(idapp, "撤回人")
    app = await apply_licence(idapp, person)
    made = (await pay(idapp, person, app["fee"]["order_id"])).json()
    resp = await idapp.api.post(f"/api/v1/applications/{app['id']}/withdraw", {"version": app["version"]},
                                headers=person["h"])
    assert resp.status == 200, resp.body
    closed = await order_in(idapp, person, app["id"], "closed")
    assert closed["state"] == "closed"
    trade = await idapp.ctx.payment_gateway.query("gz-psb", made["out_trade_no"])
    assert trade["trade_state"] == "CLOSED"  # WeChat will not take money for it any more
    assert_problem(await pay(idapp, person, app["fee"]["order_id"]), 409, "payment_not_payable")
    shown = (await idapp.api.get(f"/api/v1/applications/{app['id']}", headers=person["h"])).json()
    assert shown["fee"]["state_name"] == "已关闭"


async def test_reconciliation_of_the_day_finds_exactly_the_deliberate_mismatch(idapp):
    fake = idapp.runner.fake_wechatpay
    person, app, _, _ = await paid_licence(idapp, "对账人")
    await idapp.ctx.payments.sweep(0)  # whatever earlier tests left open is settled first
    fake.add_unrecorded_payment(merchant_of(idapp).mchid, "UNKNOWN20261206X1", 1234)
    supervisor = await clerk(idapp, "gaj.shenhe")
    today = datetime.now(CHINA).date().isoformat()
    resp = await idapp.api.get(f"/api/v1/staff/payments/reconciliation?date={today}", headers=supervisor)
    assert resp.status == 200, resp.body
    report = resp.json()
    assert report["mismatches"] == 1, report
    (psb,) = report["merchants"]
    assert psb["merchant"] == "gz-psb" and psb["ledger"]["payments"] >= 1
    assert psb["mismatches"] == [{"kind": "missing_in_ledger", "kind_name": "本平台未入账（账单中有）", "type": "payment",
                                  "type_name": "收款", "ref": "UNKNOWN20261206X1", "ledger_fen": None,
                                  "bill_fen": 1234, "application_id": None}]
    assert psb["bill"]["payment_fen"] - psb["ledger"]["payment_fen"] == 1234
    # bad input: a malformed date, a future one, a clerk who is not a supervisor, a department without fees
    assert_problem(await idapp.api.get("/api/v1/staff/payments/reconciliation?date=2026-13-01", headers=supervisor),
                   400)
    future = (datetime.now(CHINA).date() + timedelta(days=2)).isoformat()
    assert_problem(await idapp.api.get(f"/api/v1/staff/payments/reconciliation?date={future}", headers=supervisor),
                   400, "date_in_future")
    assert_problem(await idapp.api.get(f"/api/v1/staff/payments/reconciliation?date={today}",
                                       headers=await clerk(idapp)), 403, "role_missing")
    assert_problem(await idapp.api.get(f"/api/v1/staff/payments/reconciliation?date={today}",
                                       headers=await clerk(idapp, "scj.kezhang")), 403, "no_merchant_account")
    assert_problem(await idapp.api.get(f"/api/v1/staff/payments/reconciliation?date={today}", headers=person["h"]),
                   401, "token_wrong_audience")


async def test_a_refund_wechat_does_not_complete_is_listed_for_the_department_to_follow_up(idapp):
    fake = idapp.runner.fake_wechatpay
    person, app, made, _ = await paid_licence(idapp, "退款异常")
    fake.refund_delay = 3600  # WeChat keeps the refund processing; then says it is abnormal
    try:
        gone = await idapp.api.post(f"/api/v1/applications/{app['id']}/withdraw", {"version": app["version"]},
                                    headers=person["h"])
        assert gone.status == 200, gone.body
        refunding = await order_in(idapp, person, app["id"], "refunding")
        assert refunding["refunds"][0]["state"] == "processing"
        m = merchant_of(idapp)
        body, headers = forged(idapp, "REFUND.ABNORMAL", {
            "mchid": m.mchid, "out_trade_no": made["out_trade_no"], "out_refund_no": app["fee"]["order_id"] + "R",
            "refund_id": "50000000001", "refund_status": "ABNORMAL", "user_received_account": "支付用户零钱",
            "amount": {"total": 1000, "refund": 1000, "payer_total": 1000, "payer_refund": 1000}})
        told = await idapp.api.request("POST", NOTIFY, body=body, headers=headers)
        assert told.status == 204, told.body
    finally:
        fake.refund_delay = 0.05
    order = (await idapp.api.get(f"/api/v1/applications/{app['id']}/payment", headers=person["h"])).json()
    assert order["refunds"][0]["state_name"] == "退款未成功" and order["state"] == "refunding"
    today = datetime.now(CHINA).date().isoformat()
    report = (await idapp.api.get(f"/api/v1/staff/payments/reconciliation?date={today}",
                                  headers=await clerk(idapp, "gaj.shenhe"))).json()
    failed = report["merchants"][0]["failed_refunds"]
    assert [(f["number"], f["amount_fen"]) for f in failed if f["application_id"] == app["id"]] == [
        (app["number"], 1000)]


async def test_a_paid_application_withdrawn_is_refunded_and_the_worker_reconciles_yesterday(idapp):
    person, app, _, paid = await paid_licence(idapp, "撤回退款")
    gone = await idapp.api.post(f"/api/v1/applications/{app['id']}/withdraw", {"version": app["version"]},
                                headers=person["h"])
    assert gone.status == 200, gone.body
    refunded = await order_in(idapp, person, app["id"], "refunded")
    assert refunded["refunds"][0]["reason"] == "申请已撤回，自动退款" and refunded["refunds"][0]["state"] == "succeeded"
    assert paid["paid"]["transaction_id"] == refunded["paid"]["transaction_id"]
    # the daily job: yesterday, once, for every merchant account the catalog names
    reconciliation = idapp.ctx.reconciliation
    yesterday = (datetime.now(CHINA).date() - timedelta(days=1)).isoformat()
    await reconciliation.daily()
    for merchant in ("gz-civil", "gz-psb"):
        report = await reconciliation.reports.get(f"{merchant}:{yesterday}")
        assert report["by"] == "worker" and report["date"] == yesterday and report["mismatches"] == []
    assert await reconciliation.daily() == 0  # done for the day
