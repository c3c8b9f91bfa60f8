"""Regression tests for what an attacker or a careless client found (issue 15): numbers out
of range, keep-alive after 404/405, guessing short codes and share tokens, over-limit
chunked bodies, the in-flight count, what the OpenAPI says, control characters, access
tokens of a revoked login family, and share links on another port."""
from __future__ import annotations

import asyncio
import json
import secrets
import uuid

import jwt

from tests.support import (assert_problem, bearer, kiosk_token, new_resident, sms_login, start_app, stop_app,
                           verified_person)

RESIDENCE = "440100-GA-0012"
TOO_BIG = 9223372036854775808  # 2^63: not an 8-byte integer


# -- 1. numbers out of range --------------------------------------------------------------------

async def test_integers_out_of_range_are_a_400_naming_the_field(idapp):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="大数字"))
    h = bearer(person["access_token"])
    resp = await idapp.api.post("/api/v1/applications", {"matter": RESIDENCE, "form": {"x": 9007199254740993}},
                                headers={**h, "Idempotency-Key": uuid.uuid4().hex})
    body = assert_problem(resp, 400)
    assert body["errors"][0]["field"] == "form.x", body
    for path in ("/api/v1/wallet/usage", "/api/v1/me/activity", "/api/v1/codes/history"):
        body = assert_problem(await idapp.api.get(f"{path}?before={TOO_BIG}", headers=h), 400)
        assert [e["field"] for e in body["errors"]] == ["before"], (path, body)
        body = assert_problem(await idapp.api.get(f"{path}?limit={TOO_BIG}", headers=h), 400)
        assert [e["field"] for e in body["errors"]] == ["limit"], (path, body)
    resp = await idapp.api.post(f"/api/v1/applications/a{'0' * 24}/withdraw", {"version": 18446744073709551616},
                                headers=h)
    body = assert_problem(resp, 400)
    assert [e["field"] for e in body["errors"]] == ["version"]
    resp = await idapp.api.post("/api/v1/applications/a" + "0" * 24 + "/rating",
                                {"score": 5, "indicators": {"整体满意度": TOO_BIG}}, headers=h)
    assert assert_problem(resp, 400)["errors"][0]["field"].startswith("indicators")


# -- 2. keep-alive after an unknown route or method ------------------------------------------------

async def _two_requests_on_one_connection(port: int, first: str) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        answers = []
        for req in (first, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"):
            writer.write(req.encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await asyncio.wait_for(reader.readexactly(length), 5)
            answers.append(head)
        return answers
    finally:
        writer.close()


async def test_a_404_or_405_keeps_the_connection_usable(app):
    port = app.runner.port
    for first in ("GET /api/v1/nope HTTP/1.1\r\nHost: x\r\n\r\n",
                  "TRACE /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                  "POST /api/v1/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: 2\r\n\r\n{}"):
        heads = await _two_requests_on_one_connection(port, first)
        assert heads[0].split(b" ")[1] in (b"404", b"405"), heads[0]
        assert b"connection: close" not in heads[0].lower()
        assert heads[1].startswith(b"HTTP/1.1 200"), heads[1]


# -- 3. guessing -----------------------------------------------------------------------------------

async def test_guessing_short_codes_is_slowed_down_per_device_and_hall(backends, caplog):
    app = await start_app(backends)
    try:
        device = app.ctx.demo.devices[0]
        kiosk = await kiosk_token(app.api, device)
        person = await verified_person(app.api, await new_resident(app.ctx, name="短码主"))
        code = (await app.api.get("/api/v1/codes/person", headers=bearer(person["access_token"]))).json()
        assert (await app.api.post("/api/v1/scans", {"short_code": code["short_code"]},
                                   headers=bearer(kiosk))).status == 200  # a hit is served at once
        limit = app.ctx.settings.codes.short_code_misses_per_minute
        for _ in range(limit):
            resp = await app.api.post("/api/v1/scans", {"short_code": f"{secrets.randbelow(10**8):08d}"},
                                      headers=bearer(kiosk))
            assert_problem(resp, 422, "code_unknown")
        resp = await app.api.post("/api/v1/scans", {"short_code": f"{secrets.randbelow(10**8):08d}"},
                                  headers=bearer(kiosk))
        body = assert_problem(resp, 429, "short_code_attempts_exceeded")
        assert 1 <= int(resp.headers["Retry-After"]) <= 60 and body["retry_after"] >= 1
        assert any("short codes" in r.getMessage() and device.department in r.getMessage() for r in caplog.records)
        # the QR code path is not affected
        qr = (await app.api.get("/api/v1/codes/person", headers=bearer(person["access_token"]))).json()
        assert (await app.api.post("/api/v1/scans", {"code": qr["code"]}, headers=bearer(kiosk))).status == 200
    finally:
        await stop_app(app)


async def test_guessing_share_tokens_is_slowed_down(backends):
    app = await start_app(backends)
    try:
        limit = app.ctx.settings.wallet.share_misses_per_minute
        # Simultaneous guesses: each is counted before it is looked up, so exactly ``limit`` are.
        guesses = await asyncio.gather(*(app.api.get(f"/api/v1/verify/shares/{secrets.token_urlsafe(24)}")
                                         for _ in range(limit + 10)))
        assert sorted(r.status for r in guesses) == [404] * limit + [429] * 10
        for r in guesses:
            assert_problem(r, r.status, "share_not_found" if r.status == 404 else "share_attempts_exceeded")
        resp = await app.api.get(f"/api/v1/verify/shares/{secrets.token_urlsafe(24)}")
        assert_problem(resp, 429, "share_attempts_exceeded")
        assert int(resp.headers["Retry-After"]) >= 1
    finally:
        await stop_app(app)


# -- 4 and 5. over-limit chunked bodies, and the in-flight count ------------------------------------

async def _raw(port: int, data: bytes, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if not read:
            return b""
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


async def test_an_over_limit_chunked_body_gets_413_problem_json(app):
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"  # 1.25 MiB > 1 MiB
    answer = await _raw(app.runner.port, b"POST /api/v1/auth/sms/send HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/problem+json" in head and b"connection: close" in head.lower()
    assert json.loads(rest)["code"] == "payload_too_large"


async def test_every_way_a_request_ends_leaves_the_in_flight_count_at_zero(backends):
    app = await start_app(backends)
    try:
        port = app.runner.port
        await _raw(port, b"POST /api/v1/auth/sms/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 5000000\r\n\r\n")  # declared over the limit
        await _raw(port, b"POST /api/v1/auth/sms/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"pho", read=False)  # aborted mid-body
        chunk = b"y" * 500_000
        await _raw(port, b"POST /api/v1/auth/sms/send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n")
        await _raw(port, b"GET /api/v1/nope HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in range(100):
            if app.runner.app.inflight == 0:
                break
            await asyncio.sleep(0.05)
        assert app.runner.app.inflight == 0
    finally:
        await stop_app(app)


# -- 6. the OpenAPI document says what the server accepts -------------------------------------------

async def test_the_openapi_document_states_formats_and_requirements(app):
    doc = (await app.api.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    assert schemas["SmsSendIn"]["properties"]["phone"]["pattern"]
    assert schemas["SmsVerifyIn"]["properties"]["code"]["pattern"] == "^[0-9]{6}$"
    post = doc["paths"]["/api/v1/applications"]["post"]
    idem = next(p for p in post["parameters"] if p["name"] == "Idempotency-Key")
    assert idem["required"] is True and idem["schema"]["maxLength"] == 100
    items = next(p for p in doc["paths"]["/api/v1/codes/person"]["get"]["parameters"] if p["name"] == "items")
    assert "identity:name" in items["schema"]["items"]["enum"]
    assert not any(i.startswith("enterprise:") for i in items["schema"]["items"]["enum"])
    assert doc["paths"]["/api/v1/me"]["patch"]["requestBody"]["required"] is False
    assert doc["paths"]["/api/v1/codes/revoke-all"]["post"]["requestBody"]["required"] is False


# -- 7. control characters ------------------------------------------------------------------------

async def test_control_and_bidi_override_characters_are_refused(idapp):
    login = await sms_login(idapp.api)
    h = bearer(login["access_token"])
    for bad in ("ab\u0000cd", "ab\u202ecd", "ab\u0007", "a\u2066b"):
        body = assert_problem(await idapp.api.request("PATCH", "/api/v1/me", json={"nickname": bad}, headers=h), 400)
        assert body["errors"][0]["field"] == "nickname", body
    body = assert_problem(await idapp.api.post("/api/v1/me/realname", {"name": "张\u202e三", "id_number": "x" * 18},
                                               headers=h), 400)
    assert "name" in [e["field"] for e in body["errors"]]
    me = (await idapp.api.get("/api/v1/me", headers=h)).json()
    assert me["nickname"] is None


async def test_upload_file_names_are_kept_only_as_a_sanitised_display_value(idapp):
    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="传文件"))
    from urllib.parse import quote

    name = "../../etc/<b>合同</b>\r\n\u0000\u202e.pdf"
    resp = await idapp.api.request("POST", f"/api/v1/uploads?filename={quote(name)}",
                                   body=b"%PDF-1.4\n%%EOF\n",
                                   headers={**bearer(person["access_token"]), "Content-Type": "application/pdf"})
    assert resp.status == 201, resp.body
    shown = resp.json()["filename"]
    assert shown == "合同.pdf", shown


# -- 8. an access token of a revoked login family --------------------------------------------------

async def test_revoking_a_login_family_revokes_its_access_tokens_at_once(backends):
    app = await start_app(backends, overrides={"tokens": {"refresh_reuse_grace_seconds": 0}})
    try:
        login = await sms_login(app.api)
        rotated = (await app.api.post("/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]})).json()
        assert (await app.api.get("/api/v1/me", headers=bearer(rotated["access_token"]))).status == 200
        reused = await app.api.post("/api/v1/auth/refresh", {"refresh_token": login["refresh_token"]})
        assert_problem(reused, 401, "refresh_token_reused")
        for token in (rotated["access_token"], login["access_token"]):
            assert_problem(await app.api.get("/api/v1/me", headers=bearer(token)), 401, "token_revoked")
        other = await sms_login(app.api)  # another login of someone else is untouched
        assert (await app.api.get("/api/v1/me", headers=bearer(other["access_token"]))).status == 200
        assert jwt.decode(rotated["access_token"], options={"verify_signature": False})["fam"]
    finally:
        await stop_app(app)


# -- 9. share links follow the port in dev ---------------------------------------------------------

async def test_share_links_point_at_the_port_the_app_listens_on(app):
    assert app.runner.port != 8000
    assert app.ctx.wallet.public_base_url == f"http://127.0.0.1:{app.runner.port}"
