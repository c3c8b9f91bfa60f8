"""Helpers for the service-hall tests: a catalog in which the Tianhe and city halls never
close (24-hour halls, holidays included, so taking numbers and checking in work whenever the
tests run) and the Yuexiu hall never opens; people, codes and staff."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.support import always_open_catalog, bearer, demo_staff, kiosk_token, new_resident, staff_token, verified_person

ROOT = Path(__file__).resolve().parents[2]
TIANHE, YUEXIU, CITY = "gz-hall-tianhe", "gz-hall-yuexiu", "gz-hall-city"
RESIDENCE = "440100-GA-0012"   # 居住证申领 (queue A)
SOCIAL = "440100-RS-0033"      # 社会保障卡申领 (queue A)
BUSINESS = "440100-SJ-0101"    # 个体工商户设立登记 (a person's matter)
FOOD = "440100-SJ-0207"        # 食品经营许可 (enterprise: queue B)
NEAR_TIANHE = (23.1262, 113.3620)  # ~80 m from the Tianhe hall


async def person(app, name: str = "大厅办事人", birth: str | None = None, **kw: Any) -> dict[str, Any]:
    """An L2 person, under 65 unless ``birth`` says otherwise (65 and over go to 绿色通道)."""
    import random

    birth = birth or f"{random.randint(1965, 2004)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    return await verified_person(app.api, await new_resident(app.ctx, name=name, birth=birth, **kw))


async def scanned(app, kiosk: str, who: dict[str, Any]) -> str:
    code = (await app.api.get("/api/v1/codes/person", headers=bearer(who["access_token"]))).json()["code"]
    resp = await app.api.post("/api/v1/scans", {"code": code}, headers=bearer(kiosk))
    assert resp.status == 200, resp.body
    return resp.json()["scan_id"]


async def kiosk(app) -> str:
    return await kiosk_token(app.api, next(d for d in app.ctx.demo.devices if d.device_id == "kiosk-th-01"))


async def display(app) -> str:
    return await kiosk_token(app.api, next(d for d in app.ctx.demo.devices if d.device_id == "display-th-01"))


async def staff(app, username: str) -> str:
    return await staff_token(app.api, demo_staff(app.ctx, username))


async def book(app, who: dict[str, Any], slot: dict[str, Any], hall: str = TIANHE, matter: str = RESIDENCE,
               key: str | None = None):
    return await app.api.post("/api/v1/appointments", {"hall": hall, "matter": matter, "day": slot["day"],
                                                       "time": slot["time"]},
                              headers={**bearer(who["access_token"]), "Idempotency-Key": key or uuid.uuid4().hex})


async def slots(app, hall: str = TIANHE, matter: str = RESIDENCE) -> list[dict[str, Any]]:
    resp = await app.api.get(f"/api/v1/halls/{hall}/slots?matter={matter}")
    assert resp.status == 200, resp.body
    return resp.json()["items"]


def later(items: list[dict[str, Any]], hours: float = 2) -> list[dict[str, Any]]:
    """The slots starting at least ``hours`` from now (changes close an hour before)."""
    from datetime import datetime, timedelta, timezone

    china = timezone(timedelta(hours=8))
    cutoff = datetime.now(china) + timedelta(hours=hours)
    return [s for s in items if datetime.fromisoformat(f"{s['day']}T{s['time']}:00+08:00") > cutoff]
