"""The main journeys as HTTP calls against a running app (``tests.support.RunningApp``):
each operation sets up what it needs and passes its one request of interest through
``meter.measure`` (``bench/roundtrips.py`` counts that request's storage commands; the
shard-key test checks every MongoDB command of all of them)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, Awaitable, Callable, Protocol

from tests.support import (bearer, demo_staff, issuer_client, issuer_token, kiosk_token, latest_sms_code,
                           new_resident, random_phone, send_sms, sms_login, staff_token, upload_pdf, verified_person)


class Meter(Protocol):
    async def measure(self, request: Callable[[], Awaitable[Any]]) -> tuple[Any, dict[str, Any]]: ...


class JourneyFailed(AssertionError):
    pass


ID_CARD = "11100000000013338W001"
RESIDENCE = "440100-GA-0012"
HPF = "440100-GJJ-0011"
NEWBORN = "YJS-XSE-001"


def check(resp: Any, *ok: int) -> Any:
    if resp.status not in ok:
        raise JourneyFailed(f"unexpected {resp.status}: {resp.body[:300]!r}")
    return resp


async def id_card_for(app: Any, r: Any) -> str:
    client = issuer_client(app.ctx, "11440100007012346M")
    token = await issuer_token(app.api, client)
    body = client.issue_body(f"idc-{r.id_number}", ID_CARD, {"kind": "person", "id_number": r.id_number,
                                                             "name": r.name},
                             {"name": r.name, "gender": r.gender, "nation": "汉", "birth_date": r.birth_date,
                              "address": r.address, "id_number": r.id_number, "issuing_authority": "广州市公安局"},
                             valid_until=(date.today() + timedelta(days=3650)).isoformat())
    return check(await app.api.post("/api/v1/issuer/certificates", body, headers=bearer(token)), 201).json()["id"]


async def resident(app: Any, with_card: bool = True) -> tuple[Any, dict[str, Any], str | None]:
    r = await new_resident(app.ctx, name="测往返")
    person = await verified_person(app.api, r)
    card = await id_card_for(app, r) if with_card else None
    return r, person, card


def idem() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


# -- the operations: each returns the measurement of one request ---------------------------------

async def op_sms_send(app: Any, m: Meter) -> dict[str, Any]:
    _, r = await m.measure(lambda: send_sms(app.api, random_phone()))
    return r


async def op_sms_login(app: Any, m: Meter) -> dict[str, Any]:
    phone = random_phone()
    check(await send_sms(app.api, phone), 202)
    code = await latest_sms_code(app.api, phone)
    resp, r = await m.measure(lambda: app.api.post("/api/v1/auth/sms/verify",
                                                   {"phone": phone, "code": code, "channel": "h5"}))
    check(resp, 200)
    return r


async def op_realname(app: Any, m: Meter) -> dict[str, Any]:
    res = await new_resident(app.ctx, name="测实名")
    login = await sms_login(app.api)
    resp, r = await m.measure(lambda: app.api.post("/api/v1/me/realname",
                                                   {"name": res.name, "id_number": res.id_number},
                                                   headers=bearer(login["access_token"])))
    check(resp, 200)
    return r


async def op_code(app: Any, m: Meter) -> dict[str, Any]:
    _, person, _ = await resident(app, with_card=False)
    resp, r = await m.measure(lambda: app.api.get("/api/v1/codes/person", headers=bearer(person["access_token"])))
    check(resp, 200)
    return r


async def _scanned(app: Any, person: dict[str, Any]) -> tuple[str, str]:
    code = check(await app.api.get("/api/v1/codes/person", headers=bearer(person["access_token"])), 200).json()
    kiosk = await kiosk_token(app.api, app.ctx.demo.devices[0])
    return kiosk, code["code"]


async def op_scan(app: Any, m: Meter) -> dict[str, Any]:
    _, person, _ = await resident(app, with_card=False)
    kiosk, code = await _scanned(app, person)
    resp, r = await m.measure(lambda: app.api.post("/api/v1/scans", {"code": code}, headers=bearer(kiosk)))
    check(resp, 200)
    return r


async def _consent(app: Any, person: dict[str, Any]) -> tuple[str, str]:
    kiosk, code = await _scanned(app, person)
    scan = check(await app.api.post("/api/v1/scans", {"code": code}, headers=bearer(kiosk)), 200).json()
    consent = check(await app.api.post(f"/api/v1/scans/{scan['scan_id']}/requests",
                                       {"purpose": "办理居住证", "items": ["identity:name", f"certificate:{ID_CARD}"],
                                        "matter": RESIDENCE}, headers=bearer(kiosk)), 201).json()
    return kiosk, consent["id"]


async def op_consent_request(app: Any, m: Meter) -> dict[str, Any]:
    _, person, _ = await resident(app)
    kiosk, code = await _scanned(app, person)
    scan = check(await app.api.post("/api/v1/scans", {"code": code}, headers=bearer(kiosk)), 200).json()
    resp, r = await m.measure(lambda: app.api.post(
        f"/api/v1/scans/{scan['scan_id']}/requests",
        {"purpose": "办理居住证", "items": ["identity:name", f"certificate:{ID_CARD}"], "matter": RESIDENCE},
        headers=bearer(kiosk)))
    check(resp, 201)
    return r


async def op_consent_approve(app: Any, m: Meter) -> dict[str, Any]:
    _, person, _ = await resident(app)
    _, consent_id = await _consent(app, person)
    resp, r = await m.measure(lambda: app.api.post(f"/api/v1/consents/{consent_id}/approve", {},
                                                   headers=bearer(person["access_token"])))
    check(resp, 200)
    return r


async def op_consent_read(app: Any, m: Meter) -> dict[str, Any]:
    _, person, _ = await resident(app)
    kiosk, consent_id = await _consent(app, person)
    check(await app.api.post(f"/api/v1/consents/{consent_id}/approve", {}, headers=bearer(person["access_token"])),
          200)
    resp, r = await m.measure(lambda: app.api.get(f"/api/v1/consents/{consent_id}", headers=bearer(kiosk)))
    check(resp, 200)
    return r


async def op_wallet(app: Any, m: Meter) -> dict[str, Any]:
    _, person, _ = await resident(app)
    resp, r = await m.measure(lambda: app.api.get("/api/v1/wallet", headers=bearer(person["access_token"])))
    check(resp, 200)
    return r


async def op_certificate(app: Any, m: Meter) -> dict[str, Any]:
    _, person, card = await resident(app)
    resp, r = await m.measure(lambda: app.api.get(f"/api/v1/wallet/{card}", headers=bearer(person["access_token"])))
    check(resp, 200)
    return r


async def _residence_body(app: Any, person: dict[str, Any]) -> dict[str, Any]:
    prefill = check(await app.api.get(f"/api/v1/matters/{RESIDENCE}/prefill",
                                      headers=bearer(person["access_token"])), 200).json()
    up = await upload_pdf(app.api, person)
    return {"matter": RESIDENCE, "form": {**prefill["form"], "residence_since": "2025-06-01", "reason": "就业"},
            "materials": [{"id": "residence_proof", "upload_id": up}]}


async def op_submit(app: Any, m: Meter) -> dict[str, Any]:
    _, person, _ = await resident(app)
    body = await _residence_body(app, person)
    resp, r = await m.measure(lambda: app.api.post("/api/v1/applications", body,
                                                   headers={**bearer(person["access_token"]), **idem()}))
    check(resp, 201)
    return r


async def _submitted(app: Any) -> dict[str, Any]:
    _, person, _ = await resident(app)
    body = await _residence_body(app, person)
    return check(await app.api.post("/api/v1/applications", body,
                                    headers={**bearer(person["access_token"]), **idem()}), 201).json()


async def op_staff_accept(app: Any, m: Meter) -> dict[str, Any]:
    application = await _submitted(app)
    token = await staff_token(app.api, demo_staff(app.ctx, "gaj.shouli"))
    resp, r = await m.measure(lambda: app.api.post(f"/api/v1/staff/applications/{application['id']}/accept",
                                                   {"version": application["version"]}, headers=bearer(token)))
    check(resp, 200)
    return r


async def op_staff_approve(app: Any, m: Meter) -> dict[str, Any]:
    application = await _submitted(app)
    token = await staff_token(app.api, demo_staff(app.ctx, "gaj.shouli"))
    accepted = check(await app.api.post(f"/api/v1/staff/applications/{application['id']}/accept",
                                        {"version": application["version"]}, headers=bearer(token)), 200).json()
    reviewer = await staff_token(app.api, demo_staff(app.ctx, "gaj.shenhe"))
    resp, r = await m.measure(lambda: app.api.post(f"/api/v1/staff/applications/{application['id']}/approve",
                                                   {"version": accepted["version"], "comment": "同意"},
                                                   headers=bearer(reviewer)))
    check(resp, 200)
    return r


async def op_instant(app: Any, m: Meter) -> dict[str, Any]:
    res, person, _ = await resident(app)
    up = await upload_pdf(app.api, person)
    body = {"matter": HPF, "form": {"name": res.name, "id_number": res.id_number, "monthly_rent": 3000,
                                    "amount": 9000, "bank_account": "6222020200001234567"},
            "materials": [{"id": "lease", "upload_id": up}]}
    resp, r = await m.measure(lambda: app.api.post("/api/v1/applications", body,
                                                   headers={**bearer(person["access_token"]), **idem()}))
    if resp.json()["state"] != "completed":
        raise JourneyFailed("秒批 did not complete")
    return r


async def op_bundle(app: Any, m: Meter) -> dict[str, Any]:
    res, person, _ = await resident(app, with_card=False)
    health = issuer_client(app.ctx, "124401004554091607")
    psb = issuer_client(app.ctx, "11440100007012346M")
    today = date.today().isoformat()
    holder = {"kind": "person", "id_number": res.id_number, "name": res.name}
    check(await app.api.post("/api/v1/issuer/certificates", health.issue_body(
        f"birth-{res.id_number}", "11100000000019297M001", holder,
        {"certificate_number": "Q440012345", "baby_name": "小宝", "gender": "男", "birth_date": today,
         "birth_place": "广州市天河区", "mother_name": res.name, "mother_id_number": res.id_number}),
        headers=bearer(await issuer_token(app.api, health))), 201)
    check(await app.api.post("/api/v1/issuer/certificates", psb.issue_body(
        f"hukou-{res.id_number}", "11100000000013338W002", holder,
        {"household_number": "440106123456", "household_head": res.name, "relation": "户主", "name": res.name,
         "id_number": res.id_number, "address": res.address}), headers=bearer(await issuer_token(app.api, psb))), 201)
    form = {"baby_name": "小宝", "baby_gender": "男", "birth_date": today, "guardian_name": res.name,
            "guardian_id_number": res.id_number, "relation": "母亲", "phone": person["phone"],
            "clinic": "天河区妇幼保健院接种门诊"}
    resp, r = await m.measure(lambda: app.api.post("/api/v1/bundle-applications",
                                                   {"bundle": NEWBORN, "form": form, "materials": []},
                                                   headers={**bearer(person["access_token"]), **idem()}))
    check(resp, 201)
    return r


OPERATIONS: list[tuple[str, Callable[[Any, Any], Awaitable[dict[str, Any]]]]] = [
    ("SMS send", op_sms_send),
    ("SMS login (verify)", op_sms_login),
    ("real name (L2)", op_realname),
    ("code issue", op_code),
    ("scan", op_scan),
    ("consent request", op_consent_request),
    ("consent approve", op_consent_approve),
    ("consent read (kiosk)", op_consent_read),
    ("wallet list", op_wallet),
    ("certificate detail", op_certificate),
    ("application submit", op_submit),
    ("staff accept", op_staff_accept),
    ("staff approve", op_staff_approve),
    ("秒批 submit", op_instant),
    ("bundle submit (2 matters)", op_bundle),
]
