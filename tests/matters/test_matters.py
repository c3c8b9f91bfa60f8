"""Matters through the HTTP API: catalog and guide, prefill from identity and wallet
(免证办), uploads, idempotent submission, the lifecycle with department staff,
working-day deadlines across National Day, result certificates into the wallet, and
every listed bad input."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from server.calendar import add_working_days, is_workday, working_days_between
from tests.journeys import id_card_for
from tests.support import (assert_problem, bearer, demo_staff, issuer_client, issuer_token, new_resident, sms_login,
                           staff_token, verified_person)

RESIDENCE = "440100-GA-0012"
ID_CARD = "11100000000013338W001"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def resident_with_id_card(app, name="申办人", **kw):
    r = await new_resident(app.ctx, name=name, **kw)
    person = await verified_person(app.api, r)
    return r, person, await id_card_for(app, r)


async def upload(app, person, data=PDF, ctype="application/pdf"):
    resp = await app.api.request("POST", "/api/v1/uploads?filename=contract.pdf", body=data,
                                 headers={**bearer(person["access_token"]), "Content-Type": ctype})
    return resp


async def apply(app, person, body, key=None):
    return await app.api.post("/api/v1/applications", body,
                              headers={**bearer(person["access_token"]), "Idempotency-Key": key or uuid.uuid4().hex})


def residence_body(prefill, upload_id, **form):
    return {"matter": RESIDENCE, "form": {**prefill["form"], "residence_since": "2025-06-01", "reason": "就业",
                                          **form},
            "materials": [{"id": "residence_proof", "upload_id": upload_id}]}


async def staff_act(app, token, app_id, action, version, comment="", items=None):
    return await app.api.post(f"/api/v1/staff/applications/{app_id}/{action}",
                              {"version": version, "comment": comment, "items": items or []}, headers=bearer(token))


async def test_catalog_search_and_guide(idapp):
    items = (await idapp.api.get("/api/v1/matters")).json()["items"]
    assert len(items) >= 8 and len({i["department"] for i in items}) >= 5
    found = (await idapp.api.get("/api/v1/matters?q=%E5%85%AC%E7%A7%AF%E9%87%91")).json()["items"]  # 公积金
    assert [m["name"] for m in found] == ["住房公积金提取（租房）"]
    ent = (await idapp.api.get("/api/v1/matters?target=enterprise")).json()["items"]
    assert all(m["target"] in ("enterprise", "both") for m in ent) and ent
    guide = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}")).json()
    assert guide["promised_limit_days"] == 7 and guide["visits"] == 0 and guide["conditions"]
    assert any(m.get("certificate_type") == ID_CARD for m in guide["materials"])
    assert_problem(await idapp.api.get("/api/v1/matters/NO-SUCH-1"), 404, "matter_not_found")
    assert_problem(await idapp.api.get("/api/v1/matters?target=alien"), 400, "validation_failed")


async def test_journey_apply_review_supplement_approve_result_in_wallet(idapp):
    r, person, card_id = await resident_with_id_card(idapp, "申居住")
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    assert prefill["form"]["name"] == "申居住" and prefill["form"]["id_number"] == r.id_number
    assert prefill["form"]["residence_address"] == r.address  # from the ID card in the wallet
    card = next(m for m in prefill["materials"] if m["id"] == "id_card")
    assert card["satisfied_by_wallet"] is True and card["certificate_id"] == card_id
    up = (await upload(idapp, person)).json()
    key = uuid.uuid4().hex
    first = await apply(idapp, person, residence_body(prefill, up["id"]), key)
    assert first.status == 201, first.body
    app = first.json()
    assert app["state"] == "submitted" and app["number"].startswith("GZ")
    materials = {m["id"]: m for m in app["materials"]}
    assert materials["id_card"]["source"] == "certificate" and materials["id_card"]["auto"] is True  # 免证办
    again = await apply(idapp, person, residence_body(prefill, up["id"]), key)
    assert again.status == 200 and again.json()["id"] == app["id"]

    intake = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shouli"))
    reviewer = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shenhe"))
    queue = (await idapp.api.get("/api/v1/staff/queue?state=submitted", headers=bearer(intake))).json()["items"]
    assert app["id"] in [a["id"] for a in queue]
    detail = (await idapp.api.get(f"/api/v1/staff/applications/{app['id']}", headers=bearer(intake))).json()
    assert detail["material_checks"][0]["valid"] is True
    accepted = (await staff_act(idapp, intake, app["id"], "accept", app["version"], "材料齐全，予以受理")).json()
    assert accepted["state"] == "in_review" and accepted["deadline"] and accepted["remaining_working_days"] == 7
    # the intake clerk cannot approve; another department cannot even see it
    assert_problem(await staff_act(idapp, intake, app["id"], "approve", accepted["version"]), 403, "role_missing")
    other = await staff_token(idapp.api, demo_staff(idapp.ctx, "scj.shouli"))
    assert_problem(await staff_act(idapp, other, app["id"], "accept", accepted["version"]), 404,
                   "application_not_found")
    assert_problem(await idapp.api.get(f"/api/v1/staff/applications/{app['id']}", headers=bearer(other)), 404)
    # the department can read the uploaded material, another department cannot
    assert (await idapp.api.get(f"/api/v1/uploads/{up['id']}", headers=bearer(reviewer))).body == PDF
    assert_problem(await idapp.api.get(f"/api/v1/uploads/{up['id']}", headers=bearer(other)), 404)

    supp = (await staff_act(idapp, reviewer, app["id"], "request-supplement", accepted["version"],
                            "租赁合同缺少出租人签字页", ["residence_proof"])).json()
    assert supp["state"] == "supplement_requested" and supp["clock_paused"] is True
    assert supp["supplement"]["items"] == ["residence_proof"]
    # stale version: a second reviewer acting on the old version loses
    assert_problem(await staff_act(idapp, reviewer, app["id"], "approve", accepted["version"]), 409, "stale_version")
    new_up = (await upload(idapp, person, PDF + b"%signed\n")).json()
    resub = await idapp.api.post(f"/api/v1/applications/{app['id']}/resubmit",
                                 {"version": supp["version"], "comment": "已补签字页",
                                  "materials": [{"id": "residence_proof", "upload_id": new_up["id"]}]}, headers=h)
    assert resub.status == 200, resub.body
    assert resub.json()["state"] == "resubmitted" and resub.json()["clock_paused"] is False
    approved = (await staff_act(idapp, reviewer, app["id"], "approve", resub.json()["version"], "同意")).json()
    assert approved["state"] == "approved" and approved["result"]["certificate_id"]
    done = (await staff_act(idapp, intake, app["id"], "complete", approved["version"], "已办结")).json()
    assert done["state"] == "completed"
    # illegal transition names the current state
    body = assert_problem(await staff_act(idapp, reviewer, app["id"], "approve", done["version"]), 409,
                          "illegal_transition")
    assert body["state"] == "completed"
    # the result is an e-certificate in the wallet
    wallet = (await idapp.api.get("/api/v1/wallet", headers=h)).json()["items"]
    permit = next(w for w in wallet if w["type"] == "11100000000013338W021")
    assert permit["id"] == approved["result"]["certificate_id"] and permit["status"] in ("valid", "expiring")
    mine = (await idapp.api.get(f"/api/v1/applications/{app['id']}", headers=h)).json()
    assert [t["state"] for t in mine["timeline"]] == ["submitted", "submitted", "accepted", "in_review",
                                                      "supplement_requested", "resubmitted", "approved", "completed"]
    # no property in the wallet: 秒批 did not apply, and the reviewer saw why
    assert mine["timeline"][1]["actor"] == {"type": "system", "id": "秒批"} and "不动产" in mine["timeline"][1]["comment"]
    assert mine["instant_approval"]["passed"] is False
    # the resident was told at each step (SMS: they use H5), then rates the service
    for _ in range(200):
        sent = await idapp.ctx.db.notifications.count_documents({"application_id": app["id"], "status": "sent"})
        if sent == len(mine["timeline"]):
            break
        await asyncio.sleep(0.05)
    assert sent == len(mine["timeline"])
    outbox = (await idapp.api.get(f"/api/v1/dev/sms-outbox?phone={person['phone']}")).json()["items"]
    assert sum(app["number"] in m["text"] for m in outbox) == len(mine["timeline"])
    rating = await idapp.api.post(f"/api/v1/applications/{app['id']}/rating", {"score": 5, "tags": ["免证办"]},
                                  headers=h)
    assert rating.status == 201 and rating.json()["level"] == "非常满意"
    assert all(t["actor"]["id"] for t in mine["timeline"])


async def test_bad_application_inputs(idapp):
    r, person, card_id = await resident_with_id_card(idapp, "错误多")
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    up = (await upload(idapp, person)).json()
    before = await idapp.ctx.db.applications.count_documents({})
    assert_problem(await apply(idapp, person, {**residence_body(prefill, up["id"]), "matter": "NO-SUCH-2"}), 404,
                   "matter_not_found")
    # form failing its schema: per-field Chinese messages
    body = assert_problem(await apply(idapp, person, residence_body(prefill, up["id"], reason="旅游",
                                                                    residence_since="2025-02-30", phone="123")),
                          400, "form_invalid")
    msgs = {e["field"]: e["message"] for e in body["errors"]}
    assert msgs["form.reason"] == "居住事由取值不在允许范围内" and msgs["form.phone"] == "联系电话格式不正确"
    assert "form.residence_since" in msgs
    # missing required material
    body = assert_problem(await apply(idapp, person, {**residence_body(prefill, up["id"]), "materials": []}), 422,
                          "material_missing")
    assert body["errors"] == [{"field": "materials.residence_proof", "message": "缺少必要材料：合法稳定住所证明（租赁合同或房产证明）"}]
    # a certificate that is not in the caller's wallet
    someone = await resident_with_id_card(idapp, "别人家")
    bad = residence_body(prefill, up["id"])
    bad["materials"].append({"id": "id_card", "certificate_id": someone[2]})
    body = assert_problem(await apply(idapp, person, bad), 422, "material_invalid")
    assert body["errors"][0]["field"] == "materials.id_card"
    # another person's upload
    theirs = (await upload(idapp, someone[1])).json()
    assert_problem(await apply(idapp, person, residence_body(prefill, theirs["id"])), 422, "material_invalid")
    assert_problem(await idapp.api.get(f"/api/v1/uploads/{theirs['id']}", headers=h), 404, "upload_not_found")
    # same Idempotency-Key, different body
    key = uuid.uuid4().hex
    assert (await apply(idapp, person, residence_body(prefill, up["id"]), key)).status == 201
    assert_problem(await apply(idapp, person, residence_body(prefill, up["id"], reason="就读"), key), 422,
                   "idempotency_key_reused")
    assert_problem(await idapp.api.post("/api/v1/applications", residence_body(prefill, up["id"]), headers=h), 400,
                   "idempotency_key_required")
    assert await idapp.ctx.db.applications.count_documents({}) == before + 1
    # level too low
    l1 = await sms_login(idapp.api)
    body = assert_problem(await apply(idapp, l1, residence_body(prefill, up["id"])), 403, "level_too_low")
    assert body["required_level"] == 2
    # a revoked certificate no longer covers the material
    client = issuer_client(idapp.ctx, "11440100007012346M")
    token = await issuer_token(idapp.api, client)
    await idapp.api.post(f"/api/v1/issuer/certificates/{card_id}/revoke", {"request_id": "rv-" + card_id[-8:]},
                         headers=bearer(token))
    pre = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    assert next(m for m in pre["materials"] if m["id"] == "id_card")["satisfied_by_wallet"] is False
    body = assert_problem(await apply(idapp, person, residence_body(prefill, up["id"])), 422, "material_missing")
    assert body["errors"][0]["field"] == "materials.id_card"


async def test_uploads_are_checked_for_size_and_type(idapp):
    _, person, _ = await resident_with_id_card(idapp, "传文件")
    assert_problem(await upload(idapp, person, b"<html>not a pdf</html>"), 415, "upload_type_not_allowed")
    assert_problem(await upload(idapp, person, PNG, "application/pdf"), 415, "upload_type_not_allowed")
    assert (await upload(idapp, person, PNG, "image/png")).status == 201
    big = PDF + b"0" * (10 * 1024 * 1024)
    assert_problem(await upload(idapp, person, big), 413, "payload_too_large")
    assert_problem(await upload(idapp, person, b""), 400, "upload_empty")


async def test_twenty_concurrent_submissions_with_one_key_make_one_application(idapp):
    _, person, _ = await resident_with_id_card(idapp, "并发人")
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    up = (await upload(idapp, person)).json()
    key = uuid.uuid4().hex
    results = await asyncio.gather(*(apply(idapp, person, residence_body(prefill, up["id"]), key) for _ in range(20)))
    assert sorted(r.status for r in results).count(201) == 1
    assert all(r.status in (200, 201) for r in results), [r.status for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    mine = (await idapp.api.get("/api/v1/applications", headers=h)).json()["items"]
    assert len([a for a in mine if a["matter"] == RESIDENCE]) == 1


def test_an_announced_year_can_be_added_before_the_package_knows_it(tmp_path, monkeypatch):
    from server import calendar

    path = tmp_path / "holidays.json"
    path.write_text('{"years": {"2027": {"off": ["2027-01-01", "2027-02-08"], "on": ["2027-02-06"]}}}')
    monkeypatch.setattr(calendar, "OVERRIDES", calendar.load_overrides(path))
    assert not is_workday(date(2027, 1, 1)) and not is_workday(date(2027, 2, 8))  # a Friday and a Monday off
    assert is_workday(date(2027, 2, 6))  # a Saturday worked
    assert not is_workday(date(2027, 1, 2)) and is_workday(date(2027, 1, 4))  # plain weekend / weekday
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    for bad in ('{"years": {"2027": {"off": ["2028-01-01"], "on": []}}}',
                '{"years": {"2027": {"off": ["2027-02-06"], "on": ["2027-02-06"]}}}',
                '{"years": {"2027": {"off": ["2027-02-30"], "on": []}}}'):
        path.write_text(bad)
        with pytest.raises(ValueError):
            calendar.load_overrides(path)


def test_working_days_across_national_day_and_a_make_up_day():
    assert not is_workday(date(2026, 10, 1)) and not is_workday(date(2026, 10, 7))
    assert is_workday(date(2026, 10, 10))  # Saturday, a make-up working day (调休)
    assert not is_workday(date(2026, 10, 11))
    # accepted on Tuesday 29 September 2026
    assert add_working_days(date(2026, 9, 29), 3) == date(2026, 10, 9)
    assert add_working_days(date(2026, 9, 29), 4) == date(2026, 10, 10)  # the Saturday counts
    assert add_working_days(date(2026, 9, 29), 7) == date(2026, 10, 14)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


async def test_deadline_of_an_application_spans_the_holiday_and_pauses_for_supplements(idapp):
    _, person, _ = await resident_with_id_card(idapp, "跨节日")
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    up = (await upload(idapp, person)).json()
    app = (await apply(idapp, person, residence_body(prefill, up["id"]))).json()
    intake = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shouli"))
    accepted = (await staff_act(idapp, intake, app["id"], "accept", app["version"], "受理")).json()
    # as if accepted on 29 September 2026 (promised: 7 working days)
    svc = idapp.ctx.lifecycle
    doc = await idapp.ctx.db.applications.find_one({"_id": app["id"]})
    doc["accepted_on"] = "2026-09-29"
    assert svc.view(doc, today=date(2026, 9, 30))["deadline"] == "2026-10-14"
    assert svc.view(doc, today=date(2026, 9, 30))["remaining_working_days"] == 6
    assert svc.view(doc, today=date(2026, 10, 15))["overdue"] is True
    # a supplement requested on 30 September and answered on Saturday 10 October (a working day)
    doc.update(paused_since=None, paused_days=working_days_between(date(2026, 9, 30), date(2026, 10, 10)))
    assert doc["paused_days"] == 3  # 8, 9 and 10 October
    assert svc.view(doc, today=date(2026, 10, 12))["deadline"] == "2026-10-19"
    # while it is paused, the remaining days do not shrink
    doc.update(paused_days=0, paused_since="2026-09-30")
    assert svc.view(doc, today=date(2026, 10, 9))["remaining_working_days"] == \
        svc.view(doc, today=date(2026, 10, 12))["remaining_working_days"]
    # and the real acceptance (today) got a deadline 7 working days out
    from matters.lifecycle import china_today

    assert accepted["deadline"] == add_working_days(china_today(), 7).isoformat()


async def test_withdraw_and_supervisor_stats(idapp):
    _, person, _ = await resident_with_id_card(idapp, "撤回人")
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    up = (await upload(idapp, person)).json()
    app = (await apply(idapp, person, residence_body(prefill, up["id"]))).json()
    withdrawn = await idapp.api.post(f"/api/v1/applications/{app['id']}/withdraw", {"version": app["version"]},
                                     headers=h)
    assert withdrawn.json()["state"] == "withdrawn"
    assert_problem(await idapp.api.post(f"/api/v1/applications/{app['id']}/withdraw",
                                        {"version": withdrawn.json()["version"]}, headers=h), 409,
                   "illegal_transition")
    supervisor = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shenhe"))
    stats = (await idapp.api.get("/api/v1/staff/stats", headers=bearer(supervisor))).json()["items"]
    row = next(s for s in stats if s["matter"] == RESIDENCE)
    assert row["total"] >= 1 and row["by_state"].get("withdrawn", 0) >= 1
    intake = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shouli"))
    assert_problem(await idapp.api.get("/api/v1/staff/stats", headers=bearer(intake)), 403, "role_missing")
    assert_problem(await staff_act(idapp, intake, app["id"], "reject", 99, ""), 400, "comment_required")


async def test_idempotency_keys_are_forgotten_after_a_day(idapp):
    _, person, _ = await resident_with_id_card(idapp, "过期键")
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    up = (await upload(idapp, person)).json()
    key = uuid.uuid4().hex
    first = (await apply(idapp, person, residence_body(prefill, up["id"]), key)).json()
    await idapp.ctx.db.idempotency_keys.update_many({}, {"$set": {"created_at": 1}})
    assert await idapp.ctx.idempotency.prune() >= 1
    later = await apply(idapp, person, residence_body(prefill, up["id"]), key)
    assert later.status == 201 and later.json()["id"] != first["id"]


async def test_supplement_is_asked_once_and_a_second_request_needs_the_supervisor(idapp):
    """一次性告知: the first request lists everything (known materials only); a reviewer cannot
    ask again; the supervisor can, with a reason, and both show on the applicant's timeline."""
    r, person, _ = await resident_with_id_card(idapp, "补正人")
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    up = (await upload(idapp, person)).json()
    app = (await apply(idapp, person, residence_body(prefill, up["id"]))).json()
    intake = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shouli"))
    reviewer = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shencha"))
    chief = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shenhe"))
    app = (await staff_act(idapp, intake, app["id"], "accept", app["version"], "予以受理")).json()

    # nothing listed, or a material the matter does not have: refused, nothing changed
    body = assert_problem(await staff_act(idapp, reviewer, app["id"], "request-supplement", app["version"], "缺材料"),
                          400, "supplement_items_required")
    assert body["errors"][0]["field"] == "items"
    assert_problem(await staff_act(idapp, reviewer, app["id"], "request-supplement", app["version"], "缺材料",
                                   ["no_such_material"]), 400, "supplement_item_unknown")
    assert (await idapp.api.get(f"/api/v1/applications/{app['id']}", headers=h)).json()["state"] == "in_review"

    first = (await staff_act(idapp, reviewer, app["id"], "request-supplement", app["version"], "合同缺签字页",
                             ["residence_proof", "residence_proof"])).json()
    assert first["supplement"]["items"] == ["residence_proof"]
    new_up = (await upload(idapp, person, PDF + b"%signed\n")).json()
    resub = (await idapp.api.post(f"/api/v1/applications/{app['id']}/resubmit",
                                  {"version": first["version"], "materials": [{"id": "residence_proof",
                                                                               "upload_id": new_up["id"]}]},
                                  headers=h)).json()

    # the reviewer may not ask a second time; the supervisor must give a reason
    body = assert_problem(await staff_act(idapp, reviewer, app["id"], "request-supplement", resub["version"],
                                          "还缺一页", ["residence_proof"]), 403, "supplement_once")
    assert "科长" in body["detail"]
    resp = await idapp.api.post(f"/api/v1/staff/applications/{app['id']}/request-supplement",
                                {"version": resub["version"], "comment": "还缺一页", "items": ["residence_proof"]},
                                headers=bearer(chief))
    assert_problem(resp, 400, "supplement_reason_required")
    resp = await idapp.api.post(f"/api/v1/staff/applications/{app['id']}/request-supplement",
                                {"version": resub["version"], "comment": "还缺一页", "items": ["residence_proof"],
                                 "reason": "x" * 201}, headers=bearer(chief))
    assert_problem(resp, 400, "validation_failed")
    resp = await idapp.api.post(f"/api/v1/staff/applications/{app['id']}/request-supplement",
                                {"version": resub["version"], "comment": "补交的合同页码不连续", "items": ["residence_proof"],
                                 "reason": "补正后的材料暴露出新的问题"}, headers=bearer(chief))
    assert resp.status == 200, resp.body
    mine = (await idapp.api.get(f"/api/v1/applications/{app['id']}", headers=h)).json()
    second = mine["timeline"][-1]
    assert second["state"] == "supplement_requested" and second["second_request"] is True
    assert second["reason"] == "补正后的材料暴露出新的问题" and second["approved_by_name"] == "广州市公安局 林**"
    # who acted, in words the applicant reads (masked), on the timeline and in the account trail
    assert mine["timeline"][2]["actor_name"] == "广州市公安局 张**" and mine["finished_at"] is None
    trail = (await idapp.api.get("/api/v1/me/activity", headers=h)).json()["items"]
    assert {e["actor"].get("name") for e in trail if e["actor"]["type"] == "staff"} >= {
        "广州市公安局工作人员 张**", "广州市公安局工作人员 陈**", "广州市公安局工作人员 林**"}
    assert {e["actor"]["name"] for e in trail if e["actor"]["type"] == "person"} == {"本人"}

    # withdrawn: finished, with the time it happened
    gone = (await idapp.api.post(f"/api/v1/applications/{app['id']}/withdraw", {"version": mine["version"]},
                                 headers=h)).json()
    assert gone["state"] == "withdrawn" and gone["finished_at"] == gone["timeline"][-1]["at"]
