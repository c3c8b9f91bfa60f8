"""The hall map and appointments through HTTP: halls near a place, for a matter, in a region;
one hall with today's hours and waits; slots with quotas; a booking with its check-in code,
replayed by its Idempotency-Key; one live booking per matter; cancel and reschedule until an
hour before; no-shows that block booking; every bad input a 4xx problem+json that changes
nothing; many simultaneous bookings never exceed a slot's quota."""
from __future__ import annotations

import asyncio
import uuid

from tests.halls.support import (BUSINESS, CITY, FOOD, NEAR_TIANHE, RESIDENCE, SOCIAL, TIANHE, YUEXIU, book, later,
                                 person, slots)
from tests.support import assert_problem, bearer, sms_login


async def test_halls_near_a_place_for_a_matter_and_in_a_region(hallapp):
    near = await hallapp.api.get(f"/api/v1/halls?near={NEAR_TIANHE[0]},{NEAR_TIANHE[1]}")
    items = near.json()["items"]
    assert [h["id"] for h in items][0] == TIANHE and items[0]["distance_m"] < 200
    assert [h["distance_m"] for h in items] == sorted(h["distance_m"] for h in items)
    tianhe = items[0]
    assert tianhe["open_now"] is True and tianhe["today_hours"] == ["00:00-24:00"]
    assert next(h for h in items if h["id"] == YUEXIU)["open_now"] is False
    marriage = (await hallapp.api.get("/api/v1/halls?matter=440100-MZ-0005")).json()["items"]
    assert {h["id"] for h in marriage} == {TIANHE, CITY}
    district = (await hallapp.api.get("/api/v1/halls?region=440104")).json()["items"]
    assert [h["id"] for h in district] == [YUEXIU]
    city = (await hallapp.api.get("/api/v1/halls?region=440100")).json()["items"]
    assert {h["id"] for h in city} == {TIANHE, YUEXIU, CITY}
    detail = (await hallapp.api.get(f"/api/v1/halls/{TIANHE}")).json()
    assert detail["queues"] == {"A": "综合业务", "B": "企业业务", "V": "绿色通道"}
    assert {w["number"] for w in detail["windows"]} == {1, 2, 3, 4, 5, 6}
    food = next(m for m in detail["matters"] if m["code"] == FOOD)
    assert food["queue"] == "B" and food["waiting"] >= 0
    assert "无障碍通道" in detail["accessibility"]


async def test_bad_map_queries_are_refused(hallapp):
    for query in ("near=abc", "near=91,181", "near=40.7,-74.0", "matter=nope", "region=12"):
        assert_problem(await hallapp.api.get(f"/api/v1/halls?{query}"), 400)
    assert_problem(await hallapp.api.get("/api/v1/halls/gz-hall-nowhere"), 404, "hall_not_found")


async def test_booking_with_a_check_in_code_one_per_matter_cancel_and_reschedule(hallapp):
    who = await person(hallapp, "预约人")
    h = bearer(who["access_token"])
    free = later(await slots(hallapp))
    assert free and all(s["quota"] == 4 for s in free)
    key = uuid.uuid4().hex
    first = await book(hallapp, who, free[0], key=key)
    assert first.status == 201, first.body
    appt = first.json()
    assert appt["state"] == "booked" and len(appt["code"]) == 8 and appt["time"] == free[0]["time"]
    again = await book(hallapp, who, free[0], key=key)  # a retry: the same booking
    assert again.status == 200 and again.json()["id"] == appt["id"]
    assert_problem(await book(hallapp, who, free[1]), 409, "already_booked")
    after = next(s for s in await slots(hallapp) if (s["day"], s["time"]) == (free[0]["day"], free[0]["time"]))
    assert after["left"] == free[0]["left"] - 1
    # another matter may be booked alongside
    assert (await book(hallapp, who, free[0], matter=SOCIAL)).status == 201
    moved = await hallapp.api.post(f"/api/v1/appointments/{appt['id']}/reschedule",
                                   {"version": appt["version"], "day": free[2]["day"], "time": free[2]["time"]}, headers=h)
    assert moved.status == 200 and moved.json()["time"] == free[2]["time"], moved.body
    assert_problem(await hallapp.api.post(f"/api/v1/appointments/{appt['id']}/cancel", {"version": appt["version"]},
                                          headers=h), 409, "stale_version")
    cancelled = await hallapp.api.post(f"/api/v1/appointments/{appt['id']}/cancel",
                                       {"version": moved.json()["version"]}, headers=h)
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["code"] is None
    back = {(s["day"], s["time"]): s["left"] for s in await slots(hallapp)}
    assert back[(free[0]["day"], free[0]["time"])] == free[0]["left"] - 1  # the 社保卡 booking (same queue) holds one
    assert back[(free[2]["day"], free[2]["time"])] == free[2]["left"]
    # cancelled: the matter may be booked again; the trail shows each step in words
    assert (await book(hallapp, who, free[3])).status == 201
    mine = (await hallapp.api.get("/api/v1/appointments", headers=h)).json()
    assert mine["blocked_until"] is None and len(mine["items"]) == 3
    trail = (await hallapp.api.get("/api/v1/me/activity", headers=h)).json()["items"]
    assert {"预约大厅办事", "预约改期", "取消预约"} <= {e["action_name"] for e in trail}


async def test_too_late_to_change_and_no_shows_block_booking(hallapp):
    who = await person(hallapp, "爽约人")
    h = bearer(who["access_token"])
    free = later(await slots(hallapp))
    appt = (await book(hallapp, who, free[0])).json()
    soon = hallapp.ctx.db.appointments
    import time
    now = int(time.time() * 1000)
    await soon.update_one({"_id": appt["id"]}, {"$set": {"start": now + 20 * 60_000, "end": now + 50 * 60_000}})
    assert_problem(await hallapp.api.post(f"/api/v1/appointments/{appt['id']}/cancel", {"version": appt["version"]},
                                          headers=h), 409, "change_too_late")
    # three bookings missed (their check-in windows long closed): the worker marks them, booking is blocked
    for i, matter in enumerate((RESIDENCE, SOCIAL, BUSINESS)):
        a = (await book(hallapp, who, free[i + 1], matter=matter)).json() if i else appt
        await soon.update_one({"_id": a["id"]}, {"$set": {"start": now - (3 - i) * 3_600_000,
                                                          "end": now - (3 - i) * 3_600_000 + 1_800_000}})
    assert await hallapp.ctx.booking.mark_no_shows() >= 3
    mine = (await hallapp.api.get("/api/v1/appointments", headers=h)).json()
    assert [a["state"] for a in mine["items"]].count("no_show") == 3 and mine["blocked_until"]
    blocked = assert_problem(await book(hallapp, who, free[5]), 403, "booking_blocked")
    assert blocked["until"] == mine["blocked_until"] and mine["blocked_until"] in blocked["detail"]
    trail = (await hallapp.api.get("/api/v1/me/activity", headers=h)).json()["items"]
    assert "预约未到（爽约）" in {e["action_name"] for e in trail}


async def test_bad_bookings_are_refused_and_change_nothing(hallapp):
    who = await person(hallapp, "错预约")
    free = await slots(hallapp)
    h = {**bearer(who["access_token"]), "Idempotency-Key": uuid.uuid4().hex}
    body = {"hall": TIANHE, "matter": RESIDENCE, "day": free[0]["day"], "time": free[0]["time"]}
    cases = [
        ({**body, "time": "09:07"}, 400, "slot_unknown"),
        ({**body, "time": "25:00"}, 400, None),
        ({**body, "day": "2020-01-01"}, 409, "slot_past"),
        ({**body, "day": "2999-01-01"}, 400, "slot_too_far"),
        ({**body, "hall": "gz-hall-nowhere"}, 404, "hall_not_found"),
        ({**body, "hall": YUEXIU, "matter": FOOD}, 400, "matter_not_in_hall"),
        ({**body, "matter": "x" * 5000}, 400, None),
        ({k: v for k, v in body.items() if k != "day"}, 400, None),
        ({**body, "day": 20260101}, 400, None),
    ]
    for payload, status, code in cases:
        h["Idempotency-Key"] = uuid.uuid4().hex
        assert_problem(await hallapp.api.post("/api/v1/appointments", payload, headers=h), status, code)
    assert_problem(await hallapp.api.post("/api/v1/appointments", body, headers=bearer(who["access_token"])), 400)
    l1 = await sms_login(hallapp.api)
    assert_problem(await book(hallapp, l1, free[0]), 403)
    assert_problem(await hallapp.api.post("/api/v1/appointments", body), 401)
    assert (await hallapp.api.get("/api/v1/appointments", headers=bearer(who["access_token"]))).json()["items"] == []
    other = await person(hallapp, "旁人")
    mine = (await book(hallapp, who, free[0])).json()
    assert_problem(await hallapp.api.post(f"/api/v1/appointments/{mine['id']}/cancel", {"version": 1},
                                          headers=bearer(other["access_token"])), 404, "appointment_not_found")
    assert_problem(await hallapp.api.get(f"/api/v1/halls/{TIANHE}/slots?matter={FOOD}&from=2026-13-01"), 400)


async def test_simultaneous_bookings_never_exceed_the_quota(hallapp):
    free = later(await slots(hallapp), 30)
    slot = next(s for s in free if s["left"] == 4)
    people = await asyncio.gather(*(person(hallapp, f"抢号{c}") for c in "甲乙丙丁戊己庚辛壬癸子丑"))
    results = await asyncio.gather(*(book(hallapp, p, slot) for p in people))
    statuses = sorted(r.status for r in results)
    assert statuses == [201] * 4 + [409] * 8, statuses
    assert {r.json()["code"] for r in results if r.status == 409} == {"slot_full"}
    left = next(s for s in await slots(hallapp) if (s["day"], s["time"]) == (slot["day"], slot["time"]))
    assert left["left"] == 0
    assert await hallapp.ctx.db.appointments.count_documents(
        {"day": slot["day"], "slot": {"$regex": slot["time"].replace(":", "") + "$"}, "state": "booked"}) == 4
