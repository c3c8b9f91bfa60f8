"""12345 for each kind of caller, and every bad input: the knowledge base answering a 咨询,
an anonymous 举报 with its query code, an enterprise's complaint (企业诉求), a kiosk filing
for the holder it scanned, who may see the reporter, the statistics; refused input and
abuse (each a clear 4xx, nothing changed)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support import (assert_problem, bearer, kiosk_token, new_enterprise, new_resident, sms_login, upload_pdf,
                           verified_person)
from tests.tickets.support import STREETLIGHT, desk, desk_ok, file, staff

REPORT = {"kind": "report", "category": "sj-food-safety", "title": "餐馆后厨卫生差",
          "content": "某餐馆后厨老鼠出没，食材随地堆放，请市场监管部门检查。", "anonymous": True}


async def test_a_consult_the_knowledge_base_answers_is_closed_on_the_spot(idapp):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="咨询人"))
    kb = (await idapp.api.get("/api/v1/tickets/knowledge?q=居住证要什么材料")).json()["items"]
    assert kb[0]["id"] == "kb-001" and kb[0]["matter"] == "440100-GA-0012"
    created = (await file(idapp, person, {"kind": "consult", "category": "ga-household", "title": "居住证怎么办",
                                          "content": "刚来广州工作，居住证需要什么材料？在哪里办？"})).json()
    assert created["suggestions"][0]["id"] == "kb-001"
    h = bearer(person["access_token"])
    assert_problem(await idapp.api.post(f"/api/v1/tickets/{created['id']}/resolve", {"version": 1, "answer_id": "kb-x"},
                                        headers=h), 400, "answer_unknown")
    done = await idapp.api.post(f"/api/v1/tickets/{created['id']}/resolve", {"version": 1, "answer_id": "kb-001"},
                                headers=h)
    assert done.status == 200 and done.json()["state"] == "archived"
    assert done.json()["timeline"][-1]["name"] == "知识库直接答复" and "居住证" in done.json()["answer"]
    # it counts as answered directly in the statistics
    chief = await staff(idapp, "rx.zhuren")
    stats = (await idapp.api.get("/api/v1/staff/tickets/stats", headers=bearer(chief))).json()
    assert stats["by_kind"]["咨询"] >= 1


async def test_an_anonymous_report_is_followed_with_its_query_code_and_hides_the_reporter(idapp):
    resp = await file(idapp, None, REPORT)
    assert resp.status == 201, resp.body
    created = resp.json()
    assert len(created["query_code"]) == 12
    look = await idapp.api.post("/api/v1/tickets/lookup", {"number": created["number"], "query_code": created["query_code"]})
    assert look.status == 200 and look.json()["state_name"] == "待受理" and "content" not in look.json()
    assert_problem(await idapp.api.post("/api/v1/tickets/lookup", {"number": created["number"], "query_code": "ABCDEF123456"}),
                   404, "ticket_not_found")
    # without logging in, only an anonymous 举报
    assert_problem(await file(idapp, None, {**REPORT, "kind": "complaint", "anonymous": False, "category": "sj-consumer"}),
                   401)
    # the department never sees who reported; a named report is hidden from it too
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="实名举报人"))
    named = (await file(idapp, person, {**REPORT, "anonymous": False})).json()
    dispatcher = await staff(idapp, "rx.paidan")
    for ticket in (created, named):
        t = await desk_ok(idapp, dispatcher, ticket["id"], "accept", 1)
        await desk_ok(idapp, dispatcher, t["id"], "dispatch", t["version"], lead_department="gz-cgj")
    cg = await staff(idapp, "cg.chuli")
    seen = (await idapp.api.get(f"/api/v1/staff/tickets/{named['id']}", headers=bearer(cg))).json()
    assert seen["reporter"] is None
    hidden = (await idapp.api.get(f"/api/v1/staff/tickets/{named['id']}?reveal_contact=true", headers=bearer(cg))).json()
    assert hidden["reporter"] is None  # asking to reveal changes nothing for the department
    # the centre may reveal it for a callback, and the reporter reads that in their own trail
    shown = (await idapp.api.get(f"/api/v1/staff/tickets/{named['id']}?reveal_contact=true",
                                 headers=bearer(dispatcher))).json()
    assert shown["reporter"]["phone"] == person["phone"] and shown["reporter"]["revealed"] is True
    trail = (await idapp.api.get("/api/v1/me/activity", headers=bearer(person["access_token"]))).json()["items"]
    viewed = [e for e in trail if e["action"] == "ticket.reporter_viewed"]
    assert viewed and "周**" in viewed[0]["details"]["by"]


async def test_guessing_query_codes_is_slowed_down(idapp):
    created = (await file(idapp, None, REPORT)).json()
    codes = [f"{n:012d}" for n in range(12)]
    answers = [await idapp.api.post("/api/v1/tickets/lookup", {"number": created["number"], "query_code": c},
                                    headers={"X-Forwarded-For": "203.0.113.9"}) for c in codes]
    assert [a.status for a in answers].count(429) >= 1 and "Retry-After" in answers[-1].headers


async def test_an_enterprise_complaint_is_tagged_and_counted(idapp):
    from tests.identity.test_enterprises import bound_enterprise

    admin, ent, _ = await bound_enterprise(idapp)
    acting = await idapp.api.post("/api/v1/auth/act-as", {"enterprise_id": ent["id"]},
                                  headers=bearer(admin["access_token"]))
    token = acting.json()["access_token"]
    created = (await file(idapp, {"access_token": token}, {
        "kind": "complaint", "category": "sj-business", "title": "开办手续反复补材料",
        "content": "申请食品经营许可被要求三次补交同样的材料，希望一次说清楚。"})).json()
    mine = (await idapp.api.get("/api/v1/tickets", headers=bearer(token))).json()["items"]
    assert [t["id"] for t in mine] == [created["id"]] and mine[0]["enterprise"]["name"] == ent["name"]
    dispatcher = await staff(idapp, "rx.paidan")
    t = (await idapp.api.get(f"/api/v1/staff/tickets/{created['id']}", headers=bearer(dispatcher))).json()
    assert t["submitter_kind"] == "enterprise" and t["enterprise"]["name"] == ent["name"]
    # the person's own list does not hold the enterprise's
    assert created["id"] not in [x["id"] for x in (await idapp.api.get(
        "/api/v1/tickets", headers=bearer(admin["access_token"]))).json()["items"]]
    stats = (await idapp.api.get("/api/v1/staff/tickets/stats", headers=bearer(await staff(idapp, "rx.zhuren")))).json()
    assert stats["enterprise_share"] > 0 and stats["total"] >= 1


async def test_a_kiosk_files_for_the_holder_it_scanned(idapp):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="终端诉求人"))
    kt = await kiosk_token(idapp.api, idapp.ctx.demo.devices[0])
    code = (await idapp.api.get("/api/v1/codes/person", headers=bearer(person["access_token"]))).json()["code"]
    scan = (await idapp.api.post("/api/v1/scans", {"code": code}, headers=bearer(kt))).json()
    body = {"kind": "complaint", "category": "gov-service", "title": "窗口排队太久", "content": "天河区政务服务中心窗口排队两小时。",
            "scan_id": scan["scan_id"]}
    resp = await idapp.api.post("/api/v1/kiosk/tickets", body, headers={**bearer(kt), "Idempotency-Key": uuid.uuid4().hex})
    assert resp.status == 201, resp.body
    mine = (await idapp.api.get(f"/api/v1/tickets/{resp.json()['id']}", headers=bearer(person["access_token"]))).json()
    assert mine["timeline"][0]["via"] == "天河区政务服务中心 1 号自助终端"
    assert_problem(await idapp.api.post("/api/v1/kiosk/tickets", {**body, "scan_id": "s" + "0" * 31},
                                        headers={**bearer(kt), "Idempotency-Key": uuid.uuid4().hex}), 404)


@pytest.mark.parametrize("change, field", [
    ({"title": None}, "title"),
    ({"title": "x" * 61}, "title"),
    ({"content": "短"}, "content"),
    ({"content": "y" * 2001}, "content"),
    ({"kind": "praise"}, "kind"),
    ({"category": "no-such"}, "category"),
    ({"kind": "consult"}, "kind"),  # 路灯 takes 求助 and 投诉 only
    ({"location": {"address": "伦敦", "lat": 51.5, "lng": -0.12}}, "location.lng"),
    ({"location": {"address": "南极", "lat": -75.0, "lng": 120.0}}, "location.lat"),
    ({"location": {"address": "x", "lat": 23.1}}, "location"),
    ({"content": "路灯不亮<script>alert(1)</script>"}, "content"),
    ({"title": "路灯\u202e不亮"}, "title"),
    ({"anonymous": True}, "anonymous"),  # only a 举报 may be anonymous
    ({"attachments": ["not-an-id"]}, "attachments[0]"),
    ({"related": {"application_id": "x"}}, "related.application_id"),
])
async def test_bad_tickets_are_refused_field_by_field(idapp, change, field):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="错误诉求"))
    before = await idapp.ctx.db.tickets.count_documents({})
    body = {k: v for k, v in {**STREETLIGHT, **change}.items() if v is not None}
    problem = assert_problem(await file(idapp, person, body), 400)
    assert any(e["field"].startswith(field) or field.startswith(e["field"]) for e in problem["errors"]), problem
    assert "请求参数有误" not in problem["detail"]
    assert await idapp.ctx.db.tickets.count_documents({}) == before


async def test_someone_elses_upload_a_stale_version_and_the_wrong_department(idapp):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="附件人"))
    stranger = await verified_person(idapp.api, await new_resident(idapp.ctx, name="陌生人"))
    theirs = await upload_pdf(idapp.api, stranger)
    assert_problem(await file(idapp, person, {**STREETLIGHT, "attachments": [theirs]}), 400, "attachment_not_yours")
    created = (await file(idapp, person, STREETLIGHT)).json()
    assert_problem(await idapp.api.post(f"/api/v1/tickets/{created['id']}/resolve", {"version": 1, "answer_id": "kb-015"},
                                        headers=bearer(person["access_token"])), 409, "not_resolvable")  # not a 咨询
    dispatcher, jt = await staff(idapp, "rx.paidan"), await staff(idapp, "jt.chuli")
    t = await desk_ok(idapp, dispatcher, created["id"], "accept", 1)
    assert_problem(await desk(idapp, dispatcher, t["id"], "dispatch", 1), 409, "stale_version")
    assert_problem(await desk(idapp, dispatcher, t["id"], "dispatch", t["version"], lead_department="gz-nope"),
                   400, "department_unknown")
    t = await desk_ok(idapp, dispatcher, t["id"], "dispatch", t["version"])
    # a department it was not sent to cannot even see it; departments cannot dispatch
    assert_problem(await desk(idapp, jt, t["id"], "sign", t["version"]), 404, "ticket_not_found")
    assert_problem(await desk(idapp, await staff(idapp, "cg.chuli"), t["id"], "dispatch", t["version"]), 403)
    assert_problem(await desk(idapp, await staff(idapp, "cg.chuli"), t["id"], "answer", t["version"], comment="好"),
                   409, "illegal_transition")
    assert_problem(await desk(idapp, await staff(idapp, "cg.chuli"), t["id"], "return", t["version"]),
                   400, "comment_required")
    # a clerk returns once; the second return needs the supervisor, who may
    cg, chief = await staff(idapp, "cg.chuli"), await staff(idapp, "cg.kezhang")
    t = await desk_ok(idapp, cg, t["id"], "return", t["version"], comment="不属本部门")
    t = await desk_ok(idapp, dispatcher, t["id"], "dispatch", t["version"], lead_department="gz-cgj")
    assert_problem(await desk(idapp, cg, t["id"], "return", t["version"], comment="仍不属本部门"), 403,
                   "second_return_needs_supervisor")
    t = await desk_ok(idapp, chief, t["id"], "return", t["version"], comment="经科长确认不属本部门")
    assert len(t["returns"]) == 2


async def test_flooding_is_refused_with_retry_after(idapp):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="刷屏人"))
    answers = await asyncio.gather(*(file(idapp, person, {**STREETLIGHT, "title": f"路灯不亮 {n}"}) for n in range(14)))
    statuses = sorted(a.status for a in answers)
    assert statuses.count(201) == 10 and statuses.count(429) == 4
    limited = next(a for a in answers if a.status == 429)
    assert int(limited.headers["Retry-After"]) > 0 and limited.json()["code"] == "ticket_too_frequent"
    # the same submission retried with its key is answered again, not refused or duplicated
    key = uuid.uuid4().hex
    other = await verified_person(idapp.api, await new_resident(idapp.ctx, name="重试人"))
    first, again = await file(idapp, other, STREETLIGHT, key), await file(idapp, other, STREETLIGHT, key)
    assert first.status == 201 and again.status == 200 and again.json()["id"] == first.json()["id"]
    assert_problem(await file(idapp, other, {**STREETLIGHT, "title": "另一件事"}, key), 422, "idempotency_key_reused")


async def test_an_l0_account_and_a_missing_key_are_refused(idapp):
    login = await sms_login(idapp.api)  # L1: may file
    assert (await file(idapp, login, STREETLIGHT)).status == 201
    resp = await idapp.api.post("/api/v1/tickets", STREETLIGHT, headers=bearer(login["access_token"]))
    assert_problem(resp, 400, "idempotency_key_required")
