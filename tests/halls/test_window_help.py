"""帮办 at the window: the clerk who called a number scans the person's code, asks on the
phone for the certificates the matter needs, and submits the application for the person with
only what the person approved — the same path a kiosk takes, with the clerk named on it."""
from __future__ import annotations

from tests.halls.support import staff
from tests.halls.test_queue import clear_queues, desk, on_number, window
from tests.identity.test_codes import get_code
from tests.matters.test_kiosk_matters import BIRTH, VACCINE, parent_with_birth_certificate
from tests.support import assert_problem, bearer

NEWBORN = "440100-GA-0041"  # 新生儿入户登记


async def test_the_clerk_applies_for_the_called_person_with_their_consent(hallapp):
    await clear_queues(hallapp)
    guide, clerk = await staff(hallapp, "th.daofu"), await staff(hallapp, "th.chuangkou")
    r, person = await parent_with_birth_certificate(hallapp)
    # the parent came for the newborn's 入户 (出生一件事); at the window the clerk also files the
    # vaccination certificate, which the hall's windows may do for the person
    number = (await desk(hallapp, guide, matter=NEWBORN, name=r.name)).json()
    assert "id" in number, number
    assert (await window(hallapp, clerk, 1, "open")).status == 200
    called = (await window(hallapp, clerk, 1, "call-next")).json()
    assert called.get("id") == number.get("id"), (number, called)
    serving = (await on_number(hallapp, clerk, 1, called, "serve")).json()
    assert serving.get("state") == "serving", (called, serving)

    code = (await get_code(hallapp, person))["code"]
    scan = await hallapp.api.post("/api/v1/scans", {"code": code}, headers=bearer(clerk))
    assert scan.status == 200, scan.body
    scan_id = scan.json()["scan_id"]
    asked = await hallapp.api.post(f"/api/v1/scans/{scan_id}/requests",
                                   {"purpose": "窗口帮办：新生儿预防接种证", "items": [f"certificate:{BIRTH}"],
                                    "matter": VACCINE}, headers=bearer(clerk))
    assert asked.status == 201, asked.body
    consent_id = asked.json()["id"]
    body = {"consent_id": consent_id, "matter": VACCINE, "form": {"clinic": "天河区妇幼保健院接种门诊"}}
    # not before the person says yes on the phone
    assert_problem(await hallapp.api.post("/api/v1/kiosk/applications", body, headers=bearer(clerk)), 409,
                   "consent_not_approved")
    approved = await hallapp.api.post(f"/api/v1/consents/{consent_id}/approve", {"items": [f"certificate:{BIRTH}"]},
                                      headers=bearer(person["access_token"]))
    assert approved.status == 200, approved.body
    made = await hallapp.api.post("/api/v1/kiosk/applications", body, headers=bearer(clerk))
    assert made.status == 201, made.body
    # the consent belongs to this clerk: another clerk cannot use it
    other = await staff(hallapp, "th.chuangkou2")
    assert_problem(await hallapp.api.post("/api/v1/kiosk/applications", body, headers=bearer(other)), 404,
                   "consent_not_found")
    mine = (await hallapp.api.get(f"/api/v1/applications/{made.json()['id']}",
                                  headers=bearer(person["access_token"]))).json()
    assert mine["form"]["baby_name"] == "柯小宝" and mine["materials"][0]["source"] == "certificate"
    first = mine["timeline"][0]
    assert first["actor"]["type"] == "staff" and "代为提交" in first["comment"], first
    finished = await on_number(hallapp, clerk, 1, serving, "finish")
    assert finished.status == 200, finished.body
    assert (await window(hallapp, clerk, 1, "close")).status == 200
    assert finished.json()["state"] == "done", finished.body
