"""Real-name verification (L2), face (L3), masking and reveal, the person's own audit
trail, through the HTTP API; the development provider (population registry) and the
production HTTP provider against a fake verification service."""
from __future__ import annotations

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from tests.support import (assert_problem, bearer, make_id_number, new_resident, sms_login, start_app, stop_app,
                           verified_person)


async def realname(api, token, name, id_number):
    return await api.post("/api/v1/me/realname", {"name": name, "id_number": id_number}, headers=bearer(token))


async def test_verify_real_name_masks_and_reveals_only_on_request(idapp):
    resident = await new_resident(idapp.ctx, name="陈晓红")
    login = await sms_login(idapp.api)
    resp = await realname(idapp.api, login["access_token"], resident.name, resident.id_number)
    assert resp.status == 200, resp.body
    body = resp.json()
    person = body["person"]
    assert person["level"] == 2 and person["level_name"] == "L2 实名认证"
    assert person["realname"]["name"] == "陈**"
    assert person["realname"]["id_number"] == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]
    assert person["realname"]["document"] == "居民身份证" and person["revealed"] is False
    token = body["access_token"]  # carries the new level
    me = (await idapp.api.get("/api/v1/me", headers=bearer(token))).json()
    assert resident.id_number not in str(me) and me["phone"].count("*") == 4
    shown = (await idapp.api.get("/api/v1/me?reveal=1", headers=bearer(token))).json()
    assert shown["realname"]["id_number"] == resident.id_number and shown["realname"]["name"] == "陈晓红"
    assert shown["phone"] == login["phone"] and shown["revealed"] is True
    actions = [e["action"] for e in (await idapp.api.get("/api/v1/me/activity", headers=bearer(token))).json()["items"]]
    assert actions[:2] == ["pii.revealed", "realname.verified"]
    # stored encrypted: the plain number is nowhere in the person document
    doc = await idapp.ctx.db.persons.find_one({"_id": person["id"]})
    assert resident.id_number not in str(doc) and login["phone"] not in str(doc)


async def test_same_request_again_is_idempotent_and_a_different_identity_is_409(idapp):
    resident = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, resident)
    again = await realname(idapp.api, person["access_token"], resident.name, resident.id_number)
    assert again.status == 200 and again.json()["person"]["id"] == person["person"]["id"]
    other = await new_resident(idapp.ctx)
    assert_problem(await realname(idapp.api, person["access_token"], other.name, other.id_number),
                   409, "realname_already_verified")


async def test_one_id_number_one_account(idapp):
    resident = await new_resident(idapp.ctx)
    await verified_person(idapp.api, resident)
    second = await sms_login(idapp.api)
    body = assert_problem(await realname(idapp.api, second["access_token"], resident.name, resident.id_number),
                          409, "id_number_bound_to_other_account")
    assert body["errors"][0]["field"] == "id_number"
    me = (await idapp.api.get("/api/v1/me", headers=bearer(second["access_token"]))).json()
    assert me["level"] == 1 and me["realname"] is None


@pytest.mark.parametrize(
    "id_number, reason",
    [
        ("440106199003153017", "check_character"),
        ("44010619900230" + "301", "birth_date"),  # 30 February; check character appended below
        ("44010620991231" + "301", "birth_date"),  # in the future
        ("12345", "format"),
        ("00000019900315301", "region"),
    ],
)
async def test_invalid_id_numbers_are_400_with_the_reason(idapp, id_number, reason):
    from identity.idnumber import check_char

    if len(id_number) == 17:
        id_number += check_char(id_number)
    login = await sms_login(idapp.api)
    body = assert_problem(await realname(idapp.api, login["access_token"], "张三", id_number), 400, "id_number_invalid")
    assert body["reason"] == reason and body["errors"][0]["field"] == "id_number"


async def test_not_in_registry_and_name_mismatch_are_422_and_change_nothing(idapp):
    login = await sms_login(idapp.api)
    body = assert_problem(await realname(idapp.api, login["access_token"], "张三", make_id_number()),
                          422, "realname_not_found")
    assert body["errors"][0]["field"] == "id_number"
    resident = await new_resident(idapp.ctx, name="王五")
    body = assert_problem(await realname(idapp.api, login["access_token"], "王六", resident.id_number),
                          422, "realname_mismatch")
    assert body["errors"][0]["field"] == "name"
    assert await idapp.ctx.db.id_bindings.count_documents({"person_id": login["person"]["id"]}) == 0
    me = (await idapp.api.get("/api/v1/me", headers=bearer(login["access_token"]))).json()
    assert me["level"] == 1


async def test_bad_bodies(idapp):
    login = await sms_login(idapp.api)
    h = bearer(login["access_token"])
    for payload, field in [({"name": "张三"}, "id_number"), ({"id_number": "x"}, "name"),
                           ({"name": "<script>", "id_number": "440106199003153018"}, "name"),
                           ({"name": "张三", "id_number": 440106199003153018}, "id_number"),
                           ({"name": "张" * 31, "id_number": "440106199003153018"}, "name")]:
        body = assert_problem(await idapp.api.post("/api/v1/me/realname", payload, headers=h), 400, "validation_failed")
        assert field in [e["field"] for e in body["errors"]], body


async def test_demo_residents_work_including_permits_and_permanent_residence(backends):
    running = await start_app(backends)
    try:
        for resident in running.ctx.demo.residents:
            person = await verified_person(running.api, resident)
            assert person["person"]["level"] == 2
        documents = {r.document for r in running.ctx.demo.residents}
        assert {"居民身份证", "港澳台居民居住证", "外国人永久居留身份证"} <= documents
    finally:
        await stop_app(running)


async def test_face_verification_raises_to_l3(idapp):
    resident = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, resident)
    h = bearer(person["access_token"])
    assert_problem(await idapp.api.post("/api/v1/me/face", {"evidence": "blurry"}, headers=h),
                   422, "face_verification_failed")
    resp = await idapp.api.post("/api/v1/me/face", {"evidence": "dev-face-pass"}, headers=h)
    assert resp.status == 200 and resp.json()["person"]["level"] == 3
    assert resp.json()["person"]["face_verified_at"]


async def test_face_in_a_browser_goes_through_the_providers_page(idapp):
    """H5: the provider's face page (in development, /api/v1/dev/face) sends the person back
    with a signed result bound to their ID number; a matter that needs L3 then opens."""
    import html
    import re

    resident = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, resident)
    h = bearer(person["access_token"])
    need = await idapp.api.get("/api/v1/matters/440100-GA-0031/prefill", headers=h)
    assert assert_problem(need, 403, "level_too_low")["required_level"] == 3
    for bad in ({"return_path": "https://evil.example/"}, {"return_path": "//evil.example"}, {"return_path": 5}):
        assert_problem(await idapp.api.post("/api/v1/me/face/session", bad, headers=h), 400, "validation_failed")
    session = await idapp.api.post("/api/v1/me/face/session", {"return_path": "/mine/face"}, headers=h)
    assert session.status == 201 and "/api/v1/dev/face?" in session.json()["url"]
    page = await idapp.api.get(session.json()["url"].removeprefix(idapp.runner.url))
    assert page.status == 200 and "人脸核验" in page.body.decode()
    passed = html.unescape(re.search(r'data-test="face-pass" href="([^"]+)"', page.body.decode()).group(1))
    assert passed.startswith("/mine/face?face_result=")
    evidence = passed.split("face_result=", 1)[1].replace("%2E", ".")
    # another person cannot use it; a forged one does not pass
    other = await verified_person(idapp.api, await new_resident(idapp.ctx))
    assert_problem(await idapp.api.post("/api/v1/me/face", {"evidence": evidence},
                                        headers=bearer(other["access_token"])), 422, "face_verification_failed")
    forged = evidence.rsplit(".", 1)[0] + ".AAAA"
    assert_problem(await idapp.api.post("/api/v1/me/face", {"evidence": forged}, headers=h), 422,
                   "face_verification_failed")
    resp = await idapp.api.post("/api/v1/me/face", {"evidence": evidence}, headers=h)
    assert resp.status == 200 and resp.json()["person"]["level"] == 3
    opened = await idapp.api.get("/api/v1/matters/440100-GA-0031/prefill", headers=bearer(resp.json()["access_token"]))
    assert opened.status == 200, opened.body


async def test_profile_patch_and_bad_patch(idapp):
    login = await sms_login(idapp.api)
    h = bearer(login["access_token"])
    resp = await idapp.api.request("PATCH", "/api/v1/me", json={"nickname": "小明", "elder_mode": True}, headers=h)
    assert resp.status == 200 and resp.json()["nickname"] == "小明" and resp.json()["elder_mode"] is True
    for bad in ({"nickname": ""}, {"nickname": "x" * 21}, {"elder_mode": "maybe"}, {"level": 3}):
        assert_problem(await idapp.api.request("PATCH", "/api/v1/me", json=bad, headers=h), 400, "validation_failed")
    me = (await idapp.api.get("/api/v1/me", headers=h)).json()
    assert me["nickname"] == "小明" and me["level"] == 1


async def test_activity_chain_detects_tampering(idapp):
    login = await sms_login(idapp.api)
    h = bearer(login["access_token"])
    await idapp.api.request("PATCH", "/api/v1/me", json={"nickname": "甲"}, headers=h)
    await idapp.api.request("PATCH", "/api/v1/me", json={"nickname": "乙"}, headers=h)
    first = (await idapp.api.get("/api/v1/me/activity", headers=h)).json()
    assert first["chain_ok"] is True
    assert [e["seq"] for e in first["items"]] == sorted((e["seq"] for e in first["items"]), reverse=True)
    chain = f"person:{login['person']['id']}"
    await idapp.ctx.db.audit_log.update_one({"chain": chain, "seq": 2}, {"$set": {"action": "nothing.happened"}})
    assert (await idapp.api.get("/api/v1/me/activity", headers=h)).json()["chain_ok"] is False
    page = (await idapp.api.get("/api/v1/me/activity?limit=1&before=3", headers=h)).json()
    assert [e["seq"] for e in page["items"]] == [2]
    assert_problem(await idapp.api.get("/api/v1/me/activity?limit=0", headers=h), 400, "validation_failed")


async def test_production_http_provider_against_a_fake_service(backends):
    from superapp.fakes.verification import make_fake_verification

    id_number = make_id_number()
    server, state = make_fake_verification("vs-token", {id_number: "赵六"})
    server.start()
    running = await start_app(backends, overrides={"verification": {
        "provider": "http", "url": server.url, "token": "vs-token"}})
    try:
        login = await sms_login(running.api)
        assert_problem(await realname(running.api, login["access_token"], "赵七", id_number), 422, "realname_mismatch")
        resp = await realname(running.api, login["access_token"], "赵六", id_number)
        assert resp.status == 200 and resp.json()["person"]["level"] == 2
        face = await running.api.post("/api/v1/me/face", {"evidence": "live-ok"},
                                      headers=bearer(resp.json()["access_token"]))
        assert face.status == 200 and face.json()["person"]["level"] == 3
        assert [c["kind"] for c in state.calls] == ["identity", "identity", "face"]
        # a browser's face check: the provider's page, back to this app with its result (once, for this person)
        other = await sms_login(running.api)
        second = make_id_number()
        state.people[second] = "钱七"
        real = (await realname(running.api, other["access_token"], "钱七", second)).json()
        h = bearer(real["access_token"])
        session = await running.api.post("/api/v1/me/face/session", {"return_path": "/mine/face"}, headers=h)
        assert session.status == 201, session.body
        hop = await AsyncHTTPClient().fetch(HTTPRequest(session.json()["url"], follow_redirects=False), raise_error=False)
        assert hop.code == 302 and hop.headers["Location"].startswith(running.runner.url + "/mine/face?face_result=")
        result = hop.headers["Location"].split("face_result=", 1)[1]
        assert_problem(await running.api.post("/api/v1/me/face", {"evidence": result}, headers=bearer(resp.json()["access_token"])),
                       422, "face_verification_failed")  # someone else's result does not count
        face = await running.api.post("/api/v1/me/face", {"evidence": result}, headers=h)
        assert face.status == 422  # and it was used up by that try
        session = await running.api.post("/api/v1/me/face/session", {}, headers=h)
        hop = await AsyncHTTPClient().fetch(HTTPRequest(session.json()["url"], follow_redirects=False), raise_error=False)
        result = hop.headers["Location"].split("face_result=", 1)[1]
        face = await running.api.post("/api/v1/me/face", {"evidence": result}, headers=h)
        assert face.status == 200 and face.json()["person"]["level"] == 3
        state.broken = True
        other = await sms_login(running.api)
        assert_problem(await realname(running.api, other["access_token"], "赵六", make_id_number()),
                       503, "verification_unavailable")
    finally:
        await stop_app(running)
        await server.stop()
