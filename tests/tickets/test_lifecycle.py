"""A 12345 ticket's whole life through HTTP on the real embedded servers: filed with a photo,
accepted and dispatched to two departments, returned and re-dispatched, signed, extended,
answered, judged 不满意 and redone, answered again, judged 满意, archived — with the due
times the working-day calendar gives, the department's duty phone and the resident told
at each step, and the worker's supervision of a ticket that ran late."""
from __future__ import annotations

from datetime import datetime

from server.calendar import CHINA, add_working_days, add_working_hours, end_of_working_day, is_workday
from tests.support import bearer, new_resident, upload_pdf, verified_person
from tests.tickets.support import STREETLIGHT, desk, desk_ok, file, staff

DISPATCHER, CHIEF = "rx.paidan", "rx.zhuren"
CG, CG_CHIEF, JT = "cg.chuli", "cg.kezhang", "jt.chuli"


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, CHINA)


def expected_due(dispatched_ms: int, days: int) -> int:
    return int(end_of_working_day(add_working_days(at(dispatched_ms).date(), days)).timestamp() * 1000)


async def outbox(app, phone: str) -> list[str]:
    return [m["text"] for m in (await app.api.get(f"/api/v1/dev/sms-outbox?phone={phone}")).json()["items"]]


async def wait_sent(app, ticket_id: str, n: int) -> None:
    """Until every notification of the ticket (at least ``n``) has been sent."""
    import asyncio

    for _ in range(400):
        total = await app.ctx.db.notifications.count_documents({"ticket_id": ticket_id})
        sent = await app.ctx.db.notifications.count_documents({"ticket_id": ticket_id, "status": "sent"})
        if sent >= n and sent == total:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"notifications of {ticket_id} not all sent")


async def test_the_whole_life_of_a_ticket(idapp):
    resident = await new_resident(idapp.ctx, name="路灯诉求人")
    person = await verified_person(idapp.api, resident)
    h = bearer(person["access_token"])
    photo = await upload_pdf(idapp.api, person)
    resp = await file(idapp, person, {**STREETLIGHT, "attachments": [photo]})
    assert resp.status == 201, resp.body
    created = resp.json()
    assert created["number"].startswith("12345-") and created["state"] == "submitted" and created["due_at"] is None

    dispatcher, cg, jt = await staff(idapp, DISPATCHER), await staff(idapp, CG), await staff(idapp, JT)
    queue = (await idapp.api.get("/api/v1/staff/tickets?view=new", headers=bearer(dispatcher))).json()["items"]
    t = next(x for x in queue if x["id"] == created["id"])
    assert t["reporter"]["name"] == "路****" and "****" in t["reporter"]["phone"]  # masked even for the centre
    t = await desk_ok(idapp, dispatcher, t["id"], "accept", t["version"], comment="属实，予以受理")
    t = await desk_ok(idapp, dispatcher, t["id"], "dispatch", t["version"], lead_department="gz-cgj",
                      co_departments=["gz-jt"])
    assert t["state"] == "dispatched" and t["co_departments"] == ["gz-jt"]
    assert t["due_at"] == expected_due(t["timeline"][-1]["at"], 3)  # 求助: 3 working days
    assert is_workday(at(t["due_at"]).date()) and at(t["due_at"]).hour == 18
    assert t["sign_due_at"] == int(add_working_hours(at(t["timeline"][-1]["at"]), 2).timestamp() * 1000)
    # both departments see it; the co-handling one cannot sign for the lead
    assert t["id"] in [x["id"] for x in (await idapp.api.get("/api/v1/staff/tickets", headers=bearer(jt))).json()["items"]]
    body = (await desk(idapp, jt, t["id"], "sign", t["version"])).json()
    assert body["code"] == "not_lead_department"
    # the department can see the photo
    att = await idapp.api.get(f"/api/v1/staff/tickets/{t['id']}/attachments/{photo}", headers=bearer(cg))
    assert att.status == 200 and att.body.startswith(b"%PDF")

    # returned (wrong department for part of it), re-dispatched, signed
    t = await desk_ok(idapp, cg, t["id"], "return", t["version"], comment="路灯属区管，请先核实产权")
    assert t["state"] == "returned"
    t = await desk_ok(idapp, dispatcher, t["id"], "dispatch", t["version"], lead_department="gz-cgj")
    second = await desk(idapp, cg, t["id"], "return", t["version"], comment="还是不归我们")
    assert second.status == 403 and second.json()["code"] == "second_return_needs_supervisor"
    t = await desk_ok(idapp, cg, t["id"], "sign", t["version"])
    assert t["state"] == "handling"

    # an extension of 2 working days, asked and approved: the due time moves by exactly that
    due_before = t["due_at"]
    t = await desk_ok(idapp, cg, t["id"], "extend", t["version"], days=2, comment="需更换电缆，等待物料")
    assert t["extension"]["pending"] is True
    t = await desk_ok(idapp, dispatcher, t["id"], "decide-extension", t["version"], approve=True)
    moved = int(datetime.combine(add_working_days(at(due_before).date(), 2), at(due_before).timetz()).timestamp() * 1000)
    assert t["due_at"] == moved and t["extensions"][0]["approved"] is True

    t = await desk_ok(idapp, cg, t["id"], "answer", t["version"], comment="已更换电缆，路灯恢复照明")
    mine = (await idapp.api.get(f"/api/v1/tickets/{t['id']}", headers=h)).json()
    assert mine["state"] == "answered" and mine["answer"] == "已更换电缆，路灯恢复照明"

    # 不满意: redone once by the same department, the centre watching
    redo = await idapp.api.post(f"/api/v1/tickets/{t['id']}/callback",
                                {"version": mine["version"], "result": "unsatisfied", "comment": "只修好了一盏"}, headers=h)
    assert redo.status == 200 and redo.json()["state"] == "handling" and redo.json()["redo_count"] == 1
    watched = (await idapp.api.get("/api/v1/staff/tickets?view=reopened", headers=bearer(dispatcher))).json()["items"]
    t = next(x for x in watched if x["id"] == t["id"])
    t = await desk_ok(idapp, cg, t["id"], "answer", t["version"], comment="两盏路灯均已修复并复查")
    mine = (await idapp.api.get(f"/api/v1/tickets/{t['id']}", headers=h)).json()
    done = await idapp.api.post(f"/api/v1/tickets/{t['id']}/callback",
                                {"version": mine["version"], "result": "satisfied"}, headers=h)
    assert done.status == 200 and done.json()["state"] == "archived"
    names = [e["name"] for e in done.json()["timeline"]]
    assert names == ["待受理", "已受理", "已派单", "已退单", "已派单", "办理中", "申请延期", "延期已批准", "已答复",
                     "不满意，重办", "已答复", "已办结"]
    # nobody else may judge it; a finished ticket takes no more callbacks
    other = await verified_person(idapp.api, await new_resident(idapp.ctx, name="旁人"))
    assert (await idapp.api.post(f"/api/v1/tickets/{t['id']}/callback", {"version": 1, "result": "satisfied"},
                                 headers=bearer(other["access_token"]))).status == 404

    # told at each step: the resident (SMS: an H5 user) and the departments' duty phones
    await wait_sent(idapp, t["id"], 6)
    texts = await outbox(idapp, person["phone"])
    assert any("已受理" in x and created["number"] in x for x in texts)
    assert any("已答复" in x for x in texts) and any("已办结" in x for x in texts)
    cg_texts = await outbox(idapp, "13900020001")
    assert sum(created["number"] in x and "已派单" in x for x in cg_texts) == 2
    assert any(created["number"] in x for x in await outbox(idapp, "13900020002"))  # the co-handling department
    # and every step is in the resident's own trail
    trail = (await idapp.api.get("/api/v1/me/activity?limit=100", headers=h)).json()["items"]
    assert {"ticket.submitted", "ticket.accepted", "ticket.dispatched", "ticket.answered", "ticket.archived"} <= {
        e["action"] for e in trail}


async def test_a_late_ticket_is_supervised_then_escalated_by_the_worker(idapp):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="超期诉求人"))
    created = (await file(idapp, person, {**STREETLIGHT, "title": "垃圾三天未清运", "category": "cg-garbage"})).json()
    dispatcher, cg_chief = await staff(idapp, DISPATCHER), await staff(idapp, CG_CHIEF)
    t = await desk_ok(idapp, dispatcher, created["id"], "accept", 1)
    t = await desk_ok(idapp, dispatcher, t["id"], "dispatch", t["version"])
    assert t["lead_department"] == "gz-cgj"  # the category's department
    supervise = idapp.ctx.ticket_desk.supervise
    assert await supervise(now=t["sign_due_at"] + 1) >= 1
    t = (await idapp.api.get(f"/api/v1/staff/tickets/{t['id']}", headers=bearer(dispatcher))).json()
    assert t["timeline"][-1]["name"] == "签收超时" and "sign_overdue" in t["escalations"]
    t = await desk_ok(idapp, cg_chief, t["id"], "sign", t["version"])
    await supervise(now=t["due_at"] + 1)
    t = (await idapp.api.get(f"/api/v1/staff/tickets/{t['id']}", headers=bearer(dispatcher))).json()
    assert t["timeline"][-1]["name"] == "督办" and t["overdue"] is False  # (the real clock: not yet late)
    later = idapp.ctx.ticket_lifecycle.escalate_at(t["due_at"]) + 1
    await supervise(now=later)
    await supervise(now=later)  # once per step, however often the worker runs
    t = (await idapp.api.get(f"/api/v1/staff/tickets/{t['id']}", headers=bearer(dispatcher))).json()
    assert [e["name"] for e in t["timeline"]].count("升级督办") == 1
    overdue = (await idapp.api.get("/api/v1/staff/tickets?view=overdue", headers=bearer(dispatcher))).json()["items"]
    assert t["id"] in [x["id"] for x in overdue]
    await wait_sent(idapp, t["id"], 3)
    assert any("督办" in x for x in await outbox(idapp, "13900020001"))
