"""Helpers of the payment tests: a resident logged in through the mini-program (so WeChat
knows their openid) with a verified name, applying for 驾驶证期满换证 (工本费 10 元, due at
submission); waiting for an order's state; notifications forged with the fake's keys."""
from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.matters.test_matters import staff_act, upload
from tests.support import bearer, demo_staff, new_resident, random_phone, sms_login, staff_token, wechat_login

LICENCE = "440100-GA-0031"  # 驾驶证期满换证: 工本费 10 元 at submission, collected by gz-psb
MARRIAGE = "440100-MZ-0005"  # 补领结婚证: 工本费 9 元 after approval, waived from 70
NOTIFY = "/api/v1/payments/wechat/notify"


async def wechat_person(app, name: str = "缴费人", **kw: Any) -> dict[str, Any]:
    """A resident logged in with WeChat (mini-program), verified and face-checked (L3)."""
    r = await new_resident(app.ctx, name=name, **kw)
    login = await wechat_login(app.api, f"payer{secrets.token_hex(6)}")
    phone = await app.api.post("/api/v1/auth/wechat/phone", {"code": f"test-{random_phone()}"},
                               headers=bearer(login["access_token"]))
    assert phone.status == 200, phone.body
    resp = await app.api.post("/api/v1/me/realname", {"name": r.name, "id_number": r.id_number},
                              headers=bearer(phone.json()["access_token"]))
    assert resp.status == 200, resp.body
    face = await app.api.post("/api/v1/me/face", {"evidence": "dev-face-pass"},
                              headers=bearer(resp.json()["access_token"]))  # 驾驶证换证 asks for L3
    assert face.status == 200, face.body
    token = face.json().get("access_token") or resp.json()["access_token"]
    return {**login, "access_token": token, "resident": r, "h": bearer(token)}


async def sms_person(app, name: str) -> dict[str, Any]:
    """A resident of the H5 (SMS login), verified and face-checked (L3): no openid of ours."""
    r = await new_resident(app.ctx, name=name)
    login = await sms_login(app.api, r.phone)
    real = await app.api.post("/api/v1/me/realname", {"name": r.name, "id_number": r.id_number},
                              headers=bearer(login["access_token"]))
    assert real.status == 200, real.body
    face = await app.api.post("/api/v1/me/face", {"evidence": "dev-face-pass"}, headers=bearer(real.json()["access_token"]))
    assert face.status == 200, face.body
    token = face.json()["access_token"]
    return {"resident": r, "access_token": token, "h": bearer(token)}


async def apply_licence(app, person: dict[str, Any]) -> dict[str, Any]:
    ups = [(await upload(app, person)).json()["id"] for _ in range(2)]
    r = person["resident"]
    resp = await app.api.post("/api/v1/applications", {
        "matter": LICENCE, "form": {"name": r.name, "id_number": r.id_number, "delivery": "窗口自取"},
        "materials": [{"id": "licence", "upload_id": ups[0]}, {"id": "health", "upload_id": ups[1]}]},
        headers={**person["h"], "Idempotency-Key": uuid.uuid4().hex})
    assert resp.status == 201, resp.body
    return resp.json()


async def paid_licence(app, name: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A resident logged in with WeChat whose 驾驶证期满换证 fee is paid in the mini-program
    (confirmed at the fake): (person, application, the pay answer, the paid order)."""
    person = await wechat_person(app, name)
    application = await apply_licence(app, person)
    made = await pay(app, person, application["fee"]["order_id"])
    assert made.status == 201, made.body
    await app.runner.fake_wechatpay.confirm(made.json()["params"]["package"].removeprefix("prepay_id="))
    order = await order_in(app, person, application["id"], "paid")
    assert order["state"] == "paid", order
    return person, application, made.json(), order


async def pay(app, person: dict[str, Any], order_id: str, channel: str = "jsapi", key: str | None = None,
              body: dict[str, Any] | None = None):
    return await app.api.post(f"/api/v1/payments/{order_id}/wechat-{channel}", body or {},
                              headers={**person["h"], "Idempotency-Key": key or uuid.uuid4().hex})


async def order_in(app, person: dict[str, Any], app_id: str, state: str, timeout: float = 10) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        order = (await app.api.get(f"/api/v1/applications/{app_id}/payment", headers=person["h"])).json()
        if order.get("state") == state or loop.time() > deadline:
            return order
        await asyncio.sleep(0.05)


async def settled(predicate, timeout: float = 10) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await predicate()
        if value or loop.time() > deadline:
            return value
        await asyncio.sleep(0.05)


def merchant_of(app, merchant_id: str = "gz-psb"):
    """The fake's DevMerchant behind one of our merchant accounts."""
    mchid = app.ctx.payment_gateway.merchants[merchant_id].mchid
    return app.runner.fake_wechatpay.merchants[mchid]


def forged(app, event_type: str, resource: dict[str, Any], merchant_id: str = "gz-psb",
           apiv3_key: str | None = None) -> tuple[bytes, dict[str, str]]:
    """A notification as WeChat sends it, encrypted with the merchant's APIv3 key (or
    ``apiv3_key``) and signed with the fake platform's key."""
    m = merchant_of(app, merchant_id)
    nonce = secrets.token_hex(6)
    kind = "refund" if event_type.startswith("REFUND") else "transaction"
    ciphertext = AESGCM((apiv3_key or m.apiv3_key).encode()).encrypt(nonce.encode(), json.dumps(resource).encode(),
                                                                     kind.encode())
    body = json.dumps({"id": str(uuid.uuid4()), "create_time": "2026-12-06T10:00:00+08:00",
                       "resource_type": "encrypt-resource", "event_type": event_type, "summary": "forged",
                       "resource": {"original_type": kind, "algorithm": "AEAD_AES_256_GCM",
                                    "ciphertext": base64.b64encode(ciphertext).decode(),
                                    "associated_data": kind, "nonce": nonce}})
    return body.encode(), {**app.runner.fake_wechatpay.signed_headers(m.mchid, body),
                           "Content-Type": "application/json"}


async def ledger_of(app, order_id: str) -> list[dict[str, Any]]:
    return await app.ctx.payments.settlement.ledger.of_order(order_id)


async def payment_world(app) -> dict[str, Any]:
    """For the mini-program's 缴费 (miniapp/tests/payments.test.js): a resident logged in with
    WeChat (so JSAPI knows their openid) whose 驾驶证期满换证 waits for its 工本费 (10 元, unpaid),
    the fake WeChat Pay's base URL (its ``/_fake/pay`` is the payer confirming in WeChat), and
    another whose paid application was denied, so its fee went back (退款, with the reason)."""
    person = await wechat_person(app, "缴小程")
    application = await apply_licence(app, person)
    assert application["fee"]["state"] == "unpaid", application["fee"]
    # the fake keeps no URL of its own; in development the gateway is pointed at it
    url = app.ctx.payment_gateway.gateway
    assert url.startswith("http://127.0.0.1") or url.startswith("http://localhost"), url
    refunded, denied, _, _ = await paid_licence(app, "退小程")
    intake = await staff_token(app.api, demo_staff(app.ctx, "gaj.shouli"))
    reviewer = await staff_token(app.api, demo_staff(app.ctx, "gaj.shenhe"))
    accepted = await staff_act(app, intake, denied["id"], "accept", denied["version"])
    assert accepted.status == 200, accepted.body
    resp = await staff_act(app, reviewer, denied["id"], "deny", accepted.json()["version"], "驾驶证已被注销，不符合换证条件")
    assert resp.status == 200, resp.body
    assert (await order_in(app, refunded, denied["id"], "refunded"))["state"] == "refunded"
    return {"access_token": person["access_token"], "refresh_token": person["refresh_token"],
            "name": person["resident"].name, "application_id": application["id"],
            "order_id": application["fee"]["order_id"], "wechatpay_url": url.rstrip("/"),
            "refunded": {"access_token": refunded["access_token"], "refresh_token": refunded["refresh_token"],
                         "application_id": denied["id"], "order_id": denied["fee"]["order_id"]}}
