"""H5 login by SMS code, through the HTTP API on real Redis: hashed codes, validity,
wrong-try lock, resend and daily limits, per-IP limits, and bad input."""
from __future__ import annotations

import asyncio

import pytest

from tests.support import (assert_problem, bearer, latest_sms_code, random_phone, send_sms, sms_login, start_app,
                           stop_app)

pytestmark = pytest.mark.redis_modes  # Redis-dependent rules: also on a Redis Cluster


async def test_login_creates_an_l1_account_and_a_second_login_finds_it(idapp):
    first = await sms_login(idapp.api)
    assert first["is_new"] is True
    assert first["person"]["level"] == 1 and first["person"]["phone"].startswith(first["phone"][:3])
    assert "****" in first["person"]["phone"]
    assert first["token_type"] == "Bearer" and first["expires_in"] == 900
    await asyncio.sleep(1.1)  # the resend interval of this app
    again = await sms_login(idapp.api, first["phone"], channel="portal")
    assert again["is_new"] is False and again["person"]["id"] == first["person"]["id"]
    me = await idapp.api.get("/api/v1/me", headers=bearer(again["access_token"]))
    assert me.status == 200 and me.json()["id"] == first["person"]["id"]


async def test_codes_are_stored_hashed_not_in_plain_text(idapp):
    phone = random_phone()
    assert (await send_sms(idapp.api, phone)).status == 202
    code = await latest_sms_code(idapp.api, phone)
    keys = [k async for k in idapp.ctx.redis.scan_iter(match=idapp.ctx.keys("sms", "code", "*"))]
    values = [await idapp.ctx.redis.hgetall(k) for k in keys]
    assert values and all(code.encode() not in v.get(b"h", b"") for v in values)
    assert all(phone.encode() not in k for k in keys)


async def test_wrong_code_counts_down_then_locks(idapp):
    phone = random_phone()
    await send_sms(idapp.api, phone)
    right = await latest_sms_code(idapp.api, phone)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1, 0):
        body = assert_problem(await idapp.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": wrong}),
                              400, "sms_code_invalid")
        assert body["remaining_tries"] == left
        assert body["errors"][0]["field"] == "code"
    resp = await idapp.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": right})
    assert_problem(resp, 429, "sms_code_locked")
    assert int(resp.headers["Retry-After"]) >= 1
    # no account was created by any of this
    assert await idapp.ctx.db.phone_bindings.count_documents(
        {"_id": idapp.ctx.pii.blind_index(phone, "phone")}) == 0


async def test_a_code_works_once(idapp):
    phone = random_phone()
    await send_sms(idapp.api, phone)
    code = await latest_sms_code(idapp.api, phone)
    assert (await idapp.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code})).status == 200
    assert_problem(await idapp.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code}),
                   400, "sms_code_expired")


async def test_resend_within_a_minute_is_refused_with_retry_after(app):
    phone = random_phone()  # default settings: one send per 60 s
    assert (await send_sms(app.api, phone)).status == 202
    resp = await send_sms(app.api, phone)
    body = assert_problem(resp, 429, "sms_too_frequent")
    assert 50 <= int(resp.headers["Retry-After"]) <= 60 and body["retry_after"] == int(resp.headers["Retry-After"])


async def test_expired_code_and_daily_limit(backends):
    running = await start_app(backends, overrides={"sms": {
        "code_ttl_seconds": 1, "resend_interval_seconds": 1, "daily_limit_per_phone": 2,
    }})
    try:
        api, phone = running.api, random_phone()
        await send_sms(api, phone)
        code = await latest_sms_code(api, phone)
        await asyncio.sleep(1.5)
        assert_problem(await api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code}),
                       400, "sms_code_expired")
        assert (await send_sms(api, phone)).status == 202
        await asyncio.sleep(1.1)
        resp = await send_sms(api, phone)
        assert_problem(resp, 429, "sms_daily_limit")
        assert int(resp.headers["Retry-After"]) <= 86400
    finally:
        await stop_app(running)


async def test_per_ip_limits(backends):
    running = await start_app(backends, overrides={"sms": {"hourly_sends_per_ip": 2, "verifies_per_ip_per_minute": 3}})
    try:
        api = running.api
        for _ in range(2):
            assert (await send_sms(api, random_phone())).status == 202
        resp = await send_sms(api, random_phone())
        assert_problem(resp, 429, "sms_ip_limited")
        phone = random_phone()
        for _ in range(3):
            await api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": "000000"})
        assert_problem(await api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": "000000"}),
                       429, "sms_verify_ip_limited")
    finally:
        await stop_app(running)


@pytest.mark.parametrize(
    "path, body, status, code",
    [
        ("/api/v1/auth/sms/send", {"phone": "12345"}, 400, "invalid_phone"),
        ("/api/v1/auth/sms/send", {"phone": "23800138000"}, 400, "invalid_phone"),
        ("/api/v1/auth/sms/send", {"phone": "1380013800a"}, 400, "invalid_phone"),
        ("/api/v1/auth/sms/send", {}, 400, "validation_failed"),
        ("/api/v1/auth/sms/send", {"phone": 13800138000}, 400, "validation_failed"),
        ("/api/v1/auth/sms/send", {"phone": "1" * 5000}, 400, "validation_failed"),
        ("/api/v1/auth/sms/verify", {"phone": "13800138000"}, 400, "validation_failed"),
        ("/api/v1/auth/sms/verify", {"phone": "13800138000", "code": "12ab56"}, 400, "sms_code_malformed"),
        ("/api/v1/auth/sms/verify", {"phone": "13800138000", "code": "123456", "channel": "kiosk"},
         400, "validation_failed"),
        ("/api/v1/auth/sms/verify", {"phone": "138", "code": "123456"}, 400, "invalid_phone"),
    ],
)
async def test_bad_input(idapp, path, body, status, code):
    before = await idapp.ctx.db.persons.count_documents({})
    body_out = assert_problem(await idapp.api.post(path, body), status, code)
    assert body_out["errors"], body_out
    assert await idapp.ctx.db.persons.count_documents({}) == before


async def test_malformed_and_oversized_bodies(idapp):
    resp = await idapp.api.request("POST", "/api/v1/auth/sms/send", body="{phone:",
                                   headers={"Content-Type": "application/json"})
    assert_problem(resp, 400, "malformed_json")
    resp = await idapp.api.request("POST", "/api/v1/auth/sms/verify", body="x" * 2_000_000,
                                   headers={"Content-Type": "application/json"})
    assert_problem(resp, 413, "payload_too_large")


async def test_failed_gateway_gives_the_attempt_back(backends):
    """Production sender: a gateway that fails -> 503, and the user may retry at once."""
    from superapp.fakes.sms_gateway import make_fake_sms_gateway

    gateway, state = make_fake_sms_gateway(token="gw-token")
    gateway.start()
    running = await start_app(backends, overrides={"sms": {
        "sender": "http", "gateway_url": gateway.url + "/send", "gateway_token": "gw-token"}})
    try:
        api, phone = running.api, random_phone()
        state.fail_next = 1
        assert_problem(await send_sms(api, phone), 503, "sms_gateway_failed")
        assert (await send_sms(api, phone)).status == 202  # not throttled
        sent = state.messages[-1]
        assert sent["phone"] == phone and sent["template"] == "login_code" and sent["sign"] == "政务超级应用"
        resp = await api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": sent["params"]["code"]})
        assert resp.status == 200 and resp.json()["person"]["level"] == 1
        # the dev outbox does not exist with a real gateway
        assert_problem(await api.get(f"/api/v1/dev/sms-outbox?phone={phone}"), 404, "no_dev_outbox")
    finally:
        await stop_app(running)
        await gateway.stop()
