"""Demo data: loaded idempotently, personal data encrypted at rest, and production
refusing to start while a public demo key is registered."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from server.config import ConfigError
from superapp.demo import issue_demo_certificates, load_demo, read_demo
from superapp.launcher import Runner
from tests.support import Api, bearer, make_settings, production_env, sms_login, write_ec_key

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo"


async def test_loading_twice_adds_nothing(app):
    counts = await load_demo(app.ctx, app.ctx.demo)
    assert counts == {"residents": 0, "enterprises": 0, "staff": 0, "devices": 0, "issuers": 0}
    assert await app.ctx.db.registry_persons.count_documents({}) == len(app.ctx.demo.residents)


async def test_demo_residents_find_certificates_in_their_wallet_issued_once(app):
    """The demo tells the story: the first demo resident's wallet already holds what the
    demo issuers signed for them (through the issuer API's own checks), and a second start
    issues nothing again."""
    resident = app.ctx.demo.residents[0]
    login = await sms_login(app.api, resident.phone)
    verified = await app.api.post("/api/v1/me/realname", {"name": resident.name, "id_number": resident.id_number},
                                  headers=bearer(login["access_token"]))
    wallet = (await app.api.get("/api/v1/wallet", headers=bearer(verified.json()["access_token"]))).json()["items"]
    assert {c["type_name"] for c in wallet} == {"居民身份证", "居民户口簿", "不动产权证书", "社会保障卡"}
    assert all(c["status"] in ("valid", "expiring") for c in wallet)
    card = (await app.api.get(f"/api/v1/wallet/{next(c['id'] for c in wallet if c['type_name'] == '居民身份证')}",
                              headers=bearer(verified.json()["access_token"]))).json()
    assert card["verification"]["valid"] is True
    assert {f["name"]: f["value"] for f in card["fields"]}["gender"] == resident.gender
    assert await issue_demo_certificates(app.ctx, app.ctx.demo) == 0
    assert await app.ctx.db.certificates.count_documents({}) >= len(app.ctx.demo.certificates)


async def test_id_numbers_and_phones_are_encrypted_with_a_blind_index(app):
    resident = app.ctx.demo.residents[0]
    doc = await app.ctx.db.registry_persons.find_one(
        {"id_bidx": app.ctx.pii.blind_index(resident.id_number, "id_number")}
    )
    assert doc is not None and doc["name"] == resident.name
    stored = json.dumps(doc, default=str)
    assert resident.id_number not in stored and resident.phone not in stored
    assert app.ctx.pii.decrypt(doc["id_enc"], "id_number") == resident.id_number


async def test_staff_passwords_are_hashed(app):
    from identity.staff.passwords import verify_password

    staff = app.ctx.demo.staff[1]
    doc = await app.ctx.db.staff_accounts.find_one({"username": staff.username})
    assert staff.password not in json.dumps(doc, default=str)
    assert verify_password(staff.password, doc["password_hash"])
    assert not verify_password(staff.password + "x", doc["password_hash"])


def test_a_bad_demo_file_stops_start_up_naming_it(tmp_path):
    shutil.copytree(DEMO, tmp_path / "demo")
    bad = json.loads((tmp_path / "demo" / "residents.json").read_text())
    bad["items"][0]["phone"] = "12345"
    (tmp_path / "demo" / "residents.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match=r"residents.json is invalid: items\[0\].phone"):
        read_demo(tmp_path / "demo")


async def test_production_refuses_registered_demo_keys(backends, app, tmp_path):
    prod = {
        **production_env(write_ec_key(tmp_path / "jwt.pem"), write_ec_key(tmp_path / "codes.pem")),
        "SUPERAPP_MONGODB__DATABASE": app.runner.settings.mongodb.database,  # holds demo keys
    }
    runner = Runner(make_settings(backends, environ=prod))
    with pytest.raises(ConfigError) as info:
        await runner.start()
    assert info.value.key == "dev.demo_dir"
    assert "device kiosk-th-01" in str(info.value) and "issuer" in str(info.value)
    assert runner.server is None and runner.ctx is None  # everything it opened is closed again


async def test_production_refuses_a_copy_of_the_demo_token_key(backends, tmp_path):
    copy = tmp_path / "innocent-name.pem"
    copy.write_bytes((DEMO / "token-signing-key.pem").read_bytes())
    runner = Runner(make_settings(backends, environ=production_env(str(copy), write_ec_key(tmp_path / "codes.pem"))))
    with pytest.raises(ConfigError) as info:
        await runner.start()
    assert info.value.key == "tokens.signing_key_files" and "demo key" in str(info.value)


async def test_production_with_a_clean_database_starts_without_dev_endpoints(backends, tmp_path):
    prod = production_env(write_ec_key(tmp_path / "jwt.pem"), write_ec_key(tmp_path / "codes.pem"))

    runner = Runner(make_settings(backends, environ=prod))
    await runner.start()
    api = Api(runner.url)
    try:
        resp = await api.get("/api/v1/dev/demo")
        assert resp.status == 404
        assert (await api.get("/readyz")).status == 200
        assert "Strict-Transport-Security" in resp.headers
        assert await runner.ctx.db.registry_persons.count_documents({}) == 0
    finally:
        api.close()
        await runner.ctx.mongo.drop_database(runner.settings.mongodb.database)
        await runner.stop()
