"""Several processes behind a real nginx: two web processes and one worker
(``SUPERAPP_PROCESS__ROLE``) sharing the embedded MongoDB-wire server and Redis, nginx in
front with the shipped proxy rules (``config/nginx/superapp-locations.conf``).

* a kiosk's scan through one process reaches the holder's event stream held by the other;
* one-use codes, per-device short-code limits and per-IP SMS limits hold across processes,
  and a client cannot escape a per-IP limit by sending its own X-Forwarded-For;
* no two people get the same number in a hall's queue on a day, whichever process issued
  it (导服台 and kiosk numbers taken all at once through both);
* killing one web process mid-load loses no acknowledged write, duplicates nothing (the
  client retries with the same Idempotency-Key) and nginx carries on with the other;
* a fee is paid once when WeChat's notification reaches both processes at once, the
  processes configured with a real merchant's settings (a merchants file, APIv3 keys from
  the environment, the gateway) pointing at one fake WeChat Pay."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from types import SimpleNamespace
from typing import AsyncIterator

from tornado.httpclient import HTTPRequest

import pytest

from tests.fleet import NGINX, Fleet
from tests.journeys import RESIDENCE, id_card_for
from tests.support import (Api, EventStream, agreed, always_open_catalog, bearer, demo_staff, kiosk_token,
                           latest_sms_code, new_resident, random_phone, send_sms, staff_token, start_app, stop_app)

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/system-deps.sh --test)")

SMS_PER_IP = 12


@pytest.fixture(scope="module")
async def wechatpay(tmp_path_factory) -> AsyncIterator[SimpleNamespace]:
    """One fake WeChat Pay for every process, configured as a real merchant would be."""
    from superapp.fakes.wechatpay import DevMerchant, make_fake_wechatpay

    m = DevMerchant.generate("1900009901", "wx00000000000000dev")
    server, state = make_fake_wechatpay([m])
    server.start()
    state.deliver = False  # the test delivers each notification itself, through nginx
    keys = tmp_path_factory.mktemp("wechatpay")
    (keys / "apiclient_key.pem").write_text(m.private_key_pem)
    (keys / "pub_key.pem").write_text(m.platform_public_pem)
    (keys / "merchants.json").write_text(json.dumps({"gz-psb": {
        "mchid": m.mchid, "appid": m.appid, "serial_no": m.serial_no, "public_key_id": m.public_key_id,
        "private_key_file": str(keys / "apiclient_key.pem"), "public_key_file": str(keys / "pub_key.pem")}}))
    env = {"SUPERAPP_PAYMENTS__MERCHANTS_FILE": str(keys / "merchants.json"),
           "SUPERAPP_PAYMENTS__APIV3_KEYS": json.dumps({"gz-psb": m.apiv3_key}),
           "SUPERAPP_PAYMENTS__API_BASE_URL": server.url}
    yield SimpleNamespace(state=state, env=env)
    await server.stop()


@pytest.fixture(scope="module")
async def fleet(backends, wechatpay, tmp_path_factory) -> AsyncIterator[tuple[Fleet, object]]:
    tag = uuid.uuid4().hex[:8]
    # The Tianhe hall never closes (tests/support.py), so numbers can be taken whatever the hour.
    catalog = always_open_catalog(tmp_path_factory.mktemp("halls") / "halls.json")
    shared = {"SUPERAPP_MONGODB__DATABASE": f"scale_{tag}", "SUPERAPP_REDIS__KEY_PREFIX": f"s{tag}:",
              "SUPERAPP_HALLS__CATALOG_FILE": str(catalog)}
    # An in-process app on the same database seeds the development registries (residents).
    seed = await start_app(backends, environ={**shared, "SUPERAPP_PROCESS__ROLE": "web"})
    fleet = Fleet(tmp_path_factory.mktemp("fleet"), {
        "MONGODB_URI": backends.mongo_uri, "REDIS_URL": backends.redis_url, **shared,
        "SUPERAPP_HTTP__XHEADERS": "true", "SUPERAPP_SMS__HOURLY_SENDS_PER_IP": str(SMS_PER_IP),
        "SUPERAPP_SMS__RESEND_INTERVAL_SECONDS": "1", "SUPERAPP_SMS__VERIFIES_PER_IP_PER_MINUTE": "1000",
        **wechatpay.env,
    })
    try:
        fleet.start_web("web1")
        fleet.start_web("web2")
        fleet.start_worker()
        await asyncio.to_thread(fleet.wait_ready)
        await asyncio.to_thread(fleet.start_nginx)
        yield fleet, seed
    finally:
        fleet.stop()
        await stop_app(seed)


async def login(api: Api, resident) -> dict:
    phone = random_phone()
    assert (await send_sms(api, phone)).status == 202
    resp = await api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": await latest_sms_code(api, phone),
                                                      "channel": "h5"})
    assert resp.status == 200, resp.body
    resp = await api.post("/api/v1/me/realname", {"name": resident.name, "id_number": resident.id_number},
                          headers=bearer(resp.json()["access_token"]))
    assert resp.status == 200, resp.body
    return resp.json()


async def code_of(api: Api, person: dict) -> dict:
    resp = await api.get("/api/v1/codes/person", headers=bearer(person["access_token"]))
    assert resp.status == 200, resp.body
    return resp.json()


async def logged(fl: Fleet, wanted, n: int) -> list[str]:
    """The access-log lines ``wanted`` picks, once there are ``n`` (nginx logs a request just
    after answering it)."""
    for _ in range(100):
        lines = [line for line in fl.access_log() if wanted(line)]
        if len(lines) >= n:
            return lines
        await asyncio.sleep(0.05)
    raise AssertionError(f"nginx logged {len(lines)} of {n} requests")


def served_by(lines: list[str]) -> list[str]:
    """The web process that answered each request nginx logged (the last one it tried)."""
    return [line.rsplit(" ups=", 1)[1].split(", ")[-1] for line in lines]


async def test_scans_through_either_process_reach_a_stream_held_by_the_other(fleet):
    fl, seed = fleet
    api, web1, web2 = Api(fl.url), Api(fl.webs[0].url), Api(fl.webs[1].url)
    person = await login(api, await new_resident(seed.ctx, name="跨进程"))
    kiosk = await kiosk_token(api, seed.ctx.demo.devices[0])

    # The stream is held by web1; the scan goes to web2 (and the reverse).
    for holder_side, scan_side in ((web1, web2), (web2, web1)):
        async with EventStream(holder_side.base_url, person["access_token"]) as stream:
            code = await code_of(api, person)
            resp = await scan_side.post("/api/v1/scans", {"code": code["code"]}, headers=bearer(kiosk))
            assert resp.status == 200, resp.body
            event = await stream.next("code.scanned")
            assert event["scan_id"] == resp.json()["scan_id"]

    # Through nginx (unbuffered SSE): scans landing on both processes all arrive (the codes
    # are fetched from web1 directly, so nginx alternates the scans themselves).
    async with EventStream(fl.url, person["access_token"]) as stream:
        scan_ids = []
        for _ in range(4):
            code = await code_of(web1, person)
            resp = await api.post("/api/v1/scans", {"code": code["code"]}, headers=bearer(kiosk))
            assert resp.status == 200, resp.body
            scan_ids.append(resp.json()["scan_id"])
        got = [(await stream.next("code.scanned"))["scan_id"] for _ in scan_ids]
        assert sorted(got) == sorted(scan_ids)
    scans = await logged(fl, lambda line: '"POST /api/v1/scans"' in line, len(scan_ids))
    scan_upstreams = set(served_by(scans))
    assert scan_upstreams == {f"127.0.0.1:{w.port}" for w in fl.webs}  # both processes scanned

    # The mini-program's WebSocket, through nginx and held by one process: a consent request a
    # kiosk makes through the other arrives, and one made while it was away comes on resume.
    from tornado.websocket import websocket_connect

    ws = fl.url.replace("http://", "ws://") + "/api/v1/events/ws"
    sock = await websocket_connect(HTTPRequest(ws, headers=bearer(person["access_token"])))
    await asyncio.sleep(0.3)
    for side in (web1, web2):
        code = await code_of(web1, person)
        scan = (await side.post("/api/v1/scans", {"code": code["code"]}, headers=bearer(kiosk))).json()
        asked = await side.post(f"/api/v1/scans/{scan['scan_id']}/requests",
                                {"purpose": "办理居住证", "items": ["identity:name"]}, headers=bearer(kiosk))
        assert asked.status == 201, asked.body
        while (msg := json.loads(await asyncio.wait_for(sock.read_message(), 10)))["type"] != "consent.requested":
            pass
        assert msg["consent_id"] == asked.json()["id"]
        last = msg["id"]
    sock.close()
    code = await code_of(web1, person)
    scan = (await web2.post("/api/v1/scans", {"code": code["code"]}, headers=bearer(kiosk))).json()
    asked = (await web2.post(f"/api/v1/scans/{scan['scan_id']}/requests",
                             {"purpose": "办理居住证", "items": ["identity:name"]}, headers=bearer(kiosk))).json()
    sock = await websocket_connect(HTTPRequest(f"{ws}?since={last}", headers=bearer(person["access_token"])))
    while (msg := json.loads(await asyncio.wait_for(sock.read_message(), 10)))["type"] != "consent.requested":
        pass
    assert msg["consent_id"] == asked["id"]
    sock.close()
    for api_ in (api, web1, web2):
        api_.close()


async def test_one_use_codes_and_limits_hold_across_processes(fleet):
    fl, seed = fleet
    api = Api(fl.url)
    person = await login(api, await new_resident(seed.ctx, name="一码一用"))
    scanners = [d for d in seed.ctx.demo.devices if "scan" in d.scopes]  # not the hall's screen
    kiosk = await kiosk_token(api, scanners[1 % len(scanners)])

    # 24 simultaneous scans of one code, spread over both processes: exactly one succeeds.
    code = await code_of(api, person)
    results = await asyncio.gather(*(api.post("/api/v1/scans", {"code": code["code"]}, headers=bearer(kiosk))
                                     for _ in range(24)))
    statuses = sorted(r.status for r in results)
    assert statuses == [200] + [409] * 23, statuses
    assert {r.json()["code"] for r in results if r.status == 409} == {"code_already_used"}

    # Unknown short codes are counted per device across processes: 10 misses a minute, then 429.
    misses = await asyncio.gather(*(api.post("/api/v1/scans", {"short_code": f"{n:08d}"}, headers=bearer(kiosk))
                                    for n in range(3, 17)))
    assert sorted(r.status for r in misses) == [422] * 10 + [429] * 4, [r.status for r in misses]

    api.close()


async def post_from(source_ip: str, port: int, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    """One POST from another loopback address (its own per-IP budget), over a raw socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source_ip, 0))
    try:
        data = json.dumps(body).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{head}"
                     f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head_part, _, payload = raw.partition(b"\r\n\r\n")
    return int(head_part.split()[1]), json.loads(payload) if payload else {}


async def test_per_ip_limits_hold_across_processes_and_ignore_forged_forwarding(fleet):
    """SMS sends per IP, across processes (nginx alternates them); a forged X-Forwarded-For or
    X-Real-IP changes nothing (nginx replaces both with the address it saw, 127.0.0.2)."""
    fl, _ = fleet
    agreements = await agreed(Api(fl.url))
    results = [await post_from("127.0.0.2", fl.nginx_port, "/api/v1/auth/sms/send",
                               {"phone": random_phone(), "agreements": agreements},
                               {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"})
               for n in range(SMS_PER_IP + 3)]
    assert [status for status, _ in results] == [202] * SMS_PER_IP + [429] * 3, results
    assert {body["code"] for status, body in results if status == 429} == {"sms_ip_limited"}
    sends = await logged(fl, lambda line: line.startswith("127.0.0.2 ") and '"POST /api/v1/auth/sms/send"' in line,
                         len(results))
    assert set(served_by(sends)) == {f"127.0.0.1:{w.port}" for w in fl.webs}


TIANHE = "gz-hall-tianhe"
FOOD = "440100-SJ-0207"  # an enterprise matter: queue B


async def login_from(fl: Fleet, api: Api, resident, source_ip: str) -> dict:
    """An L2 login whose SMS is sent from ``source_ip`` (its own per-IP budget: the fleet's
    limit is low, for the test above, and 127.0.0.1's budget is the other tests')."""
    phone = random_phone()
    status, body = await post_from(source_ip, fl.nginx_port, "/api/v1/auth/sms/send",
                                   {"phone": phone, "agreements": await agreed(api)}, {})
    assert status == 202, body
    resp = await api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": await latest_sms_code(api, phone),
                                                      "channel": "h5"})
    assert resp.status == 200, resp.body
    resp = await api.post("/api/v1/me/realname", {"name": resident.name, "id_number": resident.id_number},
                          headers=bearer(resp.json()["access_token"]))
    assert resp.status == 200, resp.body
    return resp.json()


async def scanned_by(api: Api, kiosk: str, person: dict) -> str:
    resp = await api.post("/api/v1/scans", {"code": (await code_of(api, person))["code"]}, headers=bearer(kiosk))
    assert resp.status == 200, resp.body
    return resp.json()["scan_id"]


async def test_no_two_people_share_a_hall_number_across_processes(fleet):
    """导服台 numbers for 66 people without a phone (some 绿色通道, some enterprise matters)
    and kiosk numbers for 6 residents scanning their codes, all at once, through nginx and
    straight to each web process: every number of a queue on the day is taken once, and they
    run 1, 2, 3 … with no gap."""
    fl, seed = fleet
    api, webs = Api(fl.url), [Api(w.url) for w in fl.webs]
    sides = [api, *webs]  # nginx alternates; the direct ones make sure each process issues some
    guide = await staff_token(api, demo_staff(seed.ctx, "th.daofu"))
    kiosk = await kiosk_token(api, next(d for d in seed.ctx.demo.devices if d.device_id == "kiosk-th-01"))
    people = [await login_from(fl, api, await new_resident(seed.ctx, name=f"取号{c}"), "127.0.0.3")
              for c in "甲乙丙丁戊己"]
    scans = [await scanned_by(api, kiosk, p) for p in people]

    def desk(i: int):
        body = {"matter": FOOD if i % 11 == 0 else RESIDENCE, "name": f"无手机{i}"}
        if i % 7 == 0:
            body["green"] = "disabled"
        return sides[i % 3].post(f"/api/v1/staff/halls/{TIANHE}/numbers", body, headers=bearer(guide))

    jobs = [desk(i) for i in range(66)]
    jobs += [sides[i % 3].post("/api/v1/kiosk/numbers", {"scan_id": s, "matter": RESIDENCE}, headers=bearer(kiosk))
             for i, s in enumerate(scans)]
    results = await asyncio.gather(*jobs)
    assert [r.status for r in results] == [201] * len(jobs), [(r.status, r.body[:200]) for r in results
                                                              if r.status != 201]
    answered = [r.json() for r in results]
    assert {n["queue"] for n in answered} == {"A", "B", "V"}

    # As stored: per day and queue, the sequence numbers are exactly 1..n (whatever the day, even
    # if the test ran over midnight), and the labels answered are those numbers, each once.
    stored = await seed.ctx.db.hall_numbers.find({"hall": TIANHE}).to_list()
    assert len(stored) == len(jobs)
    runs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n in stored:
        runs[(n["day"], n["queue"])].append(n["seq"])
    for (day, queue), seqs in runs.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), (day, queue, sorted(seqs))
    labels = [(n["queue"], n["label"]) for n in answered]
    assert len(set(labels)) == len(labels)
    assert sorted(n["id"] for n in answered) == sorted(n["_id"] for n in stored)
    # each resident holds the one number the kiosk gave them
    for person, number in zip(people, answered[66:]):
        mine = (await api.get("/api/v1/me/numbers", headers=bearer(person["access_token"]))).json()["items"]
        assert [n["id"] for n in mine] == [number["id"]]
    for side in sides:
        side.close()


async def test_a_double_tap_at_the_kiosk_gives_one_number_across_processes(fleet):
    """One scan, eight simultaneous 取号 taps through both processes: one number, the same for all."""
    fl, seed = fleet
    api, webs = Api(fl.url), [Api(w.url) for w in fl.webs]
    kiosk = await kiosk_token(api, next(d for d in seed.ctx.demo.devices if d.device_id == "kiosk-th-01"))
    extra = []
    for c in "子丑寅卯辰巳午未":
        person = await login_from(fl, api, await new_resident(seed.ctx, name=f"连按{c}"), "127.0.0.4")
        scan = await scanned_by(api, kiosk, person)
        taps = await asyncio.gather(*(webs[i % 2].post("/api/v1/kiosk/numbers", {"scan_id": scan, "matter": RESIDENCE},
                                                       headers=bearer(kiosk)) for i in range(8)))
        assert sorted(t.status for t in taps)[-1] == 201 and {t.status for t in taps} <= {200, 201}, taps
        ids = {t.json()["id"] for t in taps}
        mine = (await api.get("/api/v1/me/numbers", headers=bearer(person["access_token"]))).json()["items"]
        if len(ids) > 1 or len(mine) > 1:
            extra.append((c, sorted(t.json()["label"] for t in taps), len(mine)))
    assert extra == [], extra  # (who, labels answered, numbers they now hold)
    for side in (api, *webs):
        side.close()


async def test_a_fee_is_paid_once_when_both_processes_hear_of_it(fleet, wechatpay):
    from tests.payments.support import apply_licence, pay

    fl, seed = fleet
    api = Api(fl.url)
    resident = await new_resident(seed.ctx, name="跨进程缴费")
    person = await login(api, resident)
    face = await api.post("/api/v1/me/face", {"evidence": "dev-face-pass"}, headers=bearer(person["access_token"]))
    assert face.status == 200, face.body  # 驾驶证换证 asks for L3
    token = face.json().get("access_token") or person["access_token"]
    payer = {"h": bearer(token), "access_token": token, "resident": resident}
    through = SimpleNamespace(api=api)
    application = await apply_licence(through, payer)
    made = await pay(through, payer, application["fee"]["order_id"], "h5")
    assert made.status == 201, made.body
    await wechatpay.state.confirm(made.json()["h5_url"].split("prepay_id=")[1].split("&")[0])
    sent = wechatpay.state.notifications[-1]
    before = len([line for line in fl.access_log() if "/payments/wechat/notify" in line])
    signed = {**wechatpay.state.signed_headers(sent["mchid"], sent["body"]), "Content-Type": "application/json"}
    answers = await asyncio.gather(*(api.request("POST", "/api/v1/payments/wechat/notify", body=sent["body"],
                                                 headers=signed) for _ in range(12)))
    assert [a.status for a in answers] == [204] * 12, [a.body for a in answers if a.status != 204]
    lines = await logged(fl, lambda line: "/payments/wechat/notify" in line, before + 12)
    assert len(set(served_by(lines[before:]))) == 2, "both web processes were told"
    order = (await api.get(f"/api/v1/applications/{application['id']}/payment", headers=payer["h"])).json()
    assert order["state"] == "paid"
    entries = await seed.ctx.db.payment_ledger.find({"order_id": order["id"]}).to_list(None)
    assert sorted(e["kind"] for e in entries) == ["charge", "payment"]


async def test_killing_a_web_process_mid_load_loses_no_acknowledged_write(fleet):
    fl, seed = fleet
    api = Api(fl.url)
    resident = await new_resident(seed.ctx, name="压力申办")
    person = await login(api, resident)
    h = bearer(person["access_token"])
    await id_card_for(SimpleNamespace(ctx=seed.ctx, api=api), resident)
    prefill = (await api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()

    acknowledged: dict[str, str] = {}  # Idempotency-Key -> application id
    transient: list[int] = []
    killed = asyncio.Event()

    async def submit_one() -> None:
        key = uuid.uuid4().hex
        upload_id = None
        for _ in range(120):  # a client that retries what failed in transit, with the same key
            if upload_id is None:
                up = await api.request("POST", "/api/v1/uploads?filename=proof.pdf", body=b"%PDF-1.4\n%%EOF\n",
                                       headers={**h, "Content-Type": "application/pdf"})
                if up.status != 201:
                    transient.append(up.status)
                    await asyncio.sleep(0.25)
                    continue
                upload_id = up.json()["id"]
            resp = await api.post("/api/v1/applications", {
                "matter": RESIDENCE, "form": {**prefill["form"], "residence_since": "2025-06-01", "reason": "就业"},
                "materials": [{"id": "residence_proof", "upload_id": upload_id}]},
                headers={**h, "Idempotency-Key": key})
            if resp.status in (200, 201):
                acknowledged[key] = resp.json()["id"]
                return
            # In flight when the process died (502), or its key still held by the dead process (409).
            assert resp.status in (502, 503, 504, 409), resp.body
            transient.append(resp.status)
            await asyncio.sleep(0.25)
        raise AssertionError(f"key {key} never acknowledged")

    async def client_loop(n: int) -> None:
        for i in range(n):
            await submit_one()

    async def killer() -> None:
        while len(acknowledged) < 6:
            await asyncio.sleep(0.02)
        fl.kill(fl.webs[0])  # SIGKILL: no graceful shutdown
        killed.set()

    before = len(fl.access_log())
    await asyncio.gather(*(client_loop(6) for _ in range(4)), killer())
    assert killed.is_set() and len(acknowledged) == 24

    # Every acknowledged application is there, once; nothing else was created.
    mine = (await api.get("/api/v1/applications?limit=100", headers=h)).json()["items"]
    ids = [a["id"] for a in mine if a["matter"] == RESIDENCE]
    assert sorted(ids) == sorted(acknowledged.values())
    for app_id in acknowledged.values():
        assert (await api.get(f"/api/v1/applications/{app_id}", headers=h)).status == 200

    # nginx carried on with the surviving process: after the kill it served everything.
    alive = f"127.0.0.1:{fl.webs[1].port}"
    after_kill = served_by(fl.access_log()[before:])[-20:]
    assert after_kill == [alive] * 20, after_kill
    assert len(transient) <= 12, transient  # only what was in flight at the kill
    api.close()
