"""Mini-program login and phone binding, through the HTTP API, with the real wechatpy
client against the fake WeChat server on loopback."""
from __future__ import annotations

import uuid

from superapp.fakes.wechat import openid_for
from tests.support import agreed, assert_problem, bearer, random_phone, sms_login, wechat_login


def name() -> str:
    return "u" + uuid.uuid4().hex[:10]


async def bind_phone(api, token: str, phone: str):
    return await api.post("/api/v1/auth/wechat/phone", {"code": f"test-{phone}"}, headers=bearer(token))


async def test_same_name_same_openid_same_account(idapp):
    n = name()
    first = await wechat_login(idapp.api, n)
    assert first["is_new"] is True and first["person"]["level"] == 0 and first["person"]["wechat_bound"]
    again = await wechat_login(idapp.api, n)
    assert again["is_new"] is False and again["person"]["id"] == first["person"]["id"]
    other = await wechat_login(idapp.api, name())
    assert other["person"]["id"] != first["person"]["id"]
    binding = await idapp.ctx.db.wechat_bindings.find_one(
        {"_id": f"{idapp.ctx.settings.wechat.appid}:{openid_for(idapp.ctx.settings.wechat.appid, n)}"})
    assert binding["person_id"] == first["person"]["id"]
    # the account id is opaque: not the openid
    assert openid_for(idapp.ctx.settings.wechat.appid, n) not in first["person"]["id"]


async def test_the_agreements_come_before_the_code_is_spent(idapp):
    n = name()
    # (the app is shared: other tests' notifications may reach the fake meanwhile; only logins count)
    logins = lambda: idapp.runner.fake_wechat.calls.count("/sns/jscode2session")  # noqa: E731
    before = logins()
    assert_problem(await idapp.api.post("/api/v1/auth/wechat/miniapp", {"code": f"test-{n}"}), 400,
                   "agreement_required")
    assert_problem(await idapp.api.post("/api/v1/auth/wechat/miniapp",
                                        {"code": f"test-{n}", "agreements": {"user": "1999.1", "privacy": "1999.1"}}),
                   409, "agreement_outdated")
    assert logins() == before  # WeChat was not asked
    login = await wechat_login(idapp.api, n)
    trail = (await idapp.api.get("/api/v1/me/activity", headers=bearer(login["access_token"]))).json()["items"]
    assert [e["details"] for e in trail if e["action"] == "agreements.accepted"] == [await agreed(idapp.api)]


async def test_wechatpy_really_called_the_fake_server(idapp):
    # (the app is shared: other tests' notifications may reach the fake meanwhile; only logins count)
    logins = lambda: idapp.runner.fake_wechat.calls.count("/sns/jscode2session")  # noqa: E731
    before = logins()
    await wechat_login(idapp.api, name())
    assert "/sns/jscode2session" in idapp.runner.fake_wechat.calls[before:]


async def test_rejected_code_is_400_with_wechats_errcode(idapp):
    before = await idapp.ctx.db.persons.count_documents({})
    for code in ("bogus", "test-", "test-a b"):
        body = assert_problem(await idapp.api.post("/api/v1/auth/wechat/miniapp",
                                                   {"code": code, "agreements": await agreed(idapp.api)}),
                              400, "wechat_code_invalid")
        assert body["wechat_errcode"] == 40029 and "40029" in body["errors"][0]["message"]
    assert await idapp.ctx.db.persons.count_documents({}) == before


async def test_bind_phone_raises_level_and_sms_login_reaches_the_same_account(idapp):
    wx = await wechat_login(idapp.api, name())
    phone = random_phone()
    resp = await bind_phone(idapp.api, wx["access_token"], phone)
    assert resp.status == 200, resp.body
    body = resp.json()
    assert body["account_switched"] is False and body["person"]["level"] == 1
    assert body["person"]["id"] == wx["person"]["id"]
    me = await idapp.api.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.json()["level"] == 1
    sms = await sms_login(idapp.api, phone)
    assert sms["person"]["id"] == wx["person"]["id"] and sms["is_new"] is False


async def test_empty_wechat_account_joins_the_existing_phone_account_explicitly(idapp):
    sms = await sms_login(idapp.api)  # the person first used H5
    wx = await wechat_login(idapp.api, name())  # then opens the mini-program: a new, empty account
    resp = await bind_phone(idapp.api, wx["access_token"], sms["phone"])
    assert resp.status == 200, resp.body
    body = resp.json()
    assert body["account_switched"] is True and body["person"]["id"] == sms["person"]["id"]
    assert body["refresh_token"] and body["person"]["wechat_bound"] is True
    # the empty account's tokens are void; the next WeChat login lands on the phone account
    assert_problem(await idapp.api.get("/api/v1/me", headers=bearer(wx["access_token"])), 401, "token_revoked")
    activity = await idapp.api.get("/api/v1/me/activity", headers=bearer(body["access_token"]))
    assert "wechat.bound" in [e["action"] for e in activity.json()["items"]]


async def test_phone_of_another_account_is_409_when_this_account_has_data(idapp):
    owner = await sms_login(idapp.api)
    wx = await wechat_login(idapp.api, name())
    bound = await bind_phone(idapp.api, wx["access_token"], random_phone())  # it has a phone of its own now
    assert bound.status == 200
    me_token = bound.json()["access_token"]
    key = idapp.ctx.pii.blind_index(owner["phone"], "phone")
    before = await idapp.ctx.db.phone_bindings.find_one({"_id": key})
    body = assert_problem(await bind_phone(idapp.api, me_token, owner["phone"]), 409, "phone_bound_to_other_account")
    assert body["errors"][0]["field"] == "code"
    assert await idapp.ctx.db.phone_bindings.find_one({"_id": key}) == before  # nothing changed
    me = await idapp.api.get("/api/v1/me", headers=bearer(me_token))
    assert me.json()["id"] == wx["person"]["id"]


async def test_phone_binding_bad_input_and_wrong_caller(idapp):
    wx = await wechat_login(idapp.api, name())
    body = assert_problem(await idapp.api.post("/api/v1/auth/wechat/phone", {"code": "test-123"},
                                               headers=bearer(wx["access_token"])), 400, "wechat_code_invalid")
    assert body["wechat_errcode"] == 40029
    assert_problem(await idapp.api.post("/api/v1/auth/wechat/phone", {"code": "test-13800138000"}),
                   401, "token_missing")
    h5 = await sms_login(idapp.api)  # an H5 token cannot use the mini-program phone binding
    assert_problem(await idapp.api.post("/api/v1/auth/wechat/phone", {"code": "test-13800138000"},
                                        headers=bearer(h5["access_token"])), 401, "token_wrong_audience")
    assert_problem(await idapp.api.post("/api/v1/auth/wechat/phone", {}, headers=bearer(wx["access_token"])),
                   400, "validation_failed")
    me = await idapp.api.get("/api/v1/me", headers=bearer(wx["access_token"]))
    assert me.json()["level"] == 0 and me.json()["phone"] is None


async def test_wechat_outage_is_503_not_a_stack_trace(backends):
    from tests.support import start_app, stop_app

    running = await start_app(backends, overrides={"wechat": {"api_base_url": "http://127.0.0.1:9"}})
    try:
        body = assert_problem(await running.api.post("/api/v1/auth/wechat/miniapp",
                                                     {"code": "test-a", "agreements": await agreed(running.api)}),
                              503, "wechat_unavailable")
        assert "Traceback" not in body["detail"]
    finally:
        await stop_app(running)
