"""好差评 through the HTTP API: rating a completed matter once (changes within 7 days),
bad ratings opening a rectification that staff answer and a supervisor closes, stats,
ratings collected at a kiosk, and the listed bad inputs."""
from __future__ import annotations

from tests.support import (assert_problem, bearer, demo_staff, kiosk_token, staff_token)
from tests.matters.test_matters import apply, resident_with_id_card, upload

HPF = "440100-GJJ-0011"


async def completed_application(app, name="评价人", rent=3000):
    r, person, _ = await resident_with_id_card(app, name)
    up = (await upload(app, person)).json()
    body = {"matter": HPF, "form": {"name": r.name, "id_number": r.id_number, "monthly_rent": rent, "amount": rent,
                                     "bank_account": "6222020200001234567"},
            "materials": [{"id": "lease", "upload_id": up["id"]}]}
    return person, (await apply(app, person, body)).json()


async def test_bad_rating_opens_a_rectification_answered_and_closed(idapp):
    person, app = await completed_application(idapp, "差评人")
    assert app["state"] == "completed"
    h = bearer(person["access_token"])
    resp = await idapp.api.post(f"/api/v1/applications/{app['id']}/rating",
                                {"score": 1, "tags": ["办事效率低"], "comment": "到账太慢", "indicators": {"办事效率": 1}},
                                headers=h)
    assert resp.status == 201, resp.body
    rating = resp.json()
    assert rating["level"] == "非常不满意" and rating["rectification_id"]
    assert_problem(await idapp.api.post(f"/api/v1/applications/{app['id']}/rating", {"score": 5}, headers=h), 409,
                   "already_rated")
    staff = await staff_token(idapp.api, demo_staff(idapp.ctx, "gjj.shenhe"))
    open_ = (await idapp.api.get("/api/v1/staff/rectifications?state=open", headers=bearer(staff))).json()["items"]
    rect = next(r for r in open_ if r["id"] == rating["rectification_id"])
    assert rect["score"] == 1 and rect["comment"] == "到账太慢" and rect["due_on"]
    assert_problem(await idapp.api.post(f"/api/v1/staff/rectifications/{rect['id']}/close", {"text": "关闭"},
                                        headers=bearer(staff)), 409, "illegal_transition")
    answered = await idapp.api.post(f"/api/v1/staff/rectifications/{rect['id']}/answer",
                                    {"text": "已电话回访，系银行退票，已重新发放"}, headers=bearer(staff))
    assert answered.json()["state"] == "answered"
    closed = await idapp.api.post(f"/api/v1/staff/rectifications/{rect['id']}/close", {"text": "整改完成"},
                                  headers=bearer(staff))
    assert closed.json()["state"] == "closed"
    other = await staff_token(idapp.api, demo_staff(idapp.ctx, "scj.shouli"))
    assert_problem(await idapp.api.post(f"/api/v1/staff/rectifications/{rect['id']}/answer", {"text": "xx"},
                                        headers=bearer(other)), 404, "rectification_not_found")
    stats = (await idapp.api.get("/api/v1/staff/ratings/stats", headers=bearer(staff))).json()
    row = next(m for m in stats["matters"] if m["matter"] == HPF)
    assert row["count"] >= 1 and row["bad"] >= 1 and row["distribution"]["1"] >= 1


async def test_change_within_seven_days_and_not_after(idapp):
    person, app = await completed_application(idapp, "改评价")
    h = bearer(person["access_token"])
    assert (await idapp.api.post(f"/api/v1/applications/{app['id']}/rating", {"score": 3}, headers=h)).status == 201
    changed = await idapp.api.request("PATCH", f"/api/v1/applications/{app['id']}/rating", json={"score": 5},
                                      headers=h)
    assert changed.status == 200 and changed.json()["level"] == "非常满意"
    await idapp.ctx.db.ratings.update_one({"_id": app["id"]}, {"$set": {"created_at": 1}})
    assert_problem(await idapp.api.request("PATCH", f"/api/v1/applications/{app['id']}/rating", json={"score": 4},
                                           headers=h), 409, "rating_change_window_closed")


async def test_rating_bad_inputs(idapp):
    person, app = await completed_application(idapp, "评价错")
    stranger, _ = await completed_application(idapp, "旁人评")
    h = bearer(person["access_token"])
    assert_problem(await idapp.api.post(f"/api/v1/applications/{app['id']}/rating", {"score": 6}, headers=h), 400)
    assert_problem(await idapp.api.post(f"/api/v1/applications/{app['id']}/rating", {"score": 5},
                                        headers=bearer(stranger["access_token"])), 404, "application_not_found")
    # not completed: a high rent goes to manual review
    r2, p2, _ = await resident_with_id_card(idapp, "未办完")
    up = (await upload(idapp, p2)).json()
    body = {"matter": HPF, "form": {"name": r2.name, "id_number": r2.id_number, "monthly_rent": 9000, "amount": 100,
                                     "bank_account": "6222020200001234567"},
            "materials": [{"id": "lease", "upload_id": up["id"]}]}
    waiting = (await apply(idapp, p2, body)).json()
    body = assert_problem(await idapp.api.post(f"/api/v1/applications/{waiting['id']}/rating", {"score": 5},
                                               headers=bearer(p2["access_token"])), 409, "application_not_completed")
    assert body["state"] == "submitted"


async def test_a_kiosk_collects_the_rating_of_the_holder_it_scanned(idapp):
    person, app = await completed_application(idapp, "现场评")
    kt = await kiosk_token(idapp.api, idapp.ctx.demo.devices[0])
    code = (await idapp.api.get("/api/v1/codes/person", headers=bearer(person["access_token"]))).json()["code"]
    scan = (await idapp.api.post("/api/v1/scans", {"code": code}, headers=bearer(kt))).json()
    resp = await idapp.api.post("/api/v1/kiosk/ratings", {"scan_id": scan["scan_id"], "application_id": app["id"],
                                                          "score": 4, "tags": ["服务热情"]}, headers=bearer(kt))
    assert resp.status == 201 and resp.json()["channel"] == "kiosk"
    other, other_app = await completed_application(idapp, "别人的")
    assert_problem(await idapp.api.post("/api/v1/kiosk/ratings", {"scan_id": scan["scan_id"],
                                                                  "application_id": other_app["id"], "score": 4},
                                        headers=bearer(kt)), 404, "application_not_found")
