"""Helpers for the 12345 tests: file a ticket, act at the desk."""
from __future__ import annotations

import uuid
from typing import Any

from tests.support import bearer, demo_staff, staff_token

STREETLIGHT = {"kind": "help", "category": "cg-streetlight", "title": "体育西路路灯不亮",
               "content": "体育西路 101 号门前的两盏路灯连续三晚不亮，行人夜间不便，请尽快维修。",
               "location": {"address": "广州市天河区体育西路 101 号", "lat": 23.1371, "lng": 113.3216,
                            "region_code": "440106"}}


async def file(app, person: dict[str, Any] | None, body: dict[str, Any], key: str | None = None):
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    if person is not None:
        headers.update(bearer(person["access_token"]))
    return await app.api.post("/api/v1/tickets", body, headers=headers)


async def staff(app, username: str) -> str:
    return await staff_token(app.api, demo_staff(app.ctx, username))


async def desk(app, token: str, ticket_id: str, action: str, version: int, **body: Any):
    return await app.api.post(f"/api/v1/staff/tickets/{ticket_id}/{action}", {"version": version, **body},
                              headers=bearer(token))


async def desk_ok(app, token: str, ticket_id: str, action: str, version: int, **body: Any) -> dict[str, Any]:
    resp = await desk(app, token, ticket_id, action, version, **body)
    assert resp.status == 200, (action, resp.body)
    return resp.json()
