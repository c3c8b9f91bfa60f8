"""用户协议 and 隐私政策: shown before the first SMS, agreed to by version, on record, and
asked again when a new version comes out."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from server.config import ConfigError
from tests.support import (agreed, assert_problem, bearer, latest_sms_code, random_phone, send_sms, start_app,
                           stop_app)

ROOT = Path(__file__).resolve().parents[2]


def bumped(tmp_path: Path, privacy_version: str) -> Path:
    """A copy of the agreements with a new version of the privacy policy."""
    out = tmp_path / "agreements"
    shutil.copytree(ROOT / "config" / "agreements", out)
    p = out / "privacy.md"
    p.write_text(p.read_text(encoding="utf-8").replace("version: 2026.12", f"version: {privacy_version}"),
                 encoding="utf-8")
    return out


async def test_the_login_screen_gets_both_documents_with_their_versions(idapp):
    resp = await idapp.api.get("/api/v1/agreements")
    assert resp.status == 200
    items = resp.json()["items"]
    assert [d["kind"] for d in items] == ["user", "privacy"]
    assert [d["title"] for d in items] == ["用户协议", "隐私政策"]
    assert all(d["version"] and d["effective"] and len(d["text"]) > 200 for d in items)
    assert "个人信息保护法" in items[1]["text"]


async def test_no_sms_without_agreeing_and_only_to_the_current_versions(idapp):
    phone = random_phone()
    before = len((await idapp.api.get(f"/api/v1/dev/sms-outbox?phone={phone}")).json()["items"])
    body = assert_problem(await idapp.api.post("/api/v1/auth/sms/send", {"phone": phone}), 400, "agreement_required")
    assert body["errors"][0]["field"] == "agreements"
    current = await agreed(idapp.api)
    old = {**current, "privacy": "2020.01"}
    body = assert_problem(await idapp.api.post("/api/v1/auth/sms/send", {"phone": phone, "agreements": old}),
                          409, "agreement_outdated")
    assert body["current"] == current
    for bad in ({"user": current["user"]}, {**current, "privacy": "x" * 100}, {**current, "privacy": "<b>"},
                {**current, "user": 2026}, "yes"):
        assert_problem(await idapp.api.post("/api/v1/auth/sms/send", {"phone": phone, "agreements": bad}),
                       400, "validation_failed")
    assert len((await idapp.api.get(f"/api/v1/dev/sms-outbox?phone={phone}")).json()["items"]) == before
    assert await idapp.ctx.db.agreement_acceptances.count_documents(
        {"phone_bidx": idapp.ctx.pii.blind_index(phone, "phone")}) == 0


async def test_agreement_is_on_record_before_the_sms_and_in_the_trail_after_login(idapp):
    phone = random_phone()
    assert (await send_sms(idapp.api, phone)).status == 202
    record = await idapp.ctx.db.agreement_acceptances.find_one({"phone_bidx": idapp.ctx.pii.blind_index(phone, "phone")})
    assert record["versions"] == await agreed(idapp.api) and record["ip"] == "127.0.0.1"
    assert phone not in str(record)
    code = await latest_sms_code(idapp.api, phone)
    login = (await idapp.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code})).json()
    trail = (await idapp.api.get("/api/v1/me/activity", headers=bearer(login["access_token"]))).json()["items"]
    accepted = [e for e in trail if e["action"] == "agreements.accepted"]
    assert len(accepted) == 1 and accepted[0]["details"] == await agreed(idapp.api)


async def test_a_new_version_is_asked_again_and_recorded_again(backends, tmp_path):
    first = await start_app(backends, overrides={"sms": {"resend_interval_seconds": 1}})
    shared = {"mongodb": {"database": first.runner.settings.mongodb.database},
              "redis": {"key_prefix": first.runner.settings.redis.key_prefix},
              "sms": {"resend_interval_seconds": 1}}
    second = await start_app(backends, overrides={**shared, "accounts": {"agreements_dir": str(bumped(tmp_path, "2027.03"))}})
    try:
        phone = random_phone()
        old = await agreed(first.api)
        # agreed to the old version, then the new one takes effect before the login: asked again
        assert (await send_sms(first.api, phone)).status == 202
        code = await latest_sms_code(first.api, phone)
        assert_problem(await second.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code}),
                       409, "agreement_outdated")
        assert_problem(await second.api.post("/api/v1/auth/sms/send", {"phone": phone, "agreements": old}),
                       409, "agreement_outdated")
        # (the code was used up by that try: the check comes after the code, so nobody learns
        # from it whether a phone agreed) log in on the old version, then on the new one
        await asyncio.sleep(1.1)
        assert (await send_sms(first.api, phone)).status == 202
        code = await latest_sms_code(first.api, phone)
        login = (await first.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code})).json()
        await asyncio.sleep(1.1)
        assert (await send_sms(second.api, phone)).status == 202
        code = await latest_sms_code(second.api, phone)
        assert (await second.api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code})).status == 200
        trail = (await second.api.get("/api/v1/me/activity", headers=bearer(login["access_token"]))).json()["items"]
        versions = [e["details"]["privacy"] for e in trail if e["action"] == "agreements.accepted"]
        assert sorted(versions) == ["2026.12", "2027.03"]
    finally:
        await stop_app(second)
        await stop_app(first)


def test_a_missing_or_malformed_agreement_stops_start_up(tmp_path):
    from identity.agreements.service import load_agreements

    d = bumped(tmp_path, "2027.01")
    (d / "privacy.md").unlink()
    with pytest.raises(ConfigError, match="missing agreement"):
        load_agreements(d)
    (d / "privacy.md").write_text("no front matter", encoding="utf-8")
    with pytest.raises(ConfigError, match="front matter"):
        load_agreements(d)
