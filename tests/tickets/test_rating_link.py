"""A 差评 taken to 12345: the complaint names the application and the rectification, one open
complaint per rating, only the rater's own bad rating; when the department's supervisor closes
the rectification, the complaint closes with its answer and the person is told. A complaint
the port missed is closed by the worker's catch-up round."""
from __future__ import annotations

import time

from tests.matters.test_ratings import completed_application
from tests.support import assert_problem, bearer, demo_staff, new_resident, staff_token, verified_person
from tests.tickets.support import file

COMPLAINT = {"kind": "complaint", "category": "gjj-fund", "title": "公积金租房提取到账太慢",
             "content": "租房提取办结后十天还没到账，评价了非常不满意，希望有人跟进处理。"}


async def rated(app, score: int, name: str):
    person, application = await completed_application(app, name)
    resp = await app.api.post(f"/api/v1/applications/{application['id']}/rating",
                              {"score": score, "comment": "到账太慢"}, headers=bearer(person["access_token"]))
    assert resp.status == 201, resp.body
    return person, application, resp.json()


async def close_rectification(app, rect_id: str) -> None:
    staff = await staff_token(app.api, demo_staff(app.ctx, "gjj.shenhe"))
    for step, text in (("answer", "已核实为银行退票，已重新发放并电话告知"), ("close", "整改完成")):
        resp = await app.api.post(f"/api/v1/staff/rectifications/{rect_id}/{step}", {"text": text},
                                  headers=bearer(staff))
        assert resp.status == 200, resp.body


async def test_a_bad_rating_becomes_a_complaint_the_rectification_closes(idapp):
    person, application, rating = await rated(idapp, 1, "差评转投诉")
    own = await idapp.api.get(f"/api/v1/applications/{application['id']}/rating", headers=bearer(person["access_token"]))
    assert own.status == 200 and own.json()["score"] == 1 and own.json()["rectification_id"]
    body = {**COMPLAINT, "related": {"rating_id": application["id"]}}
    created = await file(idapp, person, body)
    assert created.status == 201, created.body
    ticket_id = created.json()["id"]
    assert_problem(await file(idapp, person, body), 409, "rating_already_raised")
    h = bearer(person["access_token"])
    mine = (await idapp.api.get(f"/api/v1/tickets/{ticket_id}", headers=h)).json()
    assert mine["related"] == {"rating_id": application["id"], "application_id": application["id"],
                               "application_number": application["number"],
                               "rectification_id": rating["rectification_id"]}
    await close_rectification(idapp, rating["rectification_id"])
    after = (await idapp.api.get(f"/api/v1/tickets/{ticket_id}", headers=h)).json()
    assert after["state"] == "archived" and after["answer"] == "已核实为银行退票，已重新发放并电话告知"
    assert after["timeline"][-1]["name"] == "差评整改办结"
    activity = (await idapp.api.get("/api/v1/me/activity", headers=h)).json()["items"]
    assert any(e["action"] == "ticket.rectified" and e["action_name"] == "12345：差评整改办结" for e in activity)
    # closed: the same rating may be raised again (about the rectification itself), and stays open
    again = await file(idapp, person, body)
    assert again.status == 201, again.body
    assert (await idapp.api.get(f"/api/v1/tickets/{again.json()['id']}", headers=h)).json()["state"] == "submitted"
    assert await idapp.ctx.tickets.catch_up_rectifications() == 0


async def test_only_the_raters_own_bad_rating_and_only_as_a_complaint(idapp):
    person, application, _ = await rated(idapp, 4, "好评不转")
    body = {**COMPLAINT, "related": {"rating_id": application["id"]}}
    assert_problem(await file(idapp, person, body), 409, "rating_not_bad")
    assert_problem(await file(idapp, person, {**body, "kind": "consult"}), 400, "ticket_invalid")
    other = await verified_person(idapp.api, await new_resident(idapp.ctx, name="旁人"))
    assert_problem(await file(idapp, other, body), 404, "application_not_found")
    assert_problem(await file(idapp, person, {**body, "related": {"rating_id": "not-an-id"}}), 400)
    assert await idapp.ctx.db.tickets.count_documents({"related.rating_id": application["id"]}) == 0


async def test_the_worker_catches_up_with_a_closing_the_port_missed(idapp):
    person, application, rating = await rated(idapp, 2, "补偿关闭")
    created = await file(idapp, person, {**COMPLAINT, "related": {"rating_id": application["id"]}})
    ticket_id = created.json()["id"]
    rect_id = rating["rectification_id"]
    # the rectification closes while the tickets side does not hear of it (as if the call failed)
    await idapp.ctx.db.rectifications.update_one({"_id": rect_id}, {"$set": {
        "state": "closed", "answer": "已整改", "closed_by": "s-test", "closed_at": int(time.time() * 1000)}})
    assert (await idapp.api.get(f"/api/v1/tickets/{ticket_id}", headers=bearer(person["access_token"]))
            ).json()["state"] == "submitted"
    assert await idapp.ctx.tickets.catch_up_rectifications() >= 1
    after = (await idapp.api.get(f"/api/v1/tickets/{ticket_id}", headers=bearer(person["access_token"]))).json()
    assert after["state"] == "archived" and after["answer"] == "已整改"
