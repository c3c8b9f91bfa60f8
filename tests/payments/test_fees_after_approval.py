"""A fee due after approval (补领结婚证, 工本费 9 元): 办结 waits for it; a person of 70 or
more has it waived by the catalog's rule, recorded with the rule's name."""
from __future__ import annotations

from tests.matters.test_guide_and_situations import PNG
from tests.matters.test_matters import apply, resident_with_id_card, staff_act, upload
from tests.payments.support import MARRIAGE, ledger_of, order_in, pay, settled
from tests.support import assert_problem, bearer, demo_staff, staff_token


async def lost_certificate(app, name: str, **kw):
    r, person, _ = await resident_with_id_card(app, name, **kw)
    person["h"] = bearer(person["access_token"])
    photo = (await upload(app, person, PNG, "image/png")).json()["id"]
    made = await apply(app, person, {
        "matter": MARRIAGE, "situation": "lost", "materials": [{"id": "photo", "upload_id": photo}],
        "form": {"name": r.name, "spouse_name": "配偶某", "spouse_id_number": "44010619900101002X",
                 "registration_date": "2015-05-20", "loss_note": "2024 年搬家时遗失"}})
    assert made.status == 201, made.body
    return person, made.json()


async def approve(app, application):
    token = await staff_token(app.api, demo_staff(app.ctx, "mzj.shenhe"))
    accepted = await staff_act(app, token, application["id"], "accept", application["version"])
    assert accepted.status == 200, accepted.body  # nothing due at submission
    approved = await staff_act(app, token, application["id"], "approve", accepted.json()["version"], "核实无误")
    assert approved.status == 200, approved.body
    return token, approved.json()


async def test_the_fee_after_approval_holds_back_completion_until_paid(idapp):
    person, application = await lost_certificate(idapp, "补证缴费", birth="19900312")
    assert application["fee"] == {"state": "not_due", "state_name": "审批通过后缴费", "amount_fen": 900,
                                  "due": "approval"}  # nothing charged before the decision
    token, approved = await approve(idapp, application)
    assert approved["fee"]["state"] == "unpaid" and approved["fee"]["amount_fen"] == 900
    assert_problem(await staff_act(idapp, token, application["id"], "complete", approved["version"]), 409,
                   "fee_unpaid")
    # an H5 payment (a browser outside WeChat: no WeChat login needed)
    made = await pay(idapp, person, approved["fee"]["order_id"], "h5")
    assert made.status == 201, made.body
    prepay = made.json()["h5_url"].split("prepay_id=")[1].split("&")[0]
    await idapp.runner.fake_wechatpay.confirm(prepay)
    assert (await order_in(idapp, person, application["id"], "paid"))["state"] == "paid"
    done = await staff_act(idapp, token, application["id"], "complete", approved["version"])
    assert done.status == 200, done.body
    # JSAPI needs the payer's WeChat login: an SMS-login person is told to use the mini-program
    other, second = await lost_certificate(idapp, "短信登录", birth="19880521")
    _, approved2 = await approve(idapp, second)
    assert_problem(await pay(idapp, other, approved2["fee"]["order_id"]), 409, "wechat_payer_unknown")
    # withdrawn before the fee fell due: nothing to pay, and nothing shown as owed
    third_person, third = await lost_certificate(idapp, "撤回补证", birth="19870615")
    gone = await idapp.api.post(f"/api/v1/applications/{third['id']}/withdraw", {"version": third["version"]},
                                headers=third_person["h"])
    assert gone.status == 200, gone.body
    assert gone.json()["fee"] is None


async def test_seventy_and_over_have_it_waived_by_the_catalogs_rule(idapp):
    person, application = await lost_certificate(idapp, "高龄补证", birth="19500101")
    token, approved = await approve(idapp, application)
    assert approved["fee"]["state"] == "waived" and approved["fee"]["amount_fen"] == 0
    order = (await idapp.api.get(f"/api/v1/applications/{application['id']}/payment", headers=person["h"])).json()
    assert order["waiver"] == {"name": "年满 70 周岁的老年人免收工本费"} and order["gross_fen"] == 900
    entries = await ledger_of(idapp, order["id"])
    assert [(e["kind"], e["amount_fen"], e["note"]) for e in entries] == [
        ("charge", 900, ""), ("waiver", 900, "年满 70 周岁的老年人免收工本费")]
    assert_problem(await pay(idapp, person, order["id"], "h5"), 409, "payment_not_payable")
    done = await staff_act(idapp, token, application["id"], "complete", approved["version"])
    assert done.status == 200, done.body
    assert await settled(lambda: _has_action(idapp, person, "payment.waived"))


async def _has_action(app, person, action):
    trail = (await app.api.get("/api/v1/me/activity", headers=person["h"])).json()["items"]
    return any(e["action"] == action for e in trail)
