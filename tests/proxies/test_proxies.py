"""亲友代办 through HTTP: an elderly parent lets a son act for her, the son applies for her
and she sees it; what a proxy may never do; a revocation stops the acting token mid-session;
a mother acts for her newborn on the strength of the birth certificate in her wallet; bad
grants and claims refused, nothing changed; both trails name the proxy."""
from __future__ import annotations

from datetime import date, timedelta

from tests.matters.test_matters import ID_CARD, PNG, RESIDENCE, apply, resident_with_id_card, residence_body, upload
from tests.support import (assert_problem, bearer, issuer_client, issuer_token, make_id_number, new_resident,
                           sms_login, verified_person)

BIRTH = "11100000000019297M001"
SOCIAL = "440100-RS-0033"


async def grant(app, who, **body):
    body = {"scopes": ["matters", "certificates"], "expires_on": (date.today() + timedelta(days=30)).isoformat(),
            **body}
    return await app.api.post("/api/v1/me/proxies", body, headers=bearer(who["access_token"]))


async def act(app, who, person_id):
    return await app.api.post("/api/v1/auth/act-as", {"person_id": person_id}, headers=bearer(who["access_token"]))


async def accepted(app, principal, proxy, **body):
    made = await grant(app, principal, phone=proxy["phone"], **body)
    assert made.status == 201, made.body
    g = made.json()
    assert g["state"] == "pending" and g["proxy_name"].endswith("*")
    ok = await app.api.post(f"/api/v1/me/proxies/{g['id']}/accept", {"version": g["version"]},
                            headers=bearer(proxy["access_token"]))
    assert ok.status == 200 and ok.json()["state"] == "active", ok.body
    return ok.json()


async def test_a_son_applies_for_his_mother_and_she_sees_it(idapp):
    r, mother, _ = await resident_with_id_card(idapp, "钱老太")
    son = await verified_person(idapp.api, await new_resident(idapp.ctx, name="钱孝顺"))
    g = await accepted(idapp, mother, son)
    # not yet acting: the son's own token does not reach her wallet
    switched = await act(idapp, son, mother["person"]["id"])
    assert switched.status == 200, switched.body
    body = switched.json()
    assert body["acting_person"]["person_id"] == mother["person"]["id"] and body["acting_person"]["name"] == "钱**"
    acting = {"access_token": body["access_token"]}
    h = bearer(acting["access_token"])
    wallet = (await idapp.api.get("/api/v1/wallet", headers=h)).json()["items"]
    assert [c["type"] for c in wallet] == [ID_CARD]  # hers
    now = (await idapp.api.get("/api/v1/auth/acting", headers=h)).json()
    assert now["person"]["scopes"] == ["certificates", "matters"] and now["enterprise"] is None
    # he applies for her: her application, her prefill, his name on it
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    assert prefill["form"]["name"] == "钱老太"
    up = (await upload(idapp, acting)).json()
    made = await apply(idapp, acting, residence_body(prefill, up["id"]))
    assert made.status == 201, made.body
    assert made.json()["timeline"][0]["comment"] == "由亲友 钱** 代办提交"
    mine = (await idapp.api.get("/api/v1/applications", headers=bearer(mother["access_token"]))).json()["items"]
    assert [a["id"] for a in mine] == [made.json()["id"]]
    # both trails say who did it
    hers = (await idapp.api.get("/api/v1/me/activity", headers=bearer(mother["access_token"]))).json()["items"]
    submitted = next(a for a in hers if a["action"] == "application.submitted")
    assert submitted["actor"]["type"] == "proxy" and submitted["actor"]["name"] == "由 钱** 代办"
    his = (await idapp.api.get("/api/v1/me/activity", headers=bearer(son["access_token"]))).json()["items"]
    assert any(a["action"] == "application.submitted" and a["actor"]["name"] == "本人代办" for a in his)
    assert any(a["action"] == "proxy.accepted" for a in his) and any(a["action"] == "proxy.granted" for a in hers)

    # what a proxy may never do, and what the grant does not cover
    for method, path, payload in (("PATCH", "/api/v1/me", {"nickname": "改"}),
                                  ("POST", "/api/v1/me/realname", {"name": "钱老太", "id_number": r.id_number}),
                                  ("GET", "/api/v1/me/proxies", None), ("POST", "/api/v1/me/proxies/guardianship",
                                                                         {"child_name": "某", "child_id_number": r.id_number}),
                                  ("GET", "/api/v1/codes/person", None), ("POST", "/api/v1/auth/logout-all", {})):
        resp = await idapp.api.request(method, path, json=payload, headers=h)
        assert_problem(resp, 403, "not_allowed_for_proxy")
    assert_problem(await idapp.api.get("/api/v1/tickets", headers=h), 403, "proxy_scope_missing")
    assert_problem(await idapp.api.get("/api/v1/appointments", headers=h), 403, "proxy_scope_missing")
    # the mother revokes: the acting token stops at once, mid-session
    rev = await idapp.api.post(f"/api/v1/me/proxies/{g['id']}/revoke", {"version": g["version"]},
                               headers=bearer(mother["access_token"]))
    assert rev.status == 200 and rev.json()["state"] == "revoked"
    assert_problem(await idapp.api.get("/api/v1/wallet", headers=h), 403, "authorization_revoked")
    assert_problem(await act(idapp, son, mother["person"]["id"]), 403, "not_authorized_for_person")
    # and he can always switch back to himself with his own token
    back = await idapp.api.post("/api/v1/auth/act-as", {}, headers=bearer(son["access_token"]))
    assert back.status == 200 and back.json()["acting_person"] is None


async def test_switching_back_from_acting_gives_the_proxy_their_own_token(idapp):
    _, mother, _ = await resident_with_id_card(idapp, "孙老人")
    son = await verified_person(idapp.api, await new_resident(idapp.ctx, name="孙子代"))
    await accepted(idapp, mother, son, scopes=["certificates"])
    acting = (await act(idapp, son, mother["person"]["id"])).json()["access_token"]
    back = await idapp.api.post("/api/v1/auth/act-as", {}, headers=bearer(acting))
    assert back.status == 200, back.body
    me = (await idapp.api.get("/api/v1/me", headers=bearer(back.json()["access_token"]))).json()
    assert me["id"] == son["person"]["id"]
    # only matters were not granted: no applications for her
    assert_problem(await idapp.api.get("/api/v1/applications", headers=bearer(acting)), 403, "proxy_scope_missing")


async def test_a_mother_acts_for_her_newborn(idapp):
    r, mother, _ = await resident_with_id_card(idapp, "王妈妈")
    born = date.today() - timedelta(days=20)
    child_id = make_id_number(birth=born.strftime("%Y%m%d"))
    health = issuer_client(idapp.ctx, "124401004554091607")
    body = health.issue_body(f"birth-{child_id}", BIRTH, {"kind": "person", "id_number": r.id_number, "name": r.name},
                             {"certificate_number": "Q440077001", "baby_name": "王小宝", "gender": "男",
                              "birth_date": born.isoformat(), "birth_place": "广州市天河区", "mother_name": r.name,
                              "mother_id_number": r.id_number})
    resp = await idapp.api.post("/api/v1/issuer/certificates", body, headers=bearer(await issuer_token(idapp.api, health)))
    assert resp.status == 201, resp.body
    h = bearer(mother["access_token"])
    before = await idapp.ctx.db.proxy_grants.count_documents({})
    claim = "/api/v1/me/proxies/guardianship"
    assert_problem(await idapp.api.post(claim, {"child_name": "王大宝", "child_id_number": child_id}, headers=h), 409,
                   "guardian_not_proven")
    adult = make_id_number(birth="19900101")
    assert_problem(await idapp.api.post(claim, {"child_name": "王小宝", "child_id_number": adult}, headers=h), 409,
                   "child_not_minor")
    assert_problem(await idapp.api.post(claim, {"child_name": "王小宝", "child_id_number": child_id[:-1] + "0"
                                                if child_id[-1] != "0" else child_id[:-1] + "1"}, headers=h), 400)
    assert await idapp.ctx.db.proxy_grants.count_documents({}) == before
    made = await idapp.api.post(claim, {"child_name": "王小宝", "child_id_number": child_id}, headers=h)
    assert made.status == 201, made.body
    g = made.json()
    assert g["kind"] == "guardian" and g["state"] == "active" and len(g["scopes"]) == 4
    assert g["expires_on"] == (date(born.year + 18, born.month, born.day) - timedelta(days=1)).isoformat()
    again = await idapp.api.post(claim, {"child_name": "王小宝", "child_id_number": child_id}, headers=h)
    assert again.json()["id"] == g["id"]  # claimed once
    listed = (await idapp.api.get("/api/v1/me/proxies", headers=h)).json()
    assert [x["id"] for x in listed["received"]] == [g["id"]]
    # acting for the child: the child's own (empty) wallet and an application in the child's name
    acting = (await act(idapp, mother, g["principal_id"])).json()
    assert acting["acting_person"]["kind"] == "guardian"
    ah = {"access_token": acting["access_token"]}
    me = (await idapp.api.get("/api/v1/me", headers=bearer(ah["access_token"]))).json()
    assert me["id"] == g["principal_id"]
    photo = (await upload(idapp, ah, PNG, "image/png")).json()["id"]
    card = (await upload(idapp, ah, PNG, "image/png")).json()["id"]
    prefill = (await idapp.api.get(f"/api/v1/matters/{SOCIAL}/prefill", headers=bearer(ah["access_token"]))).json()
    assert prefill["form"]["name"] == "王小宝" and prefill["form"]["id_number"] == child_id
    made = await apply(idapp, ah, {"matter": SOCIAL, "form": {**prefill["form"], "bank": "建设银行",
                                                              "phone": mother["phone"]},
                                   "materials": [{"id": "photo", "upload_id": photo}, {"id": "id_card", "upload_id": card}]})
    assert made.status == 201, made.body
    assert made.json()["applicant"]["name"] == "王小宝" and "监护人" in made.json()["timeline"][0]["comment"]


async def test_bad_grants_are_refused_and_change_nothing(idapp):
    _, me, _ = await resident_with_id_card(idapp, "乱授权")
    other = await verified_person(idapp.api, await new_resident(idapp.ctx, name="被授权"))
    l1 = await sms_login(idapp.api)  # phone only, no real name
    before = await idapp.ctx.db.proxy_grants.count_documents({})
    assert_problem(await grant(idapp, l1, phone=other["phone"]), 403, "level_too_low")
    assert_problem(await grant(idapp, me, phone=me["phone"]), 400, "proxy_self")
    assert_problem(await grant(idapp, me, phone="13900000000"), 404, "proxy_not_found")
    assert_problem(await grant(idapp, me, phone=l1["phone"]), 409, "proxy_not_verified")
    assert_problem(await grant(idapp, me, phone=other["phone"], scopes=["login"]), 400)
    assert_problem(await grant(idapp, me, phone=other["phone"], scopes=[]), 400)
    assert_problem(await grant(idapp, me, phone=other["phone"], expires_on="2020-01-01"), 400, "expiry_out_of_range")
    assert_problem(await grant(idapp, me, phone=other["phone"], expires_on="2099-01-01"), 400, "expiry_out_of_range")
    assert_problem(await grant(idapp, me, phone=other["phone"], person_id=other["person"]["id"]), 400)
    assert_problem(await grant(idapp, me), 400)
    assert await idapp.ctx.db.proxy_grants.count_documents({}) == before
    g = (await grant(idapp, me, phone=other["phone"])).json()
    assert_problem(await grant(idapp, me, person_id=other["person"]["id"]), 409, "grant_exists")
    # not accepted yet: no acting; only the proxy accepts; the principal cannot accept their own grant
    assert_problem(await act(idapp, other, me["person"]["id"]), 403, "not_authorized_for_person")
    assert_problem(await idapp.api.post(f"/api/v1/me/proxies/{g['id']}/accept", {"version": 1},
                                        headers=bearer(me["access_token"])), 404, "grant_not_found")
    assert_problem(await idapp.api.post(f"/api/v1/me/proxies/{g['id']}/accept", {"version": 9},
                                        headers=bearer(other["access_token"])), 409, "stale_version")
    # the principal changes the scopes; acting someone never granted
    changed = await idapp.api.request("PATCH", f"/api/v1/me/proxies/{g['id']}", json={
        "version": 1, "scopes": ["tickets"], "expires_on": (date.today() + timedelta(days=5)).isoformat()},
        headers=bearer(me["access_token"]))
    assert changed.status == 200 and changed.json()["scopes"] == ["tickets"]
    stranger = await verified_person(idapp.api, await new_resident(idapp.ctx, name="陌生人"))
    assert_problem(await act(idapp, stranger, me["person"]["id"]), 403, "not_authorized_for_person")
    assert_problem(await idapp.api.post("/api/v1/auth/act-as", {"person_id": "bad"},
                                        headers=bearer(other["access_token"])), 400)


async def test_an_expired_grant_stops_acting_and_both_are_told(idapp):
    _, mother, _ = await resident_with_id_card(idapp, "赵到期")
    son = await verified_person(idapp.api, await new_resident(idapp.ctx, name="赵儿子"))
    g = await accepted(idapp, mother, son)
    acting = (await act(idapp, son, mother["person"]["id"])).json()["access_token"]
    assert (await idapp.api.get("/api/v1/wallet", headers=bearer(acting))).status == 200
    # the end date passes (time moved on: the stored expiry put in the past)
    await idapp.ctx.db.proxy_grants.update_one({"_id": g["id"]}, {"$set": {"expires_at": 1}})
    assert_problem(await idapp.api.get("/api/v1/wallet", headers=bearer(acting)), 403, "authorization_revoked")
    assert await idapp.ctx.proxies.expire_due() >= 1
    stored = await idapp.ctx.db.proxy_grants.find_one({"_id": g["id"]})
    assert stored["state"] == "expired"
    told = await idapp.ctx.db.notifications.count_documents({"proxy_id": g["id"], "state": "expired"})
    assert told == 2
