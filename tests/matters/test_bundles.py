"""一件事一次办 and journey 4 of PRODUCT.md through the HTTP API: a legal representative
binds the enterprise and authorises a staff member, who acts for it, shows the enterprise
code and applies once for 开办餐饮店一件事; two departments handle the children in
parallel; the parent completes when both do, and the licence lands in the enterprise
wallet. Also: merged forms, a denied child on the parent, missing materials named."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from tests.support import (assert_problem, bearer, demo_staff, issuer_client, issuer_token, new_enterprise,
                           new_resident, staff_token, upload_pdf, verified_person)

RESTAURANT = "YJS-CY-001"
NEWBORN = "YJS-XSE-001"
LICENCE = "11100000MB0143028R001"


async def test_merged_forms_and_field_reduction(idapp):
    b = (await idapp.api.get(f"/api/v1/bundles/{RESTAURANT}")).json()
    assert b["fields_separately"] == 12 and b["fields_merged"] == 8 and b["field_reduction"] == 0.333
    assert {"operator_name", "uscc", "address", "employees"} <= set(b["form"]["properties"])
    licence = [m for m in b["materials"] if m["certificate_type"] == LICENCE]
    assert len(licence) == 1 and len(licence[0]["used_by"]) == 2  # asked once for both matters
    newborn = (await idapp.api.get(f"/api/v1/bundles/{NEWBORN}")).json()
    assert newborn["fields_merged"] < newborn["fields_separately"]
    assert_problem(await idapp.api.get("/api/v1/bundles/NOPE-1"), 404, "bundle_not_found")


async def handle(app, username, child, actions):
    token = await staff_token(app.api, demo_staff(app.ctx, username))
    version = child["version"]
    for action in actions:
        resp = await app.api.post(f"/api/v1/staff/applications/{child['id']}/{action}",
                                  {"version": version, "comment": "同意"}, headers=bearer(token))
        assert resp.status == 200, resp.body
        version = resp.json()["version"]
    return resp.json()


async def test_journey_4_enterprise_agent_applies_for_a_bundle(idapp):
    # the legal representative binds the enterprise, which holds its 营业执照 in the wallet
    rep = await new_resident(idapp.ctx, name="龚法人")
    admin = await verified_person(idapp.api, rep, channel="portal")
    reg = await new_enterprise(idapp.ctx, rep, name="广州一件事餐饮有限公司")
    amr = issuer_client(idapp.ctx, "11440100007056787F")
    await idapp.api.post("/api/v1/issuer/certificates", amr.issue_body(
        f"lic-{reg.uscc}", LICENCE, {"kind": "enterprise", "uscc": reg.uscc, "name": reg.name},
        {"name": reg.name, "uscc": reg.uscc, "type": "有限责任公司", "legal_representative": rep.name,
         "established": "2022-03-01", "address": reg.address, "business_scope": "餐饮服务"}),
        headers=bearer(await issuer_token(idapp.api, amr)))
    ent = (await idapp.api.post("/api/v1/enterprises", {"uscc": reg.uscc, "name": reg.name},
                                headers=bearer(admin["access_token"]))).json()
    # ... and authorises a staff member for matters, certificates and the enterprise code
    agent = await verified_person(idapp.api, await new_resident(idapp.ctx, name="卢经办"), channel="portal")
    inv = (await idapp.api.post(f"/api/v1/enterprises/{ent['id']}/agents", {
        "phone": agent["phone"], "scopes": ["matters", "certificates", "code"],
        "expires_at": f"{date.today() + timedelta(days=90)}T00:00:00+08:00"}, headers=bearer(admin["access_token"]))).json()
    await idapp.api.post(f"/api/v1/me/invitations/{inv['id']}/accept", headers=bearer(agent["access_token"]))
    acting = (await idapp.api.post("/api/v1/auth/act-as", {"enterprise_id": ent["id"]},
                                   headers=bearer(agent["access_token"]))).json()
    token = acting["access_token"]
    h = bearer(token)
    # the staff member shows the enterprise code
    code = await idapp.api.get(f"/api/v1/codes/enterprise/{ent['id']}", headers=bearer(agent["access_token"]))
    assert code.status == 200 and code.json()["subject_type"] == "enterprise"
    # and applies once for the bundle
    bundle = (await idapp.api.get(f"/api/v1/bundles/{RESTAURANT}")).json()
    layout, rules = await upload_pdf(idapp.api, {"access_token": token}), await upload_pdf(idapp.api,
                                                                                         {"access_token": token})
    form = {"operator_name": reg.name, "uscc": reg.uscc, "legal_representative": rep.name, "address": reg.address,
            "business_items": "热食类食品制售", "safety_manager": "卢经办", "employees": 12,
            "contact_phone": agent["phone"]}
    materials = [{"id": "440100-SJ-0207:layout", "upload_id": layout}, {"id": "440100-SJ-0207:rules",
                                                                       "upload_id": rules}]
    assert set(form) == set(bundle["form"]["properties"])
    key = uuid.uuid4().hex
    resp = await idapp.api.post("/api/v1/bundle-applications", {"bundle": RESTAURANT, "form": form,
                                                                "materials": materials},
                                headers={**h, "Idempotency-Key": key})
    assert resp.status == 201, resp.body
    parent = resp.json()
    assert parent["progress"] == {"done": 0, "total": 2} and parent["state"] == "in_progress"
    again = await idapp.api.post("/api/v1/bundle-applications", {"bundle": RESTAURANT, "form": form,
                                                                 "materials": materials},
                                 headers={**h, "Idempotency-Key": key})
    assert again.status == 200 and again.json()["id"] == parent["id"]
    departments = {c["department_name"] for c in parent["children"]}
    assert departments == {"广州市市场监督管理局", "广州市人力资源和社会保障局"}
    food = next(c for c in parent["children"] if c["matter"] == "440100-SJ-0207")
    social = next(c for c in parent["children"] if c["matter"] == "440100-RS-0052")
    # two departments, in parallel
    await handle(idapp, "scj.shouli", food, ["accept", "approve"])
    await handle(idapp, "rsj.shenhe", social, ["accept", "approve", "complete"])
    mid = (await idapp.api.get(f"/api/v1/bundle-applications/{parent['id']}", headers=h)).json()
    assert mid["progress"]["done"] == 2 and mid["state"] == "in_progress"
    food_now = next(c for c in mid["children"] if c["matter"] == "440100-SJ-0207")
    await handle(idapp, "scj.shouli", food_now, ["complete"])
    done = (await idapp.api.get(f"/api/v1/bundle-applications/{parent['id']}", headers=h)).json()
    assert done["state"] == "completed"
    # the food licence is an e-certificate in the enterprise's wallet
    wallet = (await idapp.api.get("/api/v1/wallet", headers=h)).json()["items"]
    assert {w["type_name"] for w in wallet} == {"营业执照", "食品经营许可证"}


async def test_missing_material_names_the_matter_and_a_denied_child_shows(idapp):
    r = await new_resident(idapp.ctx, name="新手妈妈")
    person = await verified_person(idapp.api, r)
    h = bearer(person["access_token"])
    form = {"baby_name": "小宝", "baby_gender": "男", "birth_date": date.today().isoformat(), "guardian_name": r.name,
            "guardian_id_number": r.id_number, "relation": "母亲", "phone": person["phone"],
            "clinic": "天河区妇幼保健院接种门诊"}
    resp = await idapp.api.post("/api/v1/bundle-applications", {"bundle": NEWBORN, "form": form, "materials": []},
                                headers={**h, "Idempotency-Key": uuid.uuid4().hex})
    body = assert_problem(resp, 422, "material_missing")
    messages = " ".join(e["message"] for e in body["errors"])
    assert "新生儿入户登记" in messages and "出生医学证明" in messages and "新生儿预防接种证办理" in messages
    assert await idapp.ctx.db.applications.count_documents({"applicant_key": f"person:{person['person']['id']}"}) == 0
    # with the birth certificate and household register in the wallet it goes through
    health = issuer_client(idapp.ctx, "124401004554091607")
    psb = issuer_client(idapp.ctx, "11440100007012346M")
    await idapp.api.post("/api/v1/issuer/certificates", health.issue_body(
        f"birth-{r.id_number}", "11100000000019297M001", {"kind": "person", "id_number": r.id_number, "name": r.name},
        {"certificate_number": "Q440012345", "baby_name": "小宝", "gender": "男", "birth_date": date.today().isoformat(),
         "birth_place": "广州市天河区", "mother_name": r.name, "mother_id_number": r.id_number}),
        headers=bearer(await issuer_token(idapp.api, health)))
    await idapp.api.post("/api/v1/issuer/certificates", psb.issue_body(
        f"hukou-{r.id_number}", "11100000000013338W002", {"kind": "person", "id_number": r.id_number, "name": r.name},
        {"household_number": "440106123456", "household_head": r.name, "relation": "户主", "name": r.name,
         "id_number": r.id_number, "address": r.address}), headers=bearer(await issuer_token(idapp.api, psb)))
    resp = await idapp.api.post("/api/v1/bundle-applications", {"bundle": NEWBORN, "form": form, "materials": []},
                                headers={**h, "Idempotency-Key": uuid.uuid4().hex})
    assert resp.status == 201, resp.body
    parent = resp.json()
    vaccine = next(c for c in parent["children"] if c["matter"] == "440100-WJ-0008")
    staff = await staff_token(idapp.api, demo_staff(idapp.ctx, "wjw.shenhe"))
    accepted = (await idapp.api.post(f"/api/v1/staff/applications/{vaccine['id']}/accept",
                                     {"version": vaccine["version"]}, headers=bearer(staff))).json()
    await idapp.api.post(f"/api/v1/staff/applications/{vaccine['id']}/deny",
                         {"version": accepted["version"], "comment": "接种门诊名额已满，请改选其他门诊"},
                         headers=bearer(staff))
    view = (await idapp.api.get(f"/api/v1/bundle-applications/{parent['id']}", headers=h)).json()
    assert view["state"] == "partially_denied"
    assert next(c for c in view["children"] if c["matter"] == "440100-WJ-0008")["state"] == "denied"
