"""People from Hong Kong, Macao, Taiwan and abroad, through the HTTP API: SMS login with
E.164 numbers (regional wording, the dev outbox, the international daily budget) and real
name with cross-border documents through the development registry and the HTTP provider."""
from __future__ import annotations

import asyncio
import random
import re
from urllib.parse import quote

import pytest

from identity.accounts.storage import RegistryStore
from identity.phones import InvalidPhone, parse_phone
from identity.verification import DevRegistryProvider
from tests.support import (agreed, assert_problem, bearer, make_id_number, new_resident, random_phone, send_sms,
                           sms_login, start_app, stop_app)

CJK = re.compile(r"[\u4e00-\u9fff]")


def digits(n: int) -> str:
    return "".join(random.choices("0123456789", k=n))


def phone(prefix: str, n: int) -> str:
    """A valid mobile number no other test uses: ``prefix`` + ``n`` random digits."""
    while True:
        candidate = prefix + digits(n)
        try:
            return parse_phone(candidate).value
        except InvalidPhone:
            continue


def hk() -> str:
    return phone("+8529", 7)


async def register(ctx, name: str, id_type: str, number: str, **kw):
    """A person holding a cross-border document, in the development population registry."""
    return await DevRegistryProvider(RegistryStore(ctx.db), ctx.clients.pii, "").register(name, id_type, number, **kw)


async def outbox(api, number: str) -> list[dict]:
    resp = await api.get(f"/api/v1/dev/sms-outbox?phone={quote(number, safe='')}")
    assert resp.status == 200, resp.body
    return resp.json()["items"]


async def login(api, number: str) -> dict:
    resp = await send_sms(api, number)
    assert resp.status == 202, resp.body
    code = (await outbox(api, number))[0]["params"]["code"]
    resp = await api.post("/api/v1/auth/sms/verify", {"phone": number, "code": code})
    assert resp.status == 200, resp.body
    return resp.json()


async def realname(api, token: str, **body):
    return await api.post("/api/v1/me/realname", body, headers=bearer(token))


async def test_a_hong_kong_number_logs_in_and_verifies_with_a_home_return_permit(idapp):
    number = hk()
    resp = await send_sms(idapp.api, number)
    assert resp.status == 202, resp.body
    message = (await outbox(idapp.api, number))[0]
    assert message["phone"] == number and message["region"] == "hmt"
    assert message["template"] == "login_code_hmt" and message["sign"] == "政務超級應用"
    assert "驗證碼" in message["text"] and message["params"]["code"] in message["text"]
    # the + typed straight into the address (arriving as a space) finds the same outbox
    raw = await idapp.api.get(f"/api/v1/dev/sms-outbox?phone={number}")
    assert raw.status == 200 and raw.json()["items"][0]["params"] == message["params"]
    resp = await idapp.api.post("/api/v1/auth/sms/verify", {"phone": number, "code": message["params"]["code"]})
    assert resp.status == 200, resp.body
    body = resp.json()
    assert body["is_new"] is True and body["person"]["level"] == 1
    assert body["person"]["phone"] == "+852****" + number[-4:]

    permit = "H" + digits(8)
    await register(idapp.ctx, "陳大文", "hk_macao_permit", permit)
    assert_problem(await realname(idapp.api, body["access_token"], name="陳小文", id_number=permit,
                                  id_type="hk_macao_permit"), 422, "realname_mismatch")
    resp = await realname(idapp.api, body["access_token"], name="陳大文", id_number=permit.lower(),
                          id_type="hk_macao_permit")
    assert resp.status == 200, resp.body
    person = resp.json()["person"]
    assert person["level"] == 2
    rn = person["realname"]
    assert rn["id_type"] == "hk_macao_permit" and rn["document"] == "港澳居民来往内地通行证"
    assert rn["nationality"] == "HKG" and rn["nationality_name"] == "中国香港"
    assert rn["id_number"] == permit[:2] + "*****" + permit[-2:] and rn["name"] == "陳**"
    assert rn["gender"] is None and rn["birth_date"] is None
    token = resp.json()["access_token"]
    shown = (await idapp.api.get("/api/v1/me?reveal=1", headers=bearer(token))).json()
    assert shown["phone"] == number and shown["realname"]["id_number"] == permit
    doc = await idapp.ctx.db.persons.find_one({"_id": person["id"]})
    assert permit not in str(doc) and number not in str(doc) and doc["realname"]["id_type"] == "hk_macao_permit"
    trail = (await idapp.api.get("/api/v1/me/activity", headers=bearer(token))).json()["items"]
    verified = next(e for e in trail if e["action"] == "realname.verified")
    assert verified["details"]["id_type"] == "hk_macao_permit" and permit not in str(trail)
    # one document, one account
    other = await login(idapp.api, hk())
    assert_problem(await realname(idapp.api, other["access_token"], name="陳大文", id_number=permit,
                                  id_type="hk_macao_permit"), 409, "id_number_bound_to_other_account")
    # the same number logs in to the same account
    await asyncio.sleep(1.1)  # the resend interval (1 s in these tests)
    again = await login(idapp.api, number)
    assert again["is_new"] is False and again["person"]["id"] == person["id"] and again["person"]["level"] == 2


async def test_macao_taiwan_and_other_countries_are_accepted_in_their_wording(idapp):
    for number, region, template, words in [
        (phone("+85366", 6), "hmt", "login_code_hmt", "驗證碼"),
        (phone("+8869", 8), "hmt", "login_code_hmt", "驗證碼"),
        (phone("+1415555", 4), "international", "login_code_intl", "Your login code"),
        (phone("+447", 9), "international", "login_code_intl", "Your login code"),
    ]:
        body = await login(idapp.api, number)
        assert body["person"]["level"] == 1, number
        message = (await outbox(idapp.api, number))[0]
        assert (message["region"], message["template"]) == (region, template) and words in message["text"], message
        if region == "international":
            assert message["sign"] == "Gov Super App" and not CJK.search(message["text"])


async def test_mainland_numbers_keep_their_form_with_or_without_plus_86(idapp):
    number = random_phone()
    first = await login(idapp.api, number)
    message = (await outbox(idapp.api, number))[0]
    assert message["template"] == "login_code" and message["region"] == "mainland" and message["sign"] is None
    assert "验证码" in message["text"]
    await asyncio.sleep(1.1)  # the resend interval (1 s in these tests)
    again = await login(idapp.api, "+86" + number)  # the same account, the same outbox and bindings
    assert again["person"]["id"] == first["person"]["id"] and again["is_new"] is False
    assert len(await outbox(idapp.api, number)) == 2
    assert first["person"]["phone"] == number[:3] + "****" + number[-4:]


@pytest.mark.parametrize("number, code", [
    ("+852123", "invalid_phone"),
    ("+86 12345", "invalid_phone"),
    ("+8613800138", "invalid_phone"),
    ("hello", "invalid_phone"),
    ("+85291a34567", "invalid_phone"),
    ("+1234567890123456", "invalid_phone"),  # longer than E.164 allows
    ("+85221234567", "invalid_phone"),  # a Hong Kong fixed line: no SMS
    ("+99912345678", "invalid_phone"),  # no such country code
    ("85291234567", "invalid_phone"),  # no +
    ("+" + "1" * 25, "validation_failed"),  # past the field's length
])
async def test_malformed_numbers_are_400_naming_the_phone(idapp, number, code):
    for path, body in [("/api/v1/auth/sms/send", {"phone": number, "agreements": await agreed(idapp.api)}),
                       ("/api/v1/auth/sms/verify", {"phone": number, "code": "123456"})]:
        problem = assert_problem(await idapp.api.post(path, body), 400, code)
        assert [e["field"] for e in problem["errors"]] == ["phone"], problem
        assert CJK.search(problem["detail"]) and CJK.search(problem["errors"][0]["message"]), problem


@pytest.mark.redis_modes
async def test_the_international_daily_budget_stops_the_next_send_abroad_but_not_the_mainland(backends):
    running = await start_app(backends, overrides={"sms": {"international_daily_budget": 2, "hourly_sends_per_ip": 1000}})
    try:
        api = running.api
        sent = [hk(), phone("+1415555", 4)]
        for number in sent:
            assert (await send_sms(api, number)).status == 202
        refused = phone("+8869", 8)
        problem = assert_problem(await send_sms(api, refused), 429, "sms_international_budget_exhausted")
        assert CJK.search(problem["detail"]) and problem["errors"][0]["field"] == "phone"
        assert int(problem["retry_after"]) > 0
        assert await outbox(api, refused) == []
        again = await send_sms(api, refused)  # the refused attempt was given back: no cooldown, still the budget
        assert_problem(again, 429, "sms_international_budget_exhausted")
        assert int(again.headers["Retry-After"]) > 0
        for _ in range(2):  # mainland numbers are not in that budget
            await sms_login(api)
    finally:
        await stop_app(running)


async def test_a_passport_with_its_visa_verifies_to_l2_and_a_face_check_to_l3(idapp):
    number = phone("+1415555", 4)
    body = await login(idapp.api, number)
    token = body["access_token"]
    passport, visa = "E" + digits(8), "V" + digits(8)
    await register(idapp.ctx, "John Smith", "passport", passport, nationality="USA", visa_number=visa)
    base = {"name": "John Smith", "id_number": passport, "id_type": "passport", "nationality": "USA"}
    problem = assert_problem(await realname(idapp.api, token, **base, visa_number="V" + digits(8)),
                             422, "realname_mismatch")
    assert CJK.search(problem["detail"])
    assert_problem(await realname(idapp.api, token, **{**base, "nationality": "GBR"}, visa_number=visa),
                   422, "realname_not_found")
    resp = await realname(idapp.api, token, **{**base, "name": "JOHN  SMITH", "nationality": "usa"}, visa_number=visa)
    assert resp.status == 200, resp.body
    person = resp.json()["person"]
    assert person["level"] == 2
    rn = person["realname"]
    assert rn["id_type"] == "passport" and rn["document"] == "外国护照"
    assert rn["nationality"] == "USA" and rn["nationality_name"] == "美国"
    assert rn["gender"] is None and rn["birth_date"] is None and rn["id_number"] == passport[:2] + "*****" + passport[-2:]
    doc = await idapp.ctx.db.persons.find_one({"_id": person["id"]})
    assert passport not in str(doc) and visa not in str(doc)
    face = await idapp.api.post("/api/v1/me/face", {"evidence": "dev-face-pass"},
                                headers=bearer(resp.json()["access_token"]))
    assert face.status == 200 and face.json()["person"]["level"] == 3


async def test_permits_and_cards_of_every_type_verify(idapp):
    taiwan = digits(8)
    await register(idapp.ctx, "林志明", "taiwan_permit", taiwan)
    login_ = await login(idapp.api, phone("+8869", 8))
    resp = await realname(idapp.api, login_["access_token"], name="林志明", id_number=taiwan, id_type="taiwan_permit")
    assert resp.status == 200, resp.body
    assert resp.json()["person"]["realname"]["nationality_name"] == "中国台湾"
    for region, id_type, nationality in [("810000", "residence_permit_hmt", "HKG"),
                                         ("911840", "foreign_permanent_id", "USA")]:
        resident = await new_resident(idapp.ctx, name="居住证", region=region)
        login_ = await login(idapp.api, hk())
        resp = await realname(idapp.api, login_["access_token"], name=resident.name, id_number=resident.id_number,
                              id_type=id_type)
        assert resp.status == 200, resp.body
        rn = resp.json()["person"]["realname"]
        assert (rn["id_type"], rn["nationality"]) == (id_type, nationality) and rn["gender"] in ("男", "女")
    # as before, the default type takes a residence permit's number, and says what it was
    resident = await new_resident(idapp.ctx, name="台胞", region="830000")
    resp = await realname(idapp.api, (await sms_login(idapp.api))["access_token"], name=resident.name,
                          id_number=resident.id_number)
    assert resp.status == 200 and resp.json()["person"]["realname"]["id_type"] == "residence_permit_hmt"
    assert resp.json()["person"]["realname"]["nationality"] == "TWN"


@pytest.mark.parametrize("body, field, code", [
    ({"id_type": "hk_macao_permit", "id_number": "12345678"}, "id_number", "id_number_invalid"),
    ({"id_type": "hk_macao_permit", "id_number": "H1234567"}, "id_number", "id_number_invalid"),
    ({"id_type": "hk_macao_permit", "id_number": "X12345678"}, "id_number", "id_number_invalid"),
    ({"id_type": "taiwan_permit", "id_number": "1234567"}, "id_number", "id_number_invalid"),
    ({"id_type": "taiwan_permit", "id_number": "A1234567"}, "id_number", "id_number_invalid"),
    ({"id_type": "taiwan_permit", "id_number": "123456789"}, "id_number", "id_number_invalid"),
    ({"id_type": "residence_permit_hmt", "id_number": "440106199003153018"}, "id_number", "id_number_invalid"),
    ({"id_type": "residence_permit_hmt", "id_number": "810000199003153017"}, "id_number", "id_number_invalid"),
    ({"id_type": "foreign_permanent_id", "id_number": "440106199003153018"}, "id_number", "id_number_invalid"),
    ({"id_type": "resident_id", "id_number": "H12345678"}, "id_number", "id_number_invalid"),
    ({"id_type": "passport", "id_number": "E12", "nationality": "USA", "visa_number": "V1234567"},
     "id_number", "id_number_invalid"),
    ({"id_type": "passport", "id_number": "E1234567!", "nationality": "USA", "visa_number": "V1234567"},
     "id_number", "id_number_invalid"),
    ({"id_type": "passport", "id_number": "E12345678", "visa_number": "V1234567"}, "nationality",
     "nationality_invalid"),
    ({"id_type": "passport", "id_number": "E12345678", "nationality": "XYZ", "visa_number": "V1234567"},
     "nationality", "nationality_invalid"),
    ({"id_type": "passport", "id_number": "E12345678", "nationality": "CHN", "visa_number": "V1234567"},
     "nationality", "nationality_invalid"),
    ({"id_type": "passport", "id_number": "E12345678", "nationality": "USA"}, "visa_number", "visa_number_invalid"),
    ({"id_type": "passport", "id_number": "E12345678", "nationality": "USA", "visa_number": "V-1"},
     "visa_number", "visa_number_invalid"),
    ({"id_type": "passport", "id_number": "E12345678", "nationality": "US", "visa_number": "V1234567"},
     "nationality", "nationality_invalid"),
    ({"id_type": "driving_licence", "id_number": "E12345678"}, "id_type", "validation_failed"),
    ({"id_type": "passport", "id_number": "E12345678", "nationality": "USA", "visa_number": "V1234567",
      "name": "J0hn"}, "name", "validation_failed"),
])
async def test_wrong_formats_for_each_document_type_are_400_naming_the_field(idapp, body, field, code):
    token = (await sms_login(idapp.api))["access_token"]
    problem = assert_problem(await realname(idapp.api, token, **{"name": "Amy Lee", **body}), 400, code)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert CJK.search(problem["detail"]) and all(CJK.search(e["message"]) for e in problem["errors"]), problem


async def test_a_document_the_provider_does_not_know_is_realname_not_found(idapp):
    token = (await login(idapp.api, hk()))["access_token"]
    problem = assert_problem(await realname(idapp.api, token, name="陳大文", id_number="H" + digits(8),
                                            id_type="hk_macao_permit"), 422, "realname_not_found")
    assert problem["errors"][0]["field"] == "id_number"
    taiwan = digits(8)  # known, but as another kind of document
    await register(idapp.ctx, "林美玲", "taiwan_permit", taiwan)
    passport_number = taiwan
    assert_problem(await realname(idapp.api, token, name="林美玲", id_number=passport_number, id_type="passport",
                                  nationality="JPN", visa_number="V" + digits(8)), 422, "realname_not_found")
    me = (await idapp.api.get("/api/v1/me", headers=bearer(token))).json()
    assert me["level"] == 1 and me["realname"] is None


async def test_the_http_provider_is_asked_with_the_document_type(backends):
    from superapp.fakes.verification import make_fake_verification

    permit, passport, visa = "M" + digits(8), "K" + digits(8), "V" + digits(8)
    server, state = make_fake_verification("vs-token", {
        permit: {"name": "黃小明", "id_type": "hk_macao_permit"},
        passport: {"name": "Anna Müller", "id_type": "passport", "nationality": "DEU", "visa_number": visa},
        make_id_number(): "赵六",
    })
    server.start()
    running = await start_app(backends, overrides={"verification": {
        "provider": "http", "url": server.url, "token": "vs-token"}})
    try:
        token = (await login(running.api, phone("+85366", 6)))["access_token"]
        assert_problem(await realname(running.api, token, name="黃小明", id_number=permit, id_type="taiwan_permit"),
                       400, "id_number_invalid")
        resp = await realname(running.api, token, name="黃小明", id_number=permit, id_type="hk_macao_permit")
        assert resp.status == 200, resp.body
        assert resp.json()["person"]["realname"]["nationality"] == "MAC"
        assert state.calls[-1] == {"kind": "identity", "name": "黃小明", "id_number": permit,
                                   "id_type": "hk_macao_permit", "nationality": "MAC"}
        face = await running.api.post("/api/v1/me/face", {"evidence": "live-ok"},
                                      headers=bearer(resp.json()["access_token"]))
        assert face.status == 200 and state.calls[-1]["id_type"] == "hk_macao_permit"
        token = (await login(running.api, phone("+4915", 9)))["access_token"]
        body = {"name": "Anna Muller", "id_number": passport, "id_type": "passport", "nationality": "DEU",
                "visa_number": visa}
        assert_problem(await realname(running.api, token, **body), 422, "realname_mismatch")
        assert state.calls[-1]["visa_number"] == visa and state.calls[-1]["nationality"] == "DEU"
    finally:
        await stop_app(running)
        await server.stop()
