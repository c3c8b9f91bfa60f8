"""Taking numbers and calling them, through HTTP: a walk-in at the kiosk by the person code
(the phone then shows the number and who is ahead), a booking checked in by the code or by
its check-in code (a priority number), 绿色通道 for people over 65 (from the verified birth
date) and for those the 导服台 marks, remote numbers near an open hall only; at the windows:
one clerk per window, the queue rules (transferred, green, booked, walk-ins), recall, 过号 and
one rejoin, transfer, serve, finish; the hall screen; statistics; every bad input refused;
simultaneous numbers and calls never collide."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.halls.support import (FOOD, NEAR_TIANHE, RESIDENCE, SOCIAL, TIANHE, YUEXIU, CITY, book, display, kiosk,
                                 later, person, scanned, slots, staff)
from tests.support import assert_problem, bearer, kiosk_token, staff_token, demo_staff


async def take(app, token: str, **body):
    return await app.api.post("/api/v1/kiosk/numbers", body, headers=bearer(token))


async def mine(app, who) -> list[dict]:
    return (await app.api.get("/api/v1/me/numbers", headers=bearer(who["access_token"]))).json()["items"]


async def desk(app, token: str, **body):
    return await app.api.post(f"/api/v1/staff/halls/{TIANHE}/numbers", body, headers=bearer(token))


async def window(app, token: str, n: int, action: str, **body):
    return await app.api.post(f"/api/v1/staff/halls/{TIANHE}/windows/{n}/{action}", body, headers=bearer(token))


async def on_number(app, token: str, n: int, number: dict, action: str, **body):
    return await app.api.post(f"/api/v1/staff/halls/{TIANHE}/windows/{n}/numbers/{number['id']}/{action}",
                              {"version": number["version"], **body}, headers=bearer(token))


async def clear_queues(app) -> None:
    """Numbers left by earlier tests are taken out, so the queue rules are seen alone."""
    await app.ctx.db.hall_numbers.update_many({"hall": TIANHE, "state": "waiting"}, {"$set": {"state": "left"}})
    await app.ctx.db.hall_numbers.update_many({"hall": TIANHE, "state": {"$in": ["called", "serving"]}},
                                              {"$set": {"state": "done"}})


async def test_a_walk_in_and_a_booking_take_numbers_at_the_kiosk(hallapp):
    k = await kiosk(hallapp)
    walker = await person(hallapp, "现场取号")
    first = await take(hallapp, k, scan_id=await scanned(hallapp, k, walker), matter=RESIDENCE)
    assert first.status == 201, first.body
    number = first.json()
    assert number["label"].startswith("A") and number["state"] == "waiting" and number["appointment_id"] is None
    again = await take(hallapp, k, scan_id=await scanned(hallapp, k, walker), matter=SOCIAL)
    assert again.status == 200 and again.json()["id"] == number["id"]  # one live number a day
    phone = await mine(hallapp, walker)
    assert [n["label"] for n in phone] == [number["label"]] and phone[0]["wait_minutes"] is not None

    # a booking for the next period: checked in by the code, ahead of walk-ins
    booker = await person(hallapp, "预约取号")
    slot = (await slots(hallapp))[0]
    appt = (await book(hallapp, booker, slot)).json()
    checked = await take(hallapp, k, scan_id=await scanned(hallapp, k, booker))
    assert checked.status == 201, checked.body
    assert checked.json()["appointment_id"] == appt["id"] and checked.json()["matter"] == RESIDENCE
    assert checked.json()["ahead"] < (await mine(hallapp, walker))[0]["ahead"] + 1
    got = (await hallapp.api.get(f"/api/v1/appointments/{appt['id']}", headers=bearer(booker["access_token"]))).json()
    assert got["state"] == "checked_in" and got["number_id"] == checked.json()["id"]

    # and by the check-in code typed at the kiosk, for someone else's booking (a relative's)
    coder = await person(hallapp, "输码取号")
    coded = (await book(hallapp, coder, slot, matter=SOCIAL)).json()
    by_code = await take(hallapp, k, checkin_code=coded["code"])
    assert by_code.status == 201 and by_code.json()["appointment_id"] == coded["id"]
    assert_problem(await take(hallapp, k, checkin_code=coded["code"]), 404, "checkin_code_unknown")  # used
    trail = (await hallapp.api.get("/api/v1/me/activity", headers=bearer(coder["access_token"]))).json()["items"]
    assert "大厅取号" in {e["action_name"] for e in trail}


async def test_green_channel_from_the_birth_date_and_the_desk(hallapp):
    k = await kiosk(hallapp)
    elder = await person(hallapp, "长者", birth="19500301")
    n = (await take(hallapp, k, scan_id=await scanned(hallapp, k, elder), matter=SOCIAL)).json()
    assert n["queue"] == "V" and n["green"] == "elderly" and n["label"].startswith("V")
    guide = await staff(hallapp, "th.daofu")
    walk_up = await desk(hallapp, guide, matter=RESIDENCE, name="没手机")
    assert walk_up.status == 201 and walk_up.json()["queue"] == "A", walk_up.body
    pregnant = await desk(hallapp, guide, matter=RESIDENCE, name="准妈妈", green="pregnant")
    assert pregnant.json()["queue"] == "V" and pregnant.json()["green"] == "pregnant"
    enterprise = await desk(hallapp, guide, matter=FOOD, name="企业经办")
    assert enterprise.json()["queue"] == "B"


async def test_remote_numbers_only_near_an_open_hall(hallapp):
    who = await person(hallapp, "线上取号")
    h = bearer(who["access_token"])
    near = {"matter": RESIDENCE, "lat": NEAR_TIANHE[0], "lng": NEAR_TIANHE[1]}
    far = await hallapp.api.post(f"/api/v1/halls/{TIANHE}/numbers", {**near, "lat": 23.20, "lng": 113.20}, headers=h)
    assert_problem(far, 409, "too_far_from_hall")
    assert "公里" in far.json()["detail"]
    assert_problem(await hallapp.api.post(f"/api/v1/halls/{YUEXIU}/numbers", near, headers=h), 409, "hall_closed")
    ok = await hallapp.api.post(f"/api/v1/halls/{TIANHE}/numbers", near, headers=h)
    assert ok.status == 201 and ok.json()["hall"] == TIANHE, ok.body


async def other_hall_kiosk(app) -> str:
    """A kiosk of the city hall (registered once per app by the platform admin)."""
    cache = app.api.__dict__.setdefault("city_kiosk", {})
    if "pem" in cache:
        return await kiosk_token(app.api, SimpleNamespace(device_id="kiosk-city-09", private_key_pem=cache["pem"]))
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    admin = await staff_token(app.api, demo_staff(app.ctx, "admin"))
    resp = await app.api.post("/api/v1/admin/devices", {
        "device_id": "kiosk-city-09", "name": "市政务服务中心 9 号终端", "location": "市政务服务中心", "department": CITY,
        "scopes": ["scan", "queue"], "public_key_pem": public}, headers=bearer(admin))
    assert resp.status == 201, resp.body
    cache["pem"] = pem
    return await kiosk_token(app.api, SimpleNamespace(device_id="kiosk-city-09", private_key_pem=pem))


async def test_bad_numbers_are_refused(hallapp):
    k = await kiosk(hallapp)
    who = await person(hallapp, "错取号")
    scan_id = await scanned(hallapp, k, who)
    assert_problem(await take(hallapp, k, matter=RESIDENCE), 400)                      # neither code
    assert_problem(await take(hallapp, k, scan_id=scan_id, checkin_code="12345678"), 400)  # both
    need = assert_problem(await take(hallapp, k, scan_id=scan_id), 400, "matter_required")
    assert {"code": RESIDENCE, "name": "居住证申领"} in need["matters"]  # what the kiosk offers next
    assert_problem(await take(hallapp, k, scan_id=scan_id, matter="440100-WJ-0008"), 400, "matter_not_in_hall")
    assert_problem(await take(hallapp, k, checkin_code="00000000"), 404, "checkin_code_unknown")
    assert_problem(await take(hallapp, k, scan_id="s" + "0" * 24, matter=RESIDENCE), 404, "scan_not_found")
    assert_problem(await take(hallapp, await display(hallapp), scan_id=scan_id, matter=RESIDENCE), 403,
                   "device_scope_missing")
    # a booking far ahead: not yet; and a kiosk of another hall is not this hall's
    booker = await person(hallapp, "早到")
    later_slot = later(await slots(hallapp), 3)[0]
    booked = (await book(hallapp, booker, later_slot)).json()
    early = assert_problem(await take(hallapp, k, checkin_code=booked["code"]), 409, "checkin_outside_period")
    assert later_slot["time"] in early["detail"]
    assert_problem(await take(hallapp, k, scan_id=await scanned(hallapp, k, booker)), 409, "checkin_outside_period")
    foreign = await other_hall_kiosk(hallapp)
    assert_problem(await take(hallapp, foreign, checkin_code=booked["code"]), 404, "checkin_code_unknown")
    # staff of a department, not of the hall
    police = await staff_token(hallapp.api, demo_staff(hallapp.ctx, "gaj.shouli"))
    assert_problem(await desk(hallapp, police, matter=RESIDENCE), 403)
    assert await mine(hallapp, who) == []


async def test_windows_call_by_the_queue_rules_and_the_screen_and_phone_follow(hallapp):
    await clear_queues(hallapp)
    k, guide = await kiosk(hallapp), await staff(hallapp, "th.daofu")
    clerk, clerk2, boss = [await staff(hallapp, u) for u in ("th.chuangkou", "th.chuangkou2", "th.zhuguan")]
    walker = await person(hallapp, "先来")
    walk = (await take(hallapp, k, scan_id=await scanned(hallapp, k, walker), matter=RESIDENCE)).json()
    booker = await person(hallapp, "预约的")
    appt = await book(hallapp, booker, (await slots(hallapp))[0], matter=SOCIAL)
    assert appt.status == 201, appt.body
    booked = (await take(hallapp, k, scan_id=await scanned(hallapp, k, booker))).json()
    assert booked["appointment_id"] == appt.json()["id"], booked
    green = (await desk(hallapp, guide, matter=RESIDENCE, name="轮椅", green="disabled")).json()
    assert [n["ahead"] for n in await mine(hallapp, walker)] == [1]  # the booking is ahead of the walk-in

    opened = await window(hallapp, clerk, 1, "open")
    assert opened.status == 200 and opened.json()["queues"] == ["V", "A"], opened.body
    assert_problem(await window(hallapp, clerk2, 1, "open"), 409, "window_taken")
    assert_problem(await window(hallapp, clerk2, 1, "call-next"), 403, "window_not_yours")
    order = []
    first = (await window(hallapp, clerk, 1, "call-next")).json()
    assert "id" in first, first
    order.append(first["id"])
    assert_problem(await window(hallapp, clerk, 1, "call-next"), 409, "window_busy")
    done = (await on_number(hallapp, clerk, 1, first, "serve")).json()
    await on_number(hallapp, clerk, 1, done, "finish")
    second = (await window(hallapp, clerk, 1, "call-next")).json()
    order.append(second["id"])
    assert order == [green["id"], booked["id"]]
    # the booked holder's phone was told, and the screen shows the call with a masked name
    events = await hallapp.ctx.events.since(f"person:{booker['person']['id']}", "0")
    called = [e for e in events if e["type"] == "queue.called"]
    assert called and called[-1]["window"] == 1 and called[-1]["label"] == booked["label"]
    screen = (await hallapp.api.get(f"/api/v1/halls/{TIANHE}/display", headers=bearer(await display(hallapp)))).json()
    assert screen["called"][0]["label"] == booked["label"] and screen["called"][0]["name"] == "预**"
    progress = [e for e in await hallapp.ctx.events.since(f"person:{walker['person']['id']}", "0")
                if e["type"] == "queue.progress"]
    assert progress[-1]["ahead"] == 0

    # recall, 过号, one rejoin from the phone, then 过号 again ends it
    recalled = (await on_number(hallapp, clerk, 1, second, "recall")).json()
    assert recalled["calls"] == 2
    skipped = (await on_number(hallapp, clerk, 1, recalled, "skip")).json()
    assert skipped["state"] == "skipped"
    back = await hallapp.api.post(f"/api/v1/me/numbers/{booked['id']}/rejoin", headers=bearer(booker["access_token"]))
    assert back.status == 200 and back.json()["state"] == "waiting", back.body
    third = (await window(hallapp, clerk, 1, "call-next")).json()
    assert third["id"] == walk["id"]  # the rejoined number went behind those already waiting
    # transfer to window 2, which calls it first
    moved = await on_number(hallapp, clerk, 1, third, "transfer", to=2)
    assert moved.status == 200 and moved.json()["state"] == "waiting", moved.body
    await window(hallapp, clerk2, 2, "open")
    at2 = (await window(hallapp, clerk2, 2, "call-next")).json()
    assert at2["id"] == walk["id"] and at2["window"] == 2
    again = (await window(hallapp, clerk, 1, "call-next")).json()
    assert again["id"] == booked["id"]
    gone = (await on_number(hallapp, clerk, 1, again, "skip")).json()
    assert gone["state"] == "left"
    assert_problem(await hallapp.api.post(f"/api/v1/me/numbers/{booked['id']}/rejoin",
                                          headers=bearer(booker["access_token"])), 409, "rejoin_not_allowed")
    served = (await on_number(hallapp, clerk2, 2, at2, "serve")).json()
    assert_problem(await on_number(hallapp, clerk2, 2, at2, "finish"), 409, "stale_version")
    await on_number(hallapp, clerk2, 2, served, "finish")
    assert (await mine(hallapp, walker))[0]["state"] == "done"

    stats = await hallapp.api.get(f"/api/v1/staff/halls/{TIANHE}/stats", headers=bearer(boss))
    assert stats.status == 200, stats.body
    body = stats.json()
    assert sum(w["served"] for w in body["windows"]) >= 2 and body["appointments"]["checked_in"] >= 1
    assert any(r["skipped"] for r in body["rows"])
    assert_problem(await hallapp.api.get(f"/api/v1/staff/halls/{TIANHE}/stats", headers=bearer(clerk)), 403)
    for who, n in ((clerk, 1), (clerk2, 2)):
        assert (await window(hallapp, who, n, "close")).status == 200


async def test_bad_calls_are_refused(hallapp):
    clerk = await staff(hallapp, "th.chuangkou")
    police = await staff_token(hallapp.api, demo_staff(hallapp.ctx, "gaj.shouli"))
    assert_problem(await window(hallapp, police, 1, "open"), 403)
    assert_problem(await window(hallapp, clerk, 99, "open"), 404, "window_not_found")
    assert_problem(await window(hallapp, clerk, 3, "call-next"), 403, "window_not_yours")
    assert_problem(await hallapp.api.post(f"/api/v1/staff/halls/{CITY}/windows/1/open", {}, headers=bearer(clerk)), 403,
                   "not_hall_staff")
    await window(hallapp, clerk, 3, "open")
    ghost = {"id": "n" + "0" * 24, "version": 1}
    assert_problem(await on_number(hallapp, clerk, 3, ghost, "serve"), 404, "number_not_at_window")
    assert_problem(await on_number(hallapp, clerk, 3, ghost, "transfer", to=0), 400)
    assert_problem(await hallapp.api.get(f"/api/v1/halls/{TIANHE}/display", headers=bearer(await kiosk(hallapp))), 403)
    foreign = await other_hall_kiosk(hallapp)
    assert_problem(await hallapp.api.get(f"/api/v1/halls/{TIANHE}/display", headers=bearer(foreign)), 403)
    await window(hallapp, clerk, 3, "close")


async def test_simultaneous_numbers_and_calls_never_collide(hallapp):
    await clear_queues(hallapp)
    guide = await staff(hallapp, "th.daofu")
    issued = await asyncio.gather(*(desk(hallapp, guide, matter=RESIDENCE, name=f"同时{c}")
                                    for c in "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"))
    labels = [r.json()["label"] for r in issued]
    assert all(r.status == 201 for r in issued) and len(set(labels)) == len(labels) == 16
    clerks = [(await staff(hallapp, u), n) for u, n in (("th.chuangkou", 2), ("th.chuangkou2", 3), ("th.zhuguan", 6))]
    for token, n in clerks:
        assert (await window(hallapp, token, n, "open")).status == 200
    called: list[str] = []
    while True:
        round_ = await asyncio.gather(*(window(hallapp, token, n, "call-next") for token, n in clerks))
        got = [r.json() for r in round_ if r.status == 200]
        if not got:
            break
        called += [g["id"] for g in got]
        await asyncio.gather(*(on_number(hallapp, token, n, g, "skip") for (token, n), g in zip(clerks, [
            r.json() if r.status == 200 else None for r in round_]) if g))
    assert len(called) == len(set(called)) >= 16
    for token, n in clerks:
        await window(hallapp, token, n, "close")


async def test_a_double_tap_gives_one_number_and_a_finished_one_makes_room_for_another(hallapp):
    k, clerk = await kiosk(hallapp), await staff(hallapp, "th.chuangkou2")
    await clear_queues(hallapp)
    who = await person(hallapp, "连按两次")
    scan_id = await scanned(hallapp, k, who)
    taps = await asyncio.gather(*(take(hallapp, k, scan_id=scan_id, matter=RESIDENCE) for _ in range(8)))
    assert {t.status for t in taps} <= {200, 201} and [t.status for t in taps].count(201) == 1, [t.body for t in taps]
    assert len({t.json()["id"] for t in taps}) == 1
    # served and finished: the same day, the person may take a number for another matter
    assert (await window(hallapp, clerk, 2, "open")).status == 200
    called = (await window(hallapp, clerk, 2, "call-next")).json()
    assert called["id"] == taps[0].json()["id"], called
    serving = (await on_number(hallapp, clerk, 2, called, "serve")).json()
    assert (await on_number(hallapp, clerk, 2, serving, "finish")).status == 200
    assert (await window(hallapp, clerk, 2, "close")).status == 200
    second = await take(hallapp, k, scan_id=await scanned(hallapp, k, who), matter=SOCIAL)
    assert second.status == 201 and second.json()["id"] != called["id"], second.body
