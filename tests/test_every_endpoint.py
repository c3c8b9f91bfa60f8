"""Every registered endpoint answers bad input with a clear 4xx problem+json:
malformed JSON, wrong JSON type, oversized body, missing or wrong-channel token.
New endpoints are covered automatically: the routes are read from the app."""
from __future__ import annotations

import pytest

from server.http.openapi import handler_operations, path_template
from tests.support import (assert_problem, bearer, demo_staff, issuer_client, issuer_token, kiosk_token,
                           new_resident, staff_token, verified_person, wechat_login)

# Well-formed ids of things that do not exist (path patterns reject malformed ones with 404).
SAMPLE_PATH_VALUES = {"enterprise_id": "e" + "0" * 24, "agent_id": "g" + "0" * 24, "consent_id": "c" + "0" * 24,
                      "scan_id": "s" + "0" * 24, "device_id": "no-such-device",
                      "cert_id": "1.2.156.3005.2.11100000000013338W001.11440100007012346M.2026000000000001.001.0",
                      "token": "x" * 32, "action": "revoke", "code": "91350100M000100Y43",
                      "app_id": "a" + "0" * 24, "upload_id": "f" + "0" * 24, "rect_id": "r" + "0" * 24,
                      "ticket_id": "t" + "0" * 24, "ticket_token": "t" + "0" * 24, "request_id": "12345-20261201-000001", "fmt": "json",
                      "hall_id": "gz-hall-tianhe", "appt_id": "p" + "0" * 24, "number_id": "n" + "0" * 24,
                      "window": "1", "grant_id": "g" + "0" * 24, "policy_code": "gz-none-2026",
                      "claim_id": "k" + "0" * 24, "claim_action": "reject", "order_id": "po" + "0" * 24}
ALTERNATIVES = {"action": ["revoke", "submit", "accept", "approve", "serve"]}
CHANNELS = ("h5", "miniapp", "kiosk", "staff", "issuer")


def operations(app):
    for spec in app.runner.app.api_routes:
        template, params = path_template(spec.regex.pattern)
        path = template
        path = path.replace("/?", "")
        for p in params:
            choices = ALTERNATIVES.get(p, [SAMPLE_PATH_VALUES.get(p, "nonexistent")])
            path = next((path.replace("{" + p + "}", c) for c in choices
                         if spec.regex.match(path.replace("{" + p + "}", c).replace("{", "x"))),
                        path.replace("{" + p + "}", choices[0]))
        assert spec.regex.match(path), (path, spec.regex.pattern)  # the sample really reaches the handler
        for method, op in handler_operations(spec.handler_class).items():
            yield method.upper(), path, op


@pytest.fixture(scope="module")
async def tokens(idapp):
    resident = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, resident)
    face = await idapp.api.post("/api/v1/me/face", {"evidence": "dev-face-pass"},
                                headers=bearer(person["access_token"]))
    wx = await wechat_login(idapp.api, "every-endpoint")
    return {"h5": face.json()["access_token"], "miniapp": wx["access_token"],
            "kiosk": await kiosk_token(idapp.api, idapp.ctx.demo.devices[0]),
            "staff": await staff_token(idapp.api, demo_staff(idapp.ctx, "admin")),
            "issuer": await issuer_token(idapp.api, issuer_client(idapp.ctx))}


def token_for(op, tokens):
    if op.auth is None:
        return {}
    for channel in CHANNELS:
        if channel in op.auth:
            return bearer(tokens[channel])
    raise AssertionError(f"no test token for channels {sorted(op.auth)}")


async def test_every_body_endpoint_rejects_malformed_wrong_type_and_oversized(idapp, tokens):
    checked = 0
    for method, path, op in operations(idapp):
        if op is None or op.body is None:
            continue
        h = {**token_for(op, tokens), "Content-Type": "application/json"}
        assert_problem(await idapp.api.request(method, path, body="{not json", headers=h), 400, "malformed_json")
        assert_problem(await idapp.api.request(method, path, body="[1, 2]", headers=h), 400, "validation_failed")
        assert_problem(await idapp.api.request(method, path, body="x" * 3_000_000, headers=h), 413,
                       "payload_too_large")
        checked += 1
    assert checked >= 8


async def test_every_authenticated_endpoint_needs_a_token_of_its_channel(idapp, tokens):
    checked = 0
    for method, path, op in operations(idapp):
        if op is None or op.auth is None:
            continue
        assert_problem(await idapp.api.request(method, path, json={}), 401, "token_missing")
        wrong = [c for c in CHANNELS if c not in op.auth]
        if wrong:
            assert_problem(await idapp.api.request(method, path, json={}, headers=bearer(tokens[wrong[0]])),
                           401, "token_wrong_audience")
        checked += 1
    assert checked >= 8
