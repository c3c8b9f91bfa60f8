"""Service codes end to end: issue, render, decode with a real QR decoder (zxing-cpp),
scan as a kiosk, tell the holder live, consent item by item, offline verification,
revocation, and every bad code, device and caller the issue lists."""
from __future__ import annotations

import asyncio
import io
import os
import time
from urllib.parse import quote

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from identity.codes.codec import PERSON, CodeKeys, CodePayload, parse, verify_offline
from server.qr import qr_matrix
from tests.support import (EventStream, assert_problem, bearer, demo_staff, device_assertion, kiosk_token,
                           new_enterprise, new_resident, staff_token, verified_person, write_ec_key)

pytestmark = pytest.mark.redis_modes  # Redis-dependent rules: also on a Redis Cluster


@pytest.fixture(scope="module")
async def kiosk(idapp):
    return await kiosk_token(idapp.api, idapp.ctx.demo.devices[0])


async def holder(app, name="林码主"):
    return await verified_person(app.api, await new_resident(app.ctx, name=name))


async def get_code(app, person, query=""):
    resp = await app.api.get(f"/api/v1/codes/person{query}", headers=bearer(person["access_token"]))
    assert resp.status == 200, resp.body
    return resp.json()


async def scan(app, token, **body):
    return await app.api.post("/api/v1/scans", body, headers=bearer(token))


async def wait_history(app, person, n=1):
    for _ in range(100):
        items = (await app.api.get("/api/v1/codes/history", headers=bearer(person["access_token"]))).json()["items"]
        if len(items) >= n:
            return items
        await asyncio.sleep(0.05)
    raise AssertionError("scan not recorded")


async def test_png_decodes_to_the_code_and_the_whole_consent_flow_works(idapp, kiosk):
    person = await holder(idapp, "林码主")
    code = await get_code(idapp, person)
    assert code["code"].startswith("SA1:") and len(code["short_code"]) == 8
    png = await idapp.api.get(code["png_url"], headers=bearer(person["access_token"]))
    assert png.status == 200 and png.content_type == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.body)))
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    text = decoded[0].text
    assert text == code["code"]

    async with EventStream(idapp.runner.url, person["access_token"]) as events:
        resp = await scan(idapp, kiosk, code=text)
        assert resp.status == 200, resp.body
        result = resp.json()
        assert set(result) == {"scan_id", "subject_type", "name", "level", "preauthorized_items"}
        assert result["subject_type"] == "person" and result["name"] == "林**" and result["level"] == "L2"
        scanned = await events.next("code.scanned")
        assert scanned["by"] == "天河区政务服务中心 1 号自助终端" and "天河区" in scanned["location"]

        resp = await idapp.api.post(f"/api/v1/scans/{result['scan_id']}/requests",
                                    {"purpose": "办理居住证", "items": ["identity:name", "identity:id_number"]},
                                    headers=bearer(kiosk))
        assert resp.status == 201, resp.body
        consent = resp.json()
        assert consent["state"] == "pending"
        requested = await events.next("consent.requested")
        assert requested["consent_id"] == consent["id"] and requested["purpose"] == "办理居住证"

    # before the holder decides, the kiosk sees no data
    waiting = await idapp.api.get(f"/api/v1/consents/{consent['id']}", headers=bearer(kiosk))
    assert waiting.json()["state"] == "pending" and waiting.json()["values"] == {}
    pending = (await idapp.api.get("/api/v1/consents?state=pending", headers=bearer(person["access_token"]))).json()
    assert [c["id"] for c in pending["items"]] == [consent["id"]]
    # approve item by item: the name only
    approved = await idapp.api.post(f"/api/v1/consents/{consent['id']}/approve", {"items": ["identity:name"]},
                                    headers=bearer(person["access_token"]))
    assert approved.status == 200 and approved.json()["state"] == "partially_approved"
    got = (await idapp.api.get(f"/api/v1/consents/{consent['id']}", headers=bearer(kiosk))).json()
    assert got["values"] == {"identity:name": "林码主"}
    assert "identity:id_number" not in str(got["values"])
    # the code was used once: replaying it fails
    assert_problem(await scan(idapp, kiosk, code=text), 409, "code_already_used")
    # the holder's 用码记录 and audit trail show it
    history = await wait_history(idapp, person)
    assert history[0]["scan_id"] == result["scan_id"] and history[0]["purpose"] == "办理居住证"
    activity = (await idapp.api.get("/api/v1/me/activity", headers=bearer(person["access_token"]))).json()
    actions = [e["action"] for e in activity["items"]]
    assert {"consent.requested", "consent.partially_approved", "consent.disclosed"} <= set(actions)


async def test_code_size_fits_qr_version_10_at_level_m(idapp):
    person = await holder(idapp)
    plain = (await get_code(idapp, person))["code"]
    scoped = (await get_code(idapp, person, "?items=identity:name&items=identity:id_number&items=identity:phone"))
    for text in (plain, scoped["code"]):
        _, version = qr_matrix(text)
        assert version <= 10, (len(text), version)
    assert len(plain) == 147 and qr_matrix(plain)[1] == 6


async def test_preauthorised_items_need_no_second_confirmation(idapp, kiosk):
    person = await holder(idapp, "许预授")
    code = await get_code(idapp, person, "?items=identity:name")
    assert code["preauthorized_items"] == ["identity:name"]
    result = (await scan(idapp, kiosk, code=code["code"])).json()
    assert result["preauthorized_items"] == ["identity:name"]
    consent = (await idapp.api.post(f"/api/v1/scans/{result['scan_id']}/requests",
                                    {"purpose": "取号", "items": ["identity:name"]}, headers=bearer(kiosk))).json()
    assert consent["state"] == "approved"
    got = (await idapp.api.get(f"/api/v1/consents/{consent['id']}", headers=bearer(kiosk))).json()
    assert got["values"] == {"identity:name": "许预授"}


async def test_short_code_for_manual_entry(idapp, kiosk):
    person = await holder(idapp)
    code = await get_code(idapp, person)
    resp = await scan(idapp, kiosk, short_code=code["short_code"])
    assert resp.status == 200 and resp.json()["subject_type"] == "person"
    assert_problem(await scan(idapp, kiosk, code=code["code"]), 409, "code_already_used")  # same code
    assert_problem(await scan(idapp, kiosk, short_code="00000000"), 422, "code_unknown")


async def test_bad_codes(idapp, kiosk):
    person = await holder(idapp)
    text = (await get_code(idapp, person))["code"]
    keys: CodeKeys = idapp.ctx.codes.keys
    payload, _, _ = parse(text)
    middle = len(text) // 2
    tampered = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1:]
    other_keys = CodeKeys([ec.generate_private_key(ec.SECP256R1())])
    cases = [
        ("garbage", {"code": "hello world"}, 400, "code_malformed"),
        ("not base45", {"code": "SA1:abc~~~"}, 400, "code_malformed"),
        ("truncated", {"code": text[:-10]}, 400, "code_malformed"),
        ("tampered", {"code": tampered}, 422, "code_invalid_signature"),
        ("expired", {"code": keys.sign(CodePayload(PERSON, keys.signing_kid, int(time.time()) - 60, payload.ref))},
         422, "code_expired"),
        ("unknown key", {"code": other_keys.sign(CodePayload(PERSON, other_keys.signing_kid,
                                                             int(time.time()) + 60, os.urandom(16)))},
         422, "code_unknown_key"),
        ("never issued", {"code": keys.sign(CodePayload(PERSON, keys.signing_kid, int(time.time()) + 60,
                                                        os.urandom(16)))}, 422, "code_unknown"),
        ("both", {"code": text, "short_code": "12345678"}, 400, "validation_failed"),
        ("neither", {}, 400, "validation_failed"),
        ("oversized", {"code": "A" * 5000}, 400, "validation_failed"),
        ("wrong type", {"code": 12345}, 400, "validation_failed"),
    ]
    for what, body, status, code in cases:
        assert_problem(await scan(idapp, kiosk, **body), status, code), what
    # none of these used the real code up
    assert (await scan(idapp, kiosk, code=text)).status == 200


async def test_revoke_all_invalidates_outstanding_codes_at_once(idapp, kiosk):
    person = await holder(idapp)
    first, second = await get_code(idapp, person), await get_code(idapp, person)
    resp = await idapp.api.post("/api/v1/codes/revoke-all", headers=bearer(person["access_token"]))
    assert resp.status == 200
    for code in (first, second):
        assert_problem(await scan(idapp, kiosk, code=code["code"]), 422, "code_revoked")
    fresh = await get_code(idapp, person)
    assert (await scan(idapp, kiosk, code=fresh["code"])).status == 200


async def test_scanning_needs_a_registered_active_device_or_a_clerk(idapp, kiosk):
    person = await holder(idapp)
    device = idapp.ctx.demo.devices[0]
    # unregistered device: its assertion is refused
    resp = await idapp.api.post("/api/v1/devices/token",
                                {"assertion": device_assertion("no-such-kiosk", device.private_key_pem)})
    assert_problem(resp, 401, "device_unknown")
    # assertion problems
    for bad in (device_assertion(device.device_id, device.private_key_pem, audience="other"),
                device_assertion(device.device_id, device.private_key_pem, lifetime=3600),
                device_assertion(device.device_id, device.private_key_pem, iat=int(time.time()) - 1000,
                                 exp=int(time.time()) - 900)):
        assert_problem(await idapp.api.post("/api/v1/devices/token", {"assertion": bad}), 401,
                       "device_assertion_invalid")
    once = device_assertion(device.device_id, device.private_key_pem)
    assert (await idapp.api.post("/api/v1/devices/token", {"assertion": once})).status == 200
    assert_problem(await idapp.api.post("/api/v1/devices/token", {"assertion": once}), 401,
                   "device_assertion_replayed")
    # a person's token cannot scan
    code = await get_code(idapp, person)
    assert_problem(await scan(idapp, person["access_token"], code=code["code"]), 401, "token_wrong_audience")
    # a clerk at a window can; other staff cannot
    clerk = await staff_token(idapp.api, demo_staff(idapp.ctx, "chuangkou.th"))
    ok = await scan(idapp, clerk, code=code["code"])
    assert ok.status == 200
    intake = await staff_token(idapp.api, demo_staff(idapp.ctx, "gaj.shouli"))
    assert_problem(await scan(idapp, intake, code=(await get_code(idapp, person))["code"]), 403, "role_missing")


async def test_disabled_device_is_refused_at_once(backends, tmp_path):
    from tests.support import start_app, stop_app

    running = await start_app(backends)
    try:
        api = running.api
        admin = await staff_token(api, demo_staff(running.ctx, "admin"))
        key_path = tmp_path / "kiosk.pem"
        write_ec_key(key_path)
        from server.keys import public_pem_from_private

        pem = key_path.read_text()
        resp = await api.post("/api/v1/admin/devices", {
            "device_id": "kiosk-test-02", "name": "测试终端", "location": "测试大厅", "department": "gz-hall-tianhe",
            "scopes": ["scan", "consent"], "items": ["identity:name"], "public_key_pem": public_pem_from_private(pem)},
            headers=bearer(admin))
        assert resp.status == 201, resp.body
        token = (await api.post("/api/v1/devices/token",
                                {"assertion": device_assertion("kiosk-test-02", pem)})).json()["access_token"]
        person = await holder(running)
        result = (await scan(running, token, code=(await get_code(running, person))["code"])).json()
        # a kiosk asking for items outside its allowed scopes
        body = assert_problem(await api.post(f"/api/v1/scans/{result['scan_id']}/requests",
                                             {"purpose": "办事", "items": ["identity:name", "identity:id_number"]},
                                             headers=bearer(token)), 403, "item_not_allowed")
        assert body["items"] == ["identity:id_number"]
        # disabled: the token already issued stops working, and so would a scan
        assert (await api.post("/api/v1/admin/devices/kiosk-test-02/disable", headers=bearer(admin))).status == 200
        assert_problem(await scan(running, token, code=(await get_code(running, person))["code"]), 401,
                       "token_revoked")
        assert_problem(await api.post("/api/v1/devices/token", {"assertion": device_assertion("kiosk-test-02", pem)}),
                       403, "device_disabled")
        # the scan itself checks the device too (a token minted before the cache saw the change)
        fresh, _ = running.ctx.sessions.access("device:kiosk-test-02", "kiosk", 0)
        assert_problem(await scan(running, fresh, code=(await get_code(running, person))["code"]), 403,
                       "device_disabled")
        # registering needs the admin role, and a valid key
        clerk = await staff_token(api, demo_staff(running.ctx, "chuangkou.th"))
        assert_problem(await api.post("/api/v1/admin/devices", {
            "device_id": "kiosk-x", "name": "终端", "location": "大厅", "department": "d1", "scopes": ["scan"],
            "public_key_pem": public_pem_from_private(pem)}, headers=bearer(clerk)), 403, "role_missing")
        assert_problem(await api.post("/api/v1/admin/devices", {
            "device_id": "kiosk-y", "name": "终端", "location": "大厅", "department": "d1", "scopes": ["scan"],
            "public_key_pem": "-----BEGIN PUBLIC KEY-----\n" + "A" * 100 + "\n-----END PUBLIC KEY-----"},
            headers=bearer(admin)), 400, "device_key_invalid")
    finally:
        await stop_app(running)


async def test_consent_by_someone_else_expired_and_rejected(idapp, kiosk):
    person, other = await holder(idapp), await holder(idapp, "路人甲")
    result = (await scan(idapp, kiosk, code=(await get_code(idapp, person))["code"])).json()
    url = f"/api/v1/scans/{result['scan_id']}/requests"
    consent = (await idapp.api.post(url, {"purpose": "核验身份", "items": ["identity:name"]},
                                    headers=bearer(kiosk))).json()
    assert_problem(await idapp.api.post(f"/api/v1/consents/{consent['id']}/approve", {},
                                        headers=bearer(other["access_token"])), 404, "consent_not_found")
    assert_problem(await idapp.api.post(f"/api/v1/consents/{consent['id']}/approve", {"items": ["identity:phone"]},
                                        headers=bearer(person["access_token"])), 400, "item_not_requested")
    rejected = await idapp.api.post(f"/api/v1/consents/{consent['id']}/reject", {},
                                    headers=bearer(person["access_token"]))
    assert rejected.json()["state"] == "rejected"
    body = assert_problem(await idapp.api.post(f"/api/v1/consents/{consent['id']}/approve", {},
                                               headers=bearer(person["access_token"])), 409, "consent_not_pending")
    assert body["state"] == "rejected"
    assert (await idapp.api.get(f"/api/v1/consents/{consent['id']}", headers=bearer(kiosk))).json()["values"] == {}
    # expired
    second = (await idapp.api.post(url, {"purpose": "核验身份", "items": ["identity:gender"]},
                                   headers=bearer(kiosk))).json()
    await idapp.ctx.db.consents.update_one({"_id": second["id"]}, {"$set": {"expires_at": 1}})
    assert_problem(await idapp.api.post(f"/api/v1/consents/{second['id']}/approve", {},
                                        headers=bearer(person["access_token"])), 409, "consent_expired")
    # another kiosk's scan, unknown items, bad bodies
    assert_problem(await idapp.api.post(f"/api/v1/scans/s{'0' * 24}/requests", {"purpose": "核验", "items":
                                        ["identity:name"]}, headers=bearer(kiosk)), 404, "scan_not_found")
    assert_problem(await idapp.api.post(url, {"purpose": "核验", "items": ["identity:soul"]}, headers=bearer(kiosk)),
                   400, "item_unknown")
    assert_problem(await idapp.api.post(url, {"purpose": "x" * 201, "items": ["identity:name"]},
                                        headers=bearer(kiosk)), 400, "validation_failed")


async def test_offline_verification_with_cached_keys_then_sync(idapp, kiosk):
    person = await holder(idapp)
    text = (await get_code(idapp, person))["code"]
    jwks = (await idapp.api.get("/api/v1/codes/keys")).json()
    payload = verify_offline(text, jwks)
    assert payload.subject_type == PERSON
    with pytest.raises(ValueError):
        verify_offline(text[:20] + ("B" if text[20] != "B" else "C") + text[21:], jwks)
    with pytest.raises(ValueError):
        verify_offline(text, jwks, now=time.time() + 3600)
    scanned_at = int(time.time())
    sync = await idapp.api.post("/api/v1/scans/offline", {"scans": [{"code": text, "scanned_at": scanned_at}]},
                                headers=bearer(kiosk))
    assert sync.status == 200 and sync.json()["results"][0]["code_ok"] is True
    again = await idapp.api.post("/api/v1/scans/offline", {"scans": [{"code": text, "scanned_at": scanned_at}]},
                                 headers=bearer(kiosk))
    assert again.json()["results"][0] == {"code_ok": False, "scan_id": None, "error": "code_already_used"}
    history = await wait_history(idapp, person)
    assert history[0]["mode"] == "offline"


async def test_png_only_for_the_codes_owner(idapp):
    person, other = await holder(idapp), await holder(idapp, "旁观者")
    code = await get_code(idapp, person)
    assert_problem(await idapp.api.get(f"/api/v1/codes/person/png?c={quote(code['code'], safe='')}",
                                       headers=bearer(other["access_token"])), 404, "code_not_found")
    assert_problem(await idapp.api.get("/api/v1/codes/person/png?c=SA1%3AAAAAAAAAAAAA",
                                       headers=bearer(person["access_token"])), 400, "code_malformed")


async def test_a_code_needs_real_name_and_known_items(idapp):
    from tests.support import sms_login

    l1 = await sms_login(idapp.api)
    body = assert_problem(await idapp.api.get("/api/v1/codes/person", headers=bearer(l1["access_token"])),
                          403, "level_too_low")
    assert body["required_level"] == 2
    person = await holder(idapp)
    assert_problem(await idapp.api.get("/api/v1/codes/person?items=identity:soul",
                                       headers=bearer(person["access_token"])), 400, "item_unknown")
    assert_problem(await idapp.api.get("/api/v1/codes/person?items=enterprise:name",
                                       headers=bearer(person["access_token"])), 400, "item_unknown")


async def test_enterprise_code_for_agents_with_the_code_scope(idapp, kiosk):
    rep = await new_resident(idapp.ctx, name="何法人")
    admin = await verified_person(idapp.api, rep)
    reg = await new_enterprise(idapp.ctx, rep, name="广州码上科技有限公司")
    ent = (await idapp.api.post("/api/v1/enterprises", {"uscc": reg.uscc, "name": reg.name},
                                headers=bearer(admin["access_token"]))).json()
    resp = await idapp.api.get(f"/api/v1/codes/enterprise/{ent['id']}", headers=bearer(admin["access_token"]))
    assert resp.status == 200 and resp.json()["subject_type"] == "enterprise"
    result = (await scan(idapp, kiosk, code=resp.json()["code"])).json()
    assert result == {"scan_id": result["scan_id"], "subject_type": "enterprise", "name": "广州码上科技有限公司",
                      "level": "verified", "preauthorized_items": []}
    stranger = await holder(idapp, "外人")
    assert_problem(await idapp.api.get(f"/api/v1/codes/enterprise/{ent['id']}",
                                       headers=bearer(stranger["access_token"])), 404, "enterprise_not_found")


async def test_staff_login_failures_lock_the_account(backends):
    from tests.support import start_app, stop_app

    running = await start_app(backends)
    try:
        api = running.api
        staff = demo_staff(running.ctx, "gaj.shenhe")
        import pyotp

        good = pyotp.TOTP(staff.totp_secret).now()
        body = assert_problem(await api.post("/api/v1/staff/login", {"username": staff.username, "password": "wrong",
                                                                     "totp": good}), 401, "staff_login_failed")
        assert body["remaining_tries"] == 4
        assert_problem(await api.post("/api/v1/staff/login", {"username": staff.username, "password": staff.password,
                                                              "totp": "000000" if good != "000000" else "111111"}),
                       401, "staff_login_failed")
        assert_problem(await api.post("/api/v1/staff/login", {"username": "nobody", "password": "x", "totp": good}),
                       401, "staff_login_failed")
        ok = await api.post("/api/v1/staff/login", {"username": staff.username, "password": staff.password,
                                                    "totp": good})
        assert ok.status == 200 and ok.json()["staff"]["department"] == "gz-psb"
        # the same one-time code cannot be used twice
        assert_problem(await api.post("/api/v1/staff/login", {"username": staff.username,
                                                              "password": staff.password, "totp": good}),
                       401, "staff_login_failed")
        # Ten simultaneous guesses after that one failure: only four more are checked.
        guesses = await asyncio.gather(*(api.post("/api/v1/staff/login", {"username": staff.username,
                                                                          "password": "bad", "totp": good})
                                         for _ in range(10)))
        assert sorted(r.status for r in guesses) == [401] * 4 + [429] * 6, [r.status for r in guesses]
        resp = await api.post("/api/v1/staff/login", {"username": staff.username, "password": staff.password,
                                                      "totp": pyotp.TOTP(staff.totp_secret).now()})
        assert_problem(resp, 429, "staff_locked")
        assert_problem(await api.post("/api/v1/staff/login", {"username": staff.username, "password": "x",
                                                              "totp": "12ab56"}), 400, "validation_failed")
    finally:
        await stop_app(running)


async def test_web_and_worker_processes_split_the_work(backends):
    """A web-only app records nothing itself; a worker-only app (same database) does."""
    from tests.support import start_app, stop_app

    web = await start_app(backends, overrides={"process": {"role": "web"}})
    settings = web.runner.settings
    worker_env = {"SUPERAPP_MONGODB__DATABASE": settings.mongodb.database,
                  "SUPERAPP_REDIS__KEY_PREFIX": settings.redis.key_prefix, "SUPERAPP_PROCESS__ROLE": "worker"}
    from superapp.launcher import Runner
    from tests.support import make_settings

    worker = Runner(make_settings(backends, environ=worker_env))
    try:
        token = await kiosk_token(web.api, web.ctx.demo.devices[0])
        person = await holder(web)
        assert (await scan(web, token, code=(await get_code(web, person))["code"])).status == 200
        await asyncio.sleep(0.7)
        assert await web.ctx.db.code_scans.count_documents({}) == 0  # the web process does not record
        await worker.start()
        assert worker.server is None  # no HTTP in a worker
        assert len(await wait_history(web, person)) == 1
    finally:
        await worker.stop()
        await stop_app(web)
