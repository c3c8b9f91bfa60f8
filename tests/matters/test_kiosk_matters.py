"""A kiosk applies for a matter on the holder's behalf with only the certificates the holder
approved on the phone, and collects ratings for the holder's completed applications."""
from __future__ import annotations

from datetime import date

import pytest

from tests.support import assert_problem, bearer, issuer_client, issuer_token, kiosk_token, staff_token, demo_staff
from tests.identity.test_codes import get_code, scan
from tests.matters.test_matters import ID_CARD, apply, resident_with_id_card, upload

pytestmark = pytest.mark.redis_modes  # Redis-dependent rules: also on a Redis Cluster

VACCINE = "440100-WJ-0008"  # 新生儿预防接种证办理: the birth certificate is the only material
BIRTH = "11100000000019297M001"
HPF = "440100-GJJ-0011"


@pytest.fixture
async def kiosk(idapp):
    return await kiosk_token(idapp.api, idapp.ctx.demo.devices[0])


async def parent_with_birth_certificate(app):
    r, person, _ = await resident_with_id_card(app, "柯家长")
    health = issuer_client(app.ctx, "124401004554091607")
    body = health.issue_body(f"birth-{r.id_number}", BIRTH, {"kind": "person", "id_number": r.id_number, "name": r.name},
                             {"certificate_number": "Q440099887", "baby_name": "柯小宝", "gender": "女",
                              "birth_date": date.today().isoformat(), "birth_place": "广州市天河区",
                              "mother_name": r.name, "mother_id_number": r.id_number})
    resp = await app.api.post("/api/v1/issuer/certificates", body, headers=bearer(await issuer_token(app.api, health)))
    assert resp.status == 201, resp.body
    return r, person


async def consent_for(app, kiosk, person, items, approve, matter=VACCINE):
    code = (await get_code(app, person))["code"]
    s = (await scan(app, kiosk, code=code)).json()
    request = {"purpose": "办理新生儿预防接种证", "items": items, **({"matter": matter} if matter else {})}
    consent = (await app.api.post(f"/api/v1/scans/{s['scan_id']}/requests", request, headers=bearer(kiosk))).json()
    if approve is not None:
        resp = await app.api.post(f"/api/v1/consents/{consent['id']}/approve", {"items": approve},
                                  headers=bearer(person["access_token"]))
        assert resp.status == 200, resp.body
    return s["scan_id"], consent["id"]


async def kiosk_apply(app, kiosk, body):
    return await app.api.post("/api/v1/kiosk/applications", body, headers=bearer(kiosk))


async def test_kiosk_applies_with_the_consented_certificate_and_the_holder_sees_it(idapp, kiosk):
    r, person = await parent_with_birth_certificate(idapp)
    _, consent_id = await consent_for(idapp, kiosk, person, [f"certificate:{BIRTH}"], [f"certificate:{BIRTH}"])
    body = {"consent_id": consent_id, "matter": VACCINE, "form": {"clinic": "天河区妇幼保健院接种门诊"}}
    resp = await kiosk_apply(idapp, kiosk, body)
    assert resp.status == 201, resp.body
    out = resp.json()
    assert set(out) == {"id", "number", "matter_name", "department_name", "state", "state_name", "deadline"}
    assert out["state"] == "submitted" and out["matter_name"] == "新生儿预防接种证办理"
    again = await kiosk_apply(idapp, kiosk, body)  # a retry: the same application
    assert again.status == 200 and again.json()["id"] == out["id"]
    # one approval, one application: not a second one for another choice or matter
    other = await kiosk_apply(idapp, kiosk, {**body, "form": {"clinic": "越秀区儿童医院接种门诊"}})
    assert_problem(other, 409, "consent_already_used")
    mine = (await idapp.api.get("/api/v1/applications", headers=bearer(person["access_token"]))).json()["items"]
    assert [a["id"] for a in mine] == [out["id"]]
    # the holder's own application, filled from identity and the birth certificate
    mine = (await idapp.api.get(f"/api/v1/applications/{out['id']}", headers=bearer(person["access_token"]))).json()
    assert mine["form"]["baby_name"] == "柯小宝" and mine["form"]["guardian_name"] == r.name
    assert mine["form"]["phone"] == person["phone"] and mine["form"]["clinic"] == "天河区妇幼保健院接种门诊"
    assert mine["materials"][0]["source"] == "certificate"
    assert mine["timeline"][0]["actor"]["type"] == "device" and "代为提交" in mine["timeline"][0]["comment"]
    activity = (await idapp.api.get("/api/v1/me/activity", headers=bearer(person["access_token"]))).json()["items"]
    assert any(a["action"] == "application.submitted" and a["actor"]["type"] == "device" for a in activity)


async def test_the_kiosk_cannot_use_a_certificate_the_holder_did_not_approve(idapp, kiosk):
    _, person = await parent_with_birth_certificate(idapp)
    # asked for both, the holder approved only the ID card: the birth certificate stays private
    _, consent_id = await consent_for(idapp, kiosk, person, [f"certificate:{BIRTH}", f"certificate:{ID_CARD}"],
                                      [f"certificate:{ID_CARD}"])
    resp = await kiosk_apply(idapp, kiosk, {"consent_id": consent_id, "matter": VACCINE,
                                            "form": {"clinic": "天河区妇幼保健院接种门诊", "baby_name": "某某",
                                                     "birth_date": "2026-01-01"}})
    body = assert_problem(resp, 422, "material_missing")
    assert body["errors"][0]["field"] == "materials.birth"
    assert (await idapp.api.get("/api/v1/applications", headers=bearer(person["access_token"]))).json()["items"] == []


async def test_bad_kiosk_applications_change_nothing(idapp, kiosk):
    _, person = await parent_with_birth_certificate(idapp)
    _, pending = await consent_for(idapp, kiosk, person, [f"certificate:{BIRTH}"], None)
    _, consent_id = await consent_for(idapp, kiosk, person, [f"certificate:{BIRTH}"], [f"certificate:{BIRTH}"])
    ok = {"consent_id": consent_id, "matter": VACCINE, "form": {"clinic": "天河区妇幼保健院接种门诊"}}
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "consent_id": pending}), 409, "consent_not_approved")
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "consent_id": "c" + "0" * 24}), 404, "consent_not_found")
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "consent_id": "nope"}), 400)
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "matter": "440100-XX-9999"}), 404)
    # purpose limitation: approved for one matter, not usable for another; nor if no matter was named
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "matter": "440100-GA-0041"}), 409, "consent_matter_mismatch")
    _, unnamed = await consent_for(idapp, kiosk, person, [f"certificate:{BIRTH}"], [f"certificate:{BIRTH}"], matter=None)
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "consent_id": unnamed}), 409, "consent_matter_mismatch")
    assert_problem(await idapp.api.post("/api/v1/scans/s" + "0" * 24 + "/requests",
                                        {"purpose": "办理", "items": ["identity:name"], "matter": "坏 编码"},
                                        headers=bearer(kiosk)), 400)
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "form": {"clinic": "不存在的门诊"}}), 400, "form_invalid")
    assert_problem(await kiosk_apply(idapp, kiosk, {**ok, "form": "clinic"}), 400)
    assert_problem(await kiosk_apply(idapp, kiosk, {k: v for k, v in ok.items() if k != "matter"}), 400)
    # not a kiosk or window: the holder's own token; a clerk cannot use the consent a kiosk obtained
    assert_problem(await kiosk_apply(idapp, person["access_token"], ok), 401)
    clerk = await staff_token(idapp.api, demo_staff(idapp.ctx, "chuangkou.th"))
    assert_problem(await kiosk_apply(idapp, clerk, ok), 404, "consent_not_found")
    assert (await idapp.api.get("/api/v1/applications", headers=bearer(person["access_token"]))).json()["items"] == []


async def test_kiosk_collects_ratings_for_applications_handled_in_its_hall(idapp, kiosk):
    r, person = await parent_with_birth_certificate(idapp)
    # one application completed online (not this hall's business) ...
    up = (await upload(idapp, person)).json()
    online = (await apply(idapp, person, {"matter": HPF, "form": {
        "name": r.name, "id_number": r.id_number, "monthly_rent": 3000, "amount": 9000,
        "bank_account": "6222020200001234567"}, "materials": [{"id": "lease", "upload_id": up["id"]}]})).json()
    assert online["state"] == "completed"
    # ... and one the kiosk submitted, then completed by the department
    _, consent_id = await consent_for(idapp, kiosk, person, [f"certificate:{BIRTH}"], [f"certificate:{BIRTH}"])
    on_site = (await kiosk_apply(idapp, kiosk, {"consent_id": consent_id, "matter": VACCINE,
                                                "form": {"clinic": "天河区妇幼保健院接种门诊"}})).json()
    clerk = await staff_token(idapp.api, demo_staff(idapp.ctx, "wjw.shenhe"))
    version = (await idapp.api.get(f"/api/v1/staff/applications/{on_site['id']}", headers=bearer(clerk))).json()["version"]
    for action in ("accept", "approve", "complete"):
        resp = await idapp.api.post(f"/api/v1/staff/applications/{on_site['id']}/{action}",
                                    {"version": version, "comment": "同意"}, headers=bearer(clerk))
        assert resp.status == 200, resp.body
        version = resp.json()["version"]
    code = (await get_code(idapp, person))["code"]
    scan_id = (await scan(idapp, kiosk, code=code)).json()["scan_id"]
    awaiting = (await idapp.api.get(f"/api/v1/kiosk/scans/{scan_id}/awaiting-rating", headers=bearer(kiosk))).json()
    assert [a["id"] for a in awaiting["items"]] == [on_site["id"]]  # the online one is not shown
    assert set(awaiting["items"][0]) == {"id", "number", "matter_name", "department_name", "finished_on"}
    resp = await idapp.api.post("/api/v1/kiosk/ratings", {"scan_id": scan_id, "application_id": on_site["id"],
                                                          "score": 5}, headers=bearer(kiosk))
    assert resp.status == 201 and resp.json()["channel"] == "kiosk"
    again = (await idapp.api.get(f"/api/v1/kiosk/scans/{scan_id}/awaiting-rating", headers=bearer(kiosk))).json()
    assert again["items"] == []
    # an unknown scan, the holder's own token
    assert_problem(await idapp.api.get(f"/api/v1/kiosk/scans/s{'0' * 24}/awaiting-rating", headers=bearer(kiosk)),
                   404, "scan_not_found")
    assert_problem(await idapp.api.get(f"/api/v1/kiosk/scans/{scan_id}/awaiting-rating",
                                       headers=bearer(person["access_token"])), 401)
