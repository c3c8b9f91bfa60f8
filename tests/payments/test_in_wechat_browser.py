"""Paying from the H5 opened inside WeChat's browser: JSAPI needs the payer's openid under our
official account, which WeChat's silent web authorisation (snsapi_base) gives — through the
real wechatpy OAuth client against the fake WeChat's ``/connect/oauth2/authorize`` and
``/sns/oauth2/access_token``, then the real wechatpayv3 client against the fake WeChat Pay.
A person signed in by SMS (no mini-program openid) pays this way; the state is one use and
the person's own; a replayed code, a foreign return path, an unconfigured official account
are refused and change nothing."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from tornado.httpclient import AsyncHTTPClient

from superapp.fakes.wechat import openid_for
from tests.payments.support import apply_licence, merchant_of, order_in, pay, sms_person
from tests.support import assert_problem, start_app, stop_app

AUTHORIZE = "/api/v1/me/wechat-payer/authorize"
PAYER = "/api/v1/me/wechat-payer"


async def in_wechat(authorize_url: str, user: str) -> tuple[str, str, str]:
    """WeChat's browser, signed in to WeChat as ``user``, opens the address and is sent back:
    the path it lands on, the code and the state."""
    resp = await AsyncHTTPClient().fetch(authorize_url.split("#")[0], follow_redirects=False, raise_error=False,
                                         headers={"Cookie": f"fake_wechat_user={user}"})
    assert resp.code == 302, (resp.code, resp.body[:300])
    back = urlsplit(resp.headers["Location"])
    query = parse_qs(back.query)
    return back.path, query["code"][0], query["state"][0]


async def test_an_sms_resident_pays_inside_wechats_browser_after_the_silent_authorisation(idapp):
    api, s = idapp.api, idapp.ctx.settings
    person = await sms_person(idapp, "微信内缴费")
    application = await apply_licence(idapp, person)
    order_id = application["fee"]["order_id"]

    # no openid under the official account yet: the H5 is told to ask WeChat for it
    assert_problem(await pay(idapp, person, order_id, body={"client": "official_account"}), 409,
                   "wechat_oa_authorize_needed")
    # (and the mini-program's way is not theirs: they never logged in there)
    assert_problem(await pay(idapp, person, order_id), 409, "wechat_payer_unknown")

    back_to = f"/applications/{application['id']}?pay=wechat"
    resp = await api.post(AUTHORIZE, {"return_path": back_to}, headers=person["h"])
    assert resp.status == 200, resp.body
    url = resp.json()["authorize_url"]
    asked = urlsplit(url)
    query = parse_qs(asked.query)
    assert asked.path == "/connect/oauth2/authorize" and url.endswith("#wechat_redirect")
    assert query["appid"] == [s.wechat.oa_appid] and query["scope"] == ["snsapi_base"]
    assert query["state"][0].isalnum()  # WeChat documents state as a-zA-Z0-9
    assert query["redirect_uri"] == [f"{idapp.runner.url}/wechat/authorized"]

    path, code, state = await in_wechat(url, "wxpayer1")
    assert path == "/wechat/authorized"
    bound = await api.post(PAYER, {"code": code, "state": state}, headers=person["h"])
    assert bound.status == 200, bound.body
    assert bound.json() == {"return_path": back_to}
    trail = (await api.get("/api/v1/me/activity", headers=person["h"])).json()["items"]
    assert "wechat.oa_authorized" in [e["action"] for e in trail]
    # WeChat's browser sent back twice (a reload): the state was used; nothing changes
    assert_problem(await api.post(PAYER, {"code": code, "state": state}, headers=person["h"]), 400,
                   "wechat_oauth_state_invalid")

    made = await pay(idapp, person, order_id, body={"client": "official_account"})
    assert made.status == 201, made.body
    params = made.json()["params"]
    assert params["appId"] == s.wechat.oa_appid and params["signType"] == "RSA"
    key = serialization.load_pem_private_key(merchant_of(idapp).private_key_pem.encode(), None).public_key()
    key.verify(base64.b64decode(params["paySign"]),
               f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode(),
               padding.PKCS1v15(), hashes.SHA256())
    fake = idapp.runner.fake_wechatpay
    trade = fake.prepays[params["package"].removeprefix("prepay_id=")]
    assert trade["appid"] == s.wechat.oa_appid and trade["trade_type"] == "JSAPI"
    assert trade["payer"]["openid"] == openid_for(s.wechat.oa_appid, "wxpayer1")

    await fake.confirm(trade["_prepay_id"])
    paid = await order_in(idapp, person, application["id"], "paid")
    assert paid["state"] == "paid" and paid["paid"]["channel"] == "微信支付（微信内网页）", paid


async def test_the_authorisation_is_the_askers_own_and_bad_input_changes_nothing(idapp):
    api = idapp.api
    one, other = await sms_person(idapp, "授权人甲"), await sms_person(idapp, "授权人乙")
    url = (await api.post(AUTHORIZE, {"return_path": "/applications"}, headers=one["h"])).json()["authorize_url"]
    _, code, state = await in_wechat(url, "wxsomeone")
    # another person cannot finish someone else's authorisation (nor spoil it)
    assert_problem(await api.post(PAYER, {"code": code, "state": state}, headers=other["h"]), 400,
                   "wechat_oauth_state_invalid")
    # WeChat unreachable: 503, and the same code and state work once it is back
    idapp.runner.fake_wechat.fail_web_codes = 1
    assert_problem(await api.post(PAYER, {"code": code, "state": state}, headers=one["h"]), 503, "wechat_unavailable")
    assert (await api.post(PAYER, {"code": code, "state": state}, headers=one["h"])).status == 200
    assert_problem(await api.post(PAYER, {"code": code, "state": state}, headers=one["h"]), 400,
                   "wechat_oauth_state_invalid")
    # a code WeChat never gave, or gave and was already used, with a fresh state of one's own
    url = (await api.post(AUTHORIZE, {"return_path": "/"}, headers=one["h"])).json()["authorize_url"]
    _, _, state = await in_wechat(url, "wxsomeone")
    assert_problem(await api.post(PAYER, {"code": "never-issued-code", "state": state}, headers=one["h"]), 400,
                   "wechat_code_invalid")
    trail = (await api.get("/api/v1/me/activity", headers=other["h"])).json()["items"]
    assert "wechat.oa_authorized" not in [e["action"] for e in trail]
    url = (await api.post(AUTHORIZE, {"return_path": "/"}, headers=one["h"])).json()["authorize_url"]
    _, _, state = await in_wechat(url, "wxsomeone")
    assert_problem(await api.post(PAYER, {"code": code, "state": state}, headers=one["h"]), 400, "wechat_code_invalid")
    # a code that waited too long (WeChat: 5 minutes; 42003) is a bad code too, not an outage
    fake = idapp.runner.fake_wechat
    fake.web_code_seconds = -1
    try:
        url = (await api.post(AUTHORIZE, {"return_path": "/"}, headers=one["h"])).json()["authorize_url"]
        _, stale, state = await in_wechat(url, "wxsomeone")
    finally:
        fake.web_code_seconds = 300
    assert_problem(await api.post(PAYER, {"code": stale, "state": state}, headers=one["h"]), 400, "wechat_code_invalid")
    # the same WeChat again is no change: one entry in the trail
    url = (await api.post(AUTHORIZE, {"return_path": "/"}, headers=one["h"])).json()["authorize_url"]
    _, code, state = await in_wechat(url, "wxsomeone")
    assert (await api.post(PAYER, {"code": code, "state": state}, headers=one["h"])).status == 200
    trail = (await api.get("/api/v1/me/activity", headers=one["h"])).json()["items"]
    assert [e["action"] for e in trail].count("wechat.oa_authorized") == 1

    for body in ({"return_path": "//evil.example/x"}, {"return_path": "https://evil.example/"}, {"return_path": ""},
                 {"return_path": "/" + "a" * 250}, {"return_path": 7}, {}, {"return_path": "/", "extra": 1}):
        assert_problem(await api.post(AUTHORIZE, body, headers=one["h"]), 400)
    for body in ({"code": "c"}, {"state": "s" * 20}, {"code": "", "state": "s" * 20}, {"code": "c", "state": "short"},
                 {"code": "c d", "state": "s" * 20}, {"code": "c", "state": "s" * 65}, {"code": 1, "state": "s" * 20}):
        assert_problem(await api.post(PAYER, body, headers=one["h"]), 400)
    # a budget per person (each begun authorisation is kept in Redis, each code is a call to WeChat)
    tired = await sms_person(idapp, "授权人丙")
    answers = [(await api.post(AUTHORIZE, {"return_path": "/"}, headers=tired["h"])).status for _ in range(21)]
    assert answers == [200] * 20 + [429]
    assert_problem(await api.post(PAYER, {"code": "c", "state": "s" * 20}, headers=tired["h"]), 429,
                   "wechat_oauth_too_many")
    assert_problem(await api.post(AUTHORIZE, {"return_path": "/"}), 401)
    assert_problem(await api.post(PAYER, {"code": "c", "state": "s" * 20}), 401)
    assert_problem(await api.post("/api/v1/payments/po" + "0" * 24 + "/wechat-jsapi", {"client": "browser"},
                                  headers={**one["h"], "Idempotency-Key": "k" * 20}), 400)


async def test_without_an_official_account_the_h5_in_wechat_is_sent_to_the_mini_program(backends):
    app = await start_app(backends, overrides={"wechat": {"oa_appid": "", "oa_secret": ""},
                                               "sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000}})
    try:
        person = await sms_person(app, "无公众号")
        application = await apply_licence(app, person)
        assert_problem(await app.api.post(AUTHORIZE, {"return_path": "/"}, headers=person["h"]), 409,
                       "wechat_oa_unavailable")
        assert_problem(await pay(app, person, application["fee"]["order_id"], body={"client": "official_account"}),
                       409, "payment_channel_unavailable")
        order = (await app.api.get(f"/api/v1/applications/{application['id']}/payment", headers=person["h"])).json()
        assert order["state"] == "unpaid"
    finally:
        await stop_app(app)
