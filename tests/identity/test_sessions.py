"""Access and refresh tokens through the HTTP API: rotation, reuse detection, logout,
and every kind of forged or misdirected token (RFC 8725)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from identity.sessions.tokens import AccessTokens, load_signing_keys
from tests.support import assert_problem, bearer, sms_login, start_app, stop_app, wechat_login, write_ec_key

pytestmark = pytest.mark.redis_modes  # Redis-dependent rules: also on a Redis Cluster


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    h = b64(json.dumps(header).encode())
    p = b64(json.dumps(payload).encode())
    return f"{h}.{p}.{b64(signature)}"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def refresh(api, token: str):
    return await api.post("/api/v1/auth/refresh", {"refresh_token": token})


async def test_refresh_rotates_and_keeps_the_level(idapp):
    login = await sms_login(idapp.api)
    resp = await refresh(idapp.api, login["refresh_token"])
    assert resp.status == 200, resp.body
    body = resp.json()
    assert body["refresh_token"] != login["refresh_token"]
    assert body["refresh_expires_at"] == login["refresh_expires_at"]  # absolute expiry of the family
    assert claims_of(body["access_token"])["lvl"] == 1
    assert (await idapp.api.get("/api/v1/me", headers=bearer(body["access_token"]))).status == 200


async def test_reuse_of_a_rotated_token_revokes_the_whole_family(backends):
    running = await start_app(backends, overrides={"tokens": {"refresh_reuse_grace_seconds": 0}})
    try:
        api = running.api
        login = await sms_login(api)
        first = (await refresh(api, login["refresh_token"])).json()
        stolen = await refresh(api, login["refresh_token"])  # an attacker replays the old token
        body = assert_problem(stolen, 401, "refresh_token_reused")
        assert "person_id" in body
        # the legitimate successor is revoked too: the thief and the owner both must log in again
        assert_problem(await refresh(api, first["refresh_token"]), 401, "refresh_token_revoked")
    finally:
        await stop_app(running)


async def test_concurrent_refreshes_within_the_grace_window_are_not_theft(idapp):
    login = await sms_login(idapp.api)
    a = await refresh(idapp.api, login["refresh_token"])
    b = await refresh(idapp.api, login["refresh_token"])
    assert a.status == 200 and b.status == 200
    assert a.json()["refresh_token"] != b.json()["refresh_token"]


async def test_expired_and_unknown_refresh_tokens(idapp):
    login = await sms_login(idapp.api)
    h = hashlib.sha256(login["refresh_token"].encode()).hexdigest()
    await idapp.ctx.db.refresh_tokens.update_one({"_id": h}, {"$set": {"expires_at": int(time.time() * 1000) - 1}})
    assert_problem(await refresh(idapp.api, login["refresh_token"]), 401, "refresh_token_expired")
    assert_problem(await refresh(idapp.api, "x" * 43), 401, "refresh_token_invalid")
    assert_problem(await refresh(idapp.api, "short"), 400, "validation_failed")
    assert_problem(await idapp.api.post("/api/v1/auth/refresh", {}), 400, "validation_failed")


async def test_logout_revokes_this_session_at_once(idapp):
    login = await sms_login(idapp.api)
    resp = await idapp.api.post("/api/v1/auth/logout", {"refresh_token": login["refresh_token"]},
                                headers=bearer(login["access_token"]))
    assert resp.status == 204 and resp.body == b""
    assert_problem(await idapp.api.get("/api/v1/me", headers=bearer(login["access_token"])), 401, "token_revoked")
    assert_problem(await refresh(idapp.api, login["refresh_token"]), 401, "refresh_token_revoked")


async def test_logout_all_voids_every_token_already_issued(idapp):
    import asyncio

    first = await sms_login(idapp.api)
    await asyncio.sleep(1.1)  # resend interval
    second = await sms_login(idapp.api, first["phone"], channel="portal")
    resp = await idapp.api.post("/api/v1/auth/logout-all", headers=bearer(second["access_token"]))
    assert resp.status == 204
    for login in (first, second):
        assert_problem(await idapp.api.get("/api/v1/me", headers=bearer(login["access_token"])), 401, "token_revoked")
        assert_problem(await refresh(idapp.api, login["refresh_token"]), 401, "refresh_token_revoked")
    await asyncio.sleep(1.1)
    fresh = await sms_login(idapp.api, first["phone"])  # logging in again works at once
    assert (await idapp.api.get("/api/v1/me", headers=bearer(fresh["access_token"]))).status == 200


async def test_forged_and_misdirected_access_tokens_are_refused(idapp):
    login = await sms_login(idapp.api)
    good = login["access_token"]
    header = jwt.get_unverified_header(good)
    payload = claims_of(good)
    key = idapp.ctx.sessions.tokens.keys[0]
    public_pem = key.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = lambda h, p: f"{b64(json.dumps(h).encode())}.{b64(json.dumps(p).encode())}".encode()  # noqa: E731

    hs = {"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}
    hs_token = forge(hs, payload, hmac.new(public_pem, signing_input(hs, payload), hashlib.sha256).digest())
    cases = {
        "none": forge({"alg": "none", "typ": "at+jwt", "kid": header["kid"]}, payload),
        "hs256 with the public key": hs_token,
        "unknown kid": jwt.encode(payload, key.private, algorithm="ES256", headers={"kid": "nope", "typ": "at+jwt"}),
        "no typ": jwt.encode(payload, key.private, algorithm="ES256", headers={"kid": key.kid}),
        "expired": jwt.encode({**payload, "exp": int(time.time()) - 60}, key.private, algorithm="ES256",
                              headers={"kid": key.kid, "typ": "at+jwt"}),
        "wrong issuer": jwt.encode({**payload, "iss": "evil"}, key.private, algorithm="ES256",
                                   headers={"kid": key.kid, "typ": "at+jwt"}),
        "no jti": jwt.encode({k: v for k, v in payload.items() if k != "jti"}, key.private, algorithm="ES256",
                             headers={"kid": key.kid, "typ": "at+jwt"}),
        "tampered subject": ".".join([good.split(".")[0], b64(json.dumps({**payload, "sub": "pother"}).encode()),
                                      good.split(".")[2]]),
        "garbage": "not-a-token",
    }
    for what, token in cases.items():
        resp = await idapp.api.get("/api/v1/me", headers=bearer(token))
        body = assert_problem(resp, 401)
        assert body["code"] in ("token_invalid", "token_expired"), (what, body)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer"), what
    assert_problem(await idapp.api.get("/api/v1/me"), 401, "token_missing")
    assert_problem(await idapp.api.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401, "token_missing")
    staff_like = jwt.encode({**payload, "aud": "staff"}, key.private, algorithm="ES256",
                            headers={"kid": key.kid, "typ": "at+jwt"})
    assert_problem(await idapp.api.get("/api/v1/me", headers=bearer(staff_like)), 401, "token_wrong_audience")


async def test_level_too_low_names_the_level_needed(idapp):
    wx = await wechat_login(idapp.api, "lvl" + str(time.time_ns()))
    body = assert_problem(await idapp.api.post("/api/v1/me/realname", {"name": "李晓明", "id_number": "440106199003153018"},
                                               headers=bearer(wx["access_token"])), 403, "level_too_low")
    assert body["required_level"] == 1 and "L1" in body["detail"]
    sms = await sms_login(idapp.api)
    body = assert_problem(await idapp.api.post("/api/v1/me/face", {"evidence": "dev-face-pass"},
                                               headers=bearer(sms["access_token"])), 403, "level_too_low")
    assert body["required_level"] == 2 and "L2" in body["detail"]


async def test_jwks_publishes_the_keys_that_verify_our_tokens(idapp):
    login = await sms_login(idapp.api)
    resp = await idapp.api.get("/.well-known/jwks.json")
    assert resp.status == 200
    jwks = resp.json()
    kid = jwt.get_unverified_header(login["access_token"])["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert jwk["alg"] == "ES256" and "d" not in jwk  # public only
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(login["access_token"], public, algorithms=["ES256"], audience="h5")
    assert claims["sub"] == login["person"]["id"]


async def test_rotation_keeps_old_keys_verifying(backends, tmp_path):
    old, new = write_ec_key(tmp_path / "old.pem"), write_ec_key(tmp_path / "new.pem")
    running = await start_app(backends, overrides={"tokens": {"signing_key_files": [new, old]}})
    try:
        old_issuer = AccessTokens(load_signing_keys([tmp_path / "old.pem"]), "superapp", 900)
        login = await sms_login(running.api)
        token, _ = old_issuer.issue(login["person"]["id"], "h5", 1)  # minted before the rotation
        assert (await running.api.get("/api/v1/me", headers=bearer(token))).status == 200
        kids = [k["kid"] for k in (await running.api.get("/.well-known/jwks.json")).json()["keys"]]
        assert len(kids) == 2
        assert jwt.get_unverified_header(login["access_token"])["kid"] == kids[0]  # the new key signs
    finally:
        await stop_app(running)


@pytest.mark.parametrize("path", ["/api/v1/auth/logout", "/api/v1/auth/logout-all"])
async def test_logout_needs_a_token(idapp, path):
    assert_problem(await idapp.api.post(path, {}), 401, "token_missing")
