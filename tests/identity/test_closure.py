"""注销账号 (PIPL Art. 47): a fresh re-authentication, nothing pending, then what identifies
the person is gone, every login ends, the records the law keeps stay under a pseudonym, and
the same phone and ID number can open a new account."""
from __future__ import annotations

import asyncio
import json
import uuid

from tests.matters.test_matters import RESIDENCE, apply, residence_body, resident_with_id_card, upload
from tests.support import (assert_problem, bearer, latest_sms_code, new_enterprise, new_resident, sms_login,
                           verified_person, wechat_login)

CONFIRM = "确认注销"


async def closure_code(app, person) -> str:
    await asyncio.sleep(1.1)  # this app's resend interval (the login code went to the same phone)
    resp = await app.api.post("/api/v1/me/closure/sms", headers=bearer(person["access_token"]))
    assert resp.status == 202, resp.body
    assert "****" in resp.json()["phone"]
    return await latest_sms_code(app.api, person["phone"])


async def close(app, person, **body):
    return await app.api.request("DELETE", "/api/v1/me", json={"confirm": CONFIRM, **body},
                                 headers=bearer(person["access_token"]))


async def test_nothing_pending_then_erased_kept_and_registered_again(idapp):
    r, person, card_id = await resident_with_id_card(idapp, "注销人")
    h = bearer(person["access_token"])
    preview = (await idapp.api.get("/api/v1/me/closure", headers=h)).json()
    assert preview["can_close"] is True and preview["obligations"] == [] and preview["reauth"] == ["sms"]
    assert "手机号码" in preview["erased"] and any("办件" in k for k in preview["kept"])

    # an application in progress must be settled first; nothing changes meanwhile
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    app = (await apply(idapp, person, residence_body(prefill, (await upload(idapp, person)).json()["id"]))).json()
    code = await closure_code(idapp, person)
    body = assert_problem(await close(idapp, person, sms_code=code), 409, "account_has_obligations")
    assert [o["kind"] for o in body["obligations"]] == ["application"] and app["number"] in body["obligations"][0]["title"]
    assert (await idapp.api.get("/api/v1/me", headers=h)).status == 200
    await idapp.api.post(f"/api/v1/applications/{app['id']}/withdraw", {"version": app["version"]}, headers=h)

    # bad re-authentication: refused, nothing changed
    assert_problem(await close(idapp, person), 400, "reauth_required")
    assert_problem(await idapp.api.request("DELETE", "/api/v1/me", json={"sms_code": code}, headers=h),
                   400, "validation_failed")  # no confirmation
    code = await closure_code(idapp, person)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_problem(await close(idapp, person, sms_code=wrong), 400, "sms_code_invalid")
    assert (await idapp.api.get("/api/v1/me", headers=h)).status == 200

    assert (await close(idapp, person, sms_code=code)).status == 204
    # every login ends at once
    assert_problem(await idapp.api.get("/api/v1/me", headers=h), 401)
    assert_problem(await idapp.api.post("/api/v1/auth/refresh", {"refresh_token": person["refresh_token"]}), 401)
    # nothing that identifies the person is left in the account or its bindings
    pid, pii = person["person"]["id"], idapp.ctx.pii
    doc = await idapp.ctx.db.persons.find_one({"_id": pid})
    assert doc["status"] == "closed" and doc["pseudonym"].startswith("已注销用户")
    assert doc["phone_enc"] is None and doc["realname"] is None and doc["phone_bidx"] is None
    for coll in ("phone_bindings", "id_bindings", "wechat_bindings"):
        assert await idapp.ctx.db[coll].count_documents({"person_id": pid}) == 0
    # the records the law keeps stay, naming nobody
    kept = await idapp.ctx.db.applications.find_one({"_id": app["id"]})
    assert kept["applicant"]["name"] == doc["pseudonym"] and kept["number"] == app["number"]
    trail = await idapp.ctx.db.audit_log.find({"chain": f"person:{pid}"}).to_list()
    assert trail[-1]["action"] == "account.closed" and (await idapp.ctx.audit.verify(f"person:{pid}")).ok
    text = json.dumps(trail, ensure_ascii=False, default=str)
    assert r.id_number not in text and person["phone"] not in text and r.name not in text

    # the same phone and ID number open a new account, which finds the certificates again
    await asyncio.sleep(1.1)
    again = await sms_login(idapp.api, person["phone"])
    assert again["is_new"] is True and again["person"]["id"] != pid
    real = await idapp.api.post("/api/v1/me/realname", {"name": r.name, "id_number": r.id_number},
                                headers=bearer(again["access_token"]))
    assert real.status == 200, real.body
    wallet = (await idapp.api.get("/api/v1/wallet", headers=bearer(real.json()["access_token"]))).json()["items"]
    assert [c["id"] for c in wallet] == [card_id]


async def test_an_enterprise_admin_hands_over_first(idapp):
    rep = await new_resident(idapp.ctx, name="管理员")
    person = await verified_person(idapp.api, rep)
    ent = await new_enterprise(idapp.ctx, rep)
    assert (await idapp.api.post("/api/v1/enterprises", {"uscc": ent.uscc, "name": ent.name},
                                 headers=bearer(person["access_token"]))).status == 201
    preview = (await idapp.api.get("/api/v1/me/closure", headers=bearer(person["access_token"]))).json()
    assert preview["can_close"] is False and preview["obligations"][0]["kind"] == "enterprise_admin"
    assert ent.name in preview["obligations"][0]["title"]
    code = await closure_code(idapp, person)
    assert_problem(await close(idapp, person, sms_code=code), 409, "account_has_obligations")


async def test_wechat_reauthentication_only_by_the_accounts_own_wechat(idapp):
    tag = uuid.uuid4().hex[:8]
    me = await wechat_login(idapp.api, f"closer-{tag}")
    preview = (await idapp.api.get("/api/v1/me/closure", headers=bearer(me["access_token"]))).json()
    assert preview["reauth"] == ["wechat"]
    assert_problem(await idapp.api.post("/api/v1/me/closure/sms", headers=bearer(me["access_token"])),
                   409, "no_phone_on_account")
    body = assert_problem(await idapp.api.request("DELETE", "/api/v1/me", headers=bearer(me["access_token"]),
                                                  json={"confirm": CONFIRM, "wechat_code": f"test-other-{tag}"}),
                          422, "wechat_not_this_account")
    assert body["errors"][0]["field"] == "wechat_code"
    resp = await idapp.api.request("DELETE", "/api/v1/me", headers=bearer(me["access_token"]),
                                   json={"confirm": CONFIRM, "wechat_code": f"test-closer-{tag}"})
    assert resp.status == 204, resp.body
    again = await wechat_login(idapp.api, f"closer-{tag}")
    assert again["is_new"] is True and again["person"]["id"] != me["person"]["id"]
