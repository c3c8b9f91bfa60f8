"""通办 and 收受分离 through HTTP: a Shanghai resident living in Guangzhou files 异地就医备案
online; Guangzhou's 通办 desk receives and accepts it and forwards it to Shanghai, which
decides and completes it; both offices see their part, the timeline shows each hand-over.
A Guangzhou resident's goes straight to Guangzhou; someone from outside the partner regions
is told where to go; the search lists what can be done here."""
from __future__ import annotations

from datetime import date, timedelta

from tests.matters.test_matters import apply, resident_with_id_card, staff_act
from tests.support import assert_problem, bearer, demo_staff, staff_token

YB = "440100-YB-0021"  # 异地就医备案 (跨省通办, handled where the household is)
LICENCE = "440100-GA-0031"  # 驾驶证期满换证 (省内通办)


def body(prefill, **extra):
    return {"matter": YB, "form": {**prefill["form"], "destination": "广州市", "reason": "异地长期居住",
                                   "start_date": (date.today() + timedelta(days=3)).isoformat()}, **extra}


async def prefilled(app, person):
    return (await app.api.get(f"/api/v1/matters/{YB}/prefill", headers=bearer(person["access_token"]))).json()


async def test_received_in_guangzhou_handled_in_shanghai_end_to_end(idapp):
    _, person, _ = await resident_with_id_card(idapp, "沪籍人", region="310104")
    made = await apply(idapp, person, body(await prefilled(idapp, person), delivery={"method": "pickup"}))
    assert made.status == 201, made.body
    app = made.json()
    assert app["forwarded"] is True and app["department"] == "gz-zwfw"
    assert app["receiving"]["channel"] == "online" and app["handling"]["department"] == "sh-ybj"
    assert app["delivery"] == {"method": "pickup", "at": "广州市政务服务和数据管理局（通办专窗）"}
    desk = await staff_token(idapp.api, demo_staff(idapp.ctx, "tb.shouli"))
    shanghai = await staff_token(idapp.api, demo_staff(idapp.ctx, "sh.ybj"))
    # Shanghai does not see it before Guangzhou has received it
    assert_problem(await idapp.api.get(f"/api/v1/staff/applications/{app['id']}", headers=bearer(shanghai)), 404)
    queue = (await idapp.api.get("/api/v1/staff/queue", headers=bearer(desk))).json()["items"]
    assert app["id"] in [a["id"] for a in queue]
    # the receiving desk does 受理 and forwards
    accepted = await staff_act(idapp, desk, app["id"], "accept", app["version"], "身份与材料核验无误")
    assert accepted.status == 200, accepted.body
    a = accepted.json()
    assert a["state"] == "in_review" and a["department"] == "sh-ybj" and a["deadline"]
    assert a["timeline"][-1]["comment"] == "已转交上海市医疗保障局审查（收受分离）"
    # the desk still reads it, but decides nothing; Shanghai decides
    assert (await idapp.api.get(f"/api/v1/staff/applications/{app['id']}", headers=bearer(desk))).status == 200
    assert_problem(await staff_act(idapp, desk, app["id"], "approve", a["version"]), 403, "role_missing")
    assert_problem(await staff_act(idapp, desk, app["id"], "reject", a["version"], "不受理"), 404)
    approved = await staff_act(idapp, shanghai, app["id"], "approve", a["version"], "同意备案")
    assert approved.status == 200, approved.body
    done = await staff_act(idapp, shanghai, app["id"], "complete", approved.json()["version"])
    assert done.status == 200, done.body
    final = (await idapp.api.get(f"/api/v1/applications/{app['id']}", headers=bearer(person["access_token"]))).json()
    assert final["state"] == "completed"
    assert "请到广州市政务服务和数据管理局（通办专窗）领取" in final["timeline"][-1]["comment"]
    assert [e["state"] for e in final["timeline"]][:3] == ["submitted", "accepted", "in_review"]
    # both queues: Shanghai's (it handled it), Guangzhou's desk (it received it)
    for token in (desk, shanghai):
        items = (await idapp.api.get("/api/v1/staff/queue", headers=bearer(token))).json()["items"]
        assert app["id"] in [x["id"] for x in items]


async def test_a_local_resident_goes_straight_to_the_local_office(idapp):
    _, person, _ = await resident_with_id_card(idapp, "穗籍人", region="440106")
    for wrong in ({"method": "mail", "address": ""}, {"method": "wallet"}, {"method": "fax"}):
        assert_problem(await apply(idapp, person, body(await prefilled(idapp, person), delivery=wrong)), 400)
    made = await apply(idapp, person, body(await prefilled(idapp, person)))
    assert made.status == 201, made.body
    assert made.json()["forwarded"] is False and made.json()["department"] == "gz-ybj"
    assert made.json()["delivery"] == {"method": "pickup", "at": "广州市政务服务和数据管理局（通办专窗）"}


async def test_outside_the_partner_regions_the_applicant_is_told_where_to_go(idapp):
    _, person, _ = await resident_with_id_card(idapp, "京籍人", region="110105")
    before = await idapp.ctx.db.applications.count_documents({})
    bad = assert_problem(await apply(idapp, person, body(await prefilled(idapp, person))), 409, "not_available_here")
    assert "跨省通办" in bad["detail"] and "上海市" in bad["where"]
    # a province-wide matter: a Beijing household cannot, a Shenzhen one can (handled where received)
    assert (await idapp.api.get(f"/api/v1/matters/{LICENCE}")).json()["jurisdiction"]["tongban"] == "province"
    assert await idapp.ctx.db.applications.count_documents({}) == before


async def test_the_search_lists_what_can_be_done_here_and_for_cross_border_users(idapp):
    here = (await idapp.api.get("/api/v1/matters?tongban=true")).json()["items"]
    assert {m["code"] for m in here} >= {YB, LICENCE} and all(m["tongban"] != "local" for m in here)
    border = (await idapp.api.get("/api/v1/matters?cross_border=true")).json()["items"]
    assert YB in {m["code"] for m in border} and all(m["cross_border"] for m in border)
    assert_problem(await idapp.api.get("/api/v1/matters?tongban=maybe"), 400)
