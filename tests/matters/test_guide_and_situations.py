"""The matter guide's remaining elements: 办理地点 and 办理时间 from the service halls,
咨询电话 and 监督投诉电话, and 情形 (补领结婚证: 遗失 or 损毁) that change the materials and the
form — chosen before applying, checked on submission, recorded on the application."""
from __future__ import annotations

from tests.matters.test_matters import PNG, apply, resident_with_id_card, upload
from tests.support import assert_problem, bearer

MARRIAGE = "440100-MZ-0005"  # 补领结婚证
RESIDENCE = "440100-GA-0012"


async def test_the_guide_lists_places_phones_and_situations(idapp):
    guide = (await idapp.api.get(f"/api/v1/matters/{MARRIAGE}")).json()
    assert guide["consult_phone"] == "020-83123210" and guide["complaint_phone"] == "12345"
    assert [s["id"] for s in guide["situations"]] == ["lost", "damaged"]
    assert guide["situations"][0]["name"] == "结婚证遗失" and guide["situations"][0]["fields"] == ["loss_note"]
    damaged = next(m for m in guide["materials"] if m["id"] == "damaged_certificate")
    assert damaged["situations"] == ["damaged"]
    halls = {p["hall_id"]: p for p in guide["places"]}
    # the halls whose windows handle it (Yuexiu does not), with address, phone and hours
    assert set(halls) == {"gz-hall-tianhe", "gz-hall-city"}
    tianhe = halls["gz-hall-tianhe"]
    assert tianhe["name"] == "天河区政务服务中心" and tianhe["address"] and tianhe["phone"] and tianhe["hours"]
    # a matter without situations has none, and still its phones and places
    other = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}")).json()
    assert "situations" not in other and other["complaint_phone"] == "12345" and len(other["places"]) == 3


async def test_the_situation_decides_the_form_and_the_materials(idapp):
    r, person, _ = await resident_with_id_card(idapp, "补证人")
    h = bearer(person["access_token"])
    photo = (await upload(idapp, person, PNG, "image/png")).json()["id"]
    form = {"name": r.name, "spouse_name": "配偶某", "spouse_id_number": "44010619900101002X",
            "registration_date": "2015-05-20"}
    base = {"matter": MARRIAGE, "form": form, "materials": [{"id": "photo", "upload_id": photo}]}
    before = await idapp.ctx.db.applications.count_documents({})
    # none chosen, an unknown one, one for a matter without situations
    body = assert_problem(await apply(idapp, person, base), 400, "situation_required")
    assert body["errors"][0]["field"] == "situation" and "结婚证遗失" in body["errors"][0]["message"]
    assert_problem(await apply(idapp, person, {**base, "situation": "stolen"}), 400, "situation_unknown")
    assert_problem(await apply(idapp, person, {**base, "situation": "BAD KEY"}), 400)
    assert_problem(await apply(idapp, person, {**base, "matter": RESIDENCE, "situation": "lost"}), 400,
                   "situation_unknown")
    # 遗失: the note is required; the damaged certificate is not asked for (nor accepted)
    body = assert_problem(await apply(idapp, person, {**base, "situation": "lost"}), 400, "form_invalid")
    assert [e["field"] for e in body["errors"]] == ["form.loss_note"]
    lost = {**base, "situation": "lost", "form": {**form, "loss_note": "2024 年搬家时遗失"}}
    extra = {**lost, "materials": [*base["materials"], {"id": "damaged_certificate", "upload_id": photo}]}
    body = assert_problem(await apply(idapp, person, extra), 400, "material_unknown")
    assert body["errors"][0]["field"] == "materials.damaged_certificate"
    # 损毁: the photo of the damaged certificate is required; the loss note is not part of its form
    damaged = {**base, "situation": "damaged"}
    body = assert_problem(await apply(idapp, person, damaged), 422, "material_missing")
    assert [e["field"] for e in body["errors"]] == ["materials.damaged_certificate"]
    assert_problem(await apply(idapp, person, {**damaged, "form": {**form, "loss_note": "不该有的说明"}}), 400,
                   "form_invalid")
    assert await idapp.ctx.db.applications.count_documents({}) == before  # nothing was filed

    made = await apply(idapp, person, lost)
    assert made.status == 201, made.body
    assert made.json()["situation"] == {"id": "lost", "name": "结婚证遗失"}
    mine = (await idapp.api.get(f"/api/v1/applications/{made.json()['id']}", headers=h)).json()
    assert mine["situation"]["name"] == "结婚证遗失" and mine["form"]["loss_note"] == "2024 年搬家时遗失"
    assert [m["id"] for m in mine["materials"]] == ["id_card", "hukou", "photo"]
    with_photo = {**damaged, "materials": [*base["materials"], {"id": "damaged_certificate", "upload_id": photo}]}
    made = await apply(idapp, person, with_photo)
    assert made.status == 201, made.body
    assert [m["id"] for m in made.json()["materials"]][-1] == "damaged_certificate"
