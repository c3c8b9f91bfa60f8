"""Storage round trips per request: how many MongoDB and Redis commands each main
operation makes, and whether any request reads the same document twice.

    .venv/bin/python bench/roundtrips.py [--repeat 3]

Starts embedded MongoDB-wire and Redis servers (or uses MONGODB_URI / REDIS_URL) and the
app in this process as a web process (``process.role = web``: no background workers, so
nothing but the request under test talks to the servers). MongoDB commands are counted
with PyMongo's command monitoring; Redis commands on the server (``INFO commandstats``
before and after the request, so commands run inside Lua scripts count too). Each
operation runs ``--repeat`` times on fresh accounts; the smallest count is printed.
A "repeated read" is a second ``find`` of the same collection with the same filter in
one request.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymongo import monitoring  # noqa: E402

READS = {"find", "count", "aggregate"}  # findAndModify is a write (e.g. a counter)


class MongoCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.on = False
        self.commands: list[tuple[str, str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on:
            return
        name = event.command_name
        coll = event.command.get(name)
        flt = ""
        if name in READS:
            flt = json.dumps(event.command.get("filter", event.command.get("query", {})), sort_keys=True,
                             default=str)
        self.commands.append((name, str(coll), flt))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


MONGO = MongoCounter()
monitoring.register(MONGO)

from server.embedded import EmbeddedMongo, EmbeddedRedis  # noqa: E402
from tests.support import (Backends, bearer, demo_staff, issuer_client, issuer_token, kiosk_token,  # noqa: E402
                           latest_sms_code, new_resident, random_phone, sms_login, staff_token, start_app,
                           stop_app, upload_pdf, verified_person)

ID_CARD = "11100000000013338W001"
RESIDENCE = "440100-GA-0012"
HPF = "440100-GJJ-0011"
NEWBORN = "YJS-XSE-001"


async def redis_calls(redis: Any) -> Counter:
    stats = await redis.info("commandstats")
    return Counter({k[len("cmdstat_"):]: v["calls"] for k, v in stats.items() if k != "cmdstat_info"})


class Meter:
    def __init__(self, redis: Any):
        self.redis = redis

    async def measure(self, request: Callable[[], Awaitable[Any]]) -> tuple[Any, dict[str, Any]]:
        before = await redis_calls(self.redis)
        MONGO.commands.clear()
        MONGO.on = True
        try:
            resp = await request()
        finally:
            MONGO.on = False
        after = await redis_calls(self.redis)
        redis_delta = after - before
        redis_delta.pop("info", None)
        reads = [(c, f) for n, c, f in MONGO.commands if n in READS]
        repeated = sum(n - 1 for n in Counter(reads).values() if n > 1)
        return resp, {"mongo": len(MONGO.commands), "trace": list(MONGO.commands), "mongo_by": Counter(n for n, _, _ in MONGO.commands),
                      "redis": sum(redis_delta.values()), "redis_by": redis_delta, "repeated_reads": repeated,
                      "reads": Counter(reads)}


def check(resp: Any, *ok: int) -> Any:
    if resp.status not in ok:
        raise SystemExit(f"unexpected {resp.status}: {resp.body[:300]!r}")
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
    _, r = await m.measure(lambda: app.api.post("/api/v1/auth/sms/send", {"phone": random_phone()}))
    return r


async def op_sms_login(app: Any, m: Meter) -> dict[str, Any]:
    phone = random_phone()
    check(await app.api.post("/api/v1/auth/sms/send", {"phone": phone}), 202)
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
        raise SystemExit("秒批 did not complete")
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


OPERATIONS: list[tuple[str, Callable[[Any, Meter], Awaitable[dict[str, Any]]]]] = [
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


async def main() -> None:
    import os

    import redis.asyncio as aioredis

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--detail", action="store_true", help="print commands by name and repeated reads")
    parser.add_argument("--trace", default="", help="print every MongoDB command of the operations whose name "
                                                    "contains this")
    args = parser.parse_args()

    import tempfile

    started = []
    with tempfile.TemporaryDirectory(prefix="roundtrips-") as tmp:
        mongo_uri, redis_url = os.environ.get("MONGODB_URI", ""), os.environ.get("REDIS_URL", "")
        if not mongo_uri:
            started.append(EmbeddedMongo(Path(tmp)))
            await started[-1].start()
            mongo_uri = started[-1].uri
        if not redis_url:
            started.append(EmbeddedRedis(Path(tmp)))
            await started[-1].start()
            redis_url = started[-1].uri
        app = await start_app(Backends(mongo_uri, redis_url), environ={"SUPERAPP_PROCESS__ROLE": "web"},
                              overrides={"sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000,
                                                 "resend_interval_seconds": 1}})
        redis = aioredis.from_url(redis_url)
        meter = Meter(redis)
        try:
            print(f"{'operation':28} {'MongoDB':>8} {'Redis':>6} {'repeated reads':>15}")
            for name, op in OPERATIONS:
                runs = [await op(app, meter) for _ in range(args.repeat)]
                best = min(runs, key=lambda r: (r["mongo"], r["redis"]))
                print(f"{name:28} {best['mongo']:>8} {best['redis']:>6} {best['repeated_reads']:>15}")
                if args.trace and args.trace in name:
                    for cmd in best["trace"]:
                        print("    ", *cmd)
                if args.detail:
                    print("    mongo:", dict(best["mongo_by"]))
                    print("    redis:", dict(best["redis_by"]))
                    for (coll, flt), n in best["reads"].items():
                        if n > 1:
                            print(f"    read {n}x {coll} {flt[:120]}")
        finally:
            await redis.aclose()
            await stop_app(app)
            for server in reversed(started):
                await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
