"""End-to-end: the H5 app in Debian's Chromium (headless, driven by playwright-core from
``h5/e2e/``) against the real app on the embedded MongoDB-wire and Redis servers.

Python prepares only what happens outside the screens: the population and enterprise
registries (the development providers' data), and certificates that issuing authorities
signed before the residents ever registered (issuer API, signed with the demo issuers'
keys). Everything a resident, legal representative, agent, kiosk or clerk does happens by
clicking in the browser: journeys 1-4 of PRODUCT.md and the kiosk's reset.

Set SUPERAPP_SCREENSHOTS=<dir> to have the browser tests save screenshots of the main
screens there (``make screenshots`` writes docs/screenshots/ for the README).
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from identity.accounts.storage import RegistryStore
from identity.phones import InvalidPhone, parse_phone
from identity.verification import DevRegistryProvider
from tests.payments.support import apply_licence, sms_person
from tests.support import (Backends, always_open_catalog, bearer, issuer_client, issuer_token, new_enterprise,
                           new_resident, start_app, stop_app)

ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "h5" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ONLY = os.environ.get("E2E_FILES", "")  # e.g. E2E_FILES=screens.test.mjs while working on one file

ID_CARD, HUKOU, BIRTH = "11100000000013338W001", "11100000000013338W002", "11100000000019297M001"
PROPERTY, LICENCE = "11100000MB1967002C001", "11100000MB0143028R001"
PSB, NR, AMR = "11440100007012346M", "11440100007087655Y", "11440100007056787F"
HOSPITAL = "124401004554091607"


async def issue(app, issuer: str, type_code: str, holder: dict, fields: dict, request_id: str) -> dict:
    client = issuer_client(app.ctx, issuer)
    body = client.issue_body(request_id, type_code, holder, fields,
                             valid_until=(date.today() + timedelta(days=3650)).isoformat())
    resp = await app.api.post("/api/v1/issuer/certificates", body, headers=bearer(await issuer_token(app.api, client)))
    assert resp.status == 201, resp.body
    return resp.json()


async def fee_payer(app, name: str) -> dict:
    """缴费: a resident (SMS login, 实名, 刷脸 for L3, as 驾驶证期满换证 asks) with three applications of
    440100-GA-0031 whose 工本费 (10 元, due at submission) is unpaid: one the browser pays at the H5
    cashier, one it pays inside WeChat's browser (JSAPI), one the clerk tries to accept unpaid. The
    browser signs in as them again (payments.test.mjs)."""
    who = await sms_person(app, name)
    r = who["resident"]
    paying, unpaid, in_wechat = await apply_licence(app, who), await apply_licence(app, who), await apply_licence(app, who)
    assert paying["fee"]["state"] == unpaid["fee"]["state"] == in_wechat["fee"]["state"] == "unpaid", paying["fee"]
    return {"name": r.name, "id_number": r.id_number, "phone": r.phone,
            "application_id": paying["id"], "number": paying["number"],
            "unpaid_application_id": unpaid["id"], "unpaid_number": unpaid["number"],
            "wechat_application_id": in_wechat["id"], "wechat_number": in_wechat["number"]}


async def world(app) -> dict:
    """Registries and pre-issued certificates; returns what the browser tests need to know."""
    resident = await new_resident(app.ctx, name="欧阳晓彤")
    holder = {"kind": "person", "id_number": resident.id_number, "name": resident.name}
    await issue(app, PSB, ID_CARD, holder, {
        "name": resident.name, "gender": resident.gender, "nation": "汉", "birth_date": resident.birth_date,
        "address": resident.address, "id_number": resident.id_number, "issuing_authority": "广州市公安局天河分局"},
        f"e2e-id-{resident.id_number}")
    await issue(app, PSB, HUKOU, holder, {
        "household_number": "440106123456", "household_head": resident.name, "relation": "户主",
        "name": resident.name, "id_number": resident.id_number, "address": resident.address},
        f"e2e-hukou-{resident.id_number}")
    await issue(app, NR, PROPERTY, holder, {
        "certificate_number": "粤(2024)广州市不动产权第 0654321 号", "owner": resident.name,
        "id_number": resident.id_number, "ownership": "单独所有", "location": resident.address,
        "unit_number": "440106001001GB00001F00010018", "use": "住宅", "area": 89.5,
        "term": "2004-01-01 至 2074-01-01"}, f"e2e-prop-{resident.id_number}")
    await issue(app, HOSPITAL, BIRTH, holder, {
        "certificate_number": "Q440012399", "baby_name": "欧阳小满", "gender": "女", "birth_date": date.today().isoformat(),
        "birth_place": "广州市天河区", "mother_name": resident.name, "mother_id_number": resident.id_number},
        f"e2e-birth-{resident.id_number}")

    rep = await new_resident(app.ctx, name="龚振邦")
    agent = await new_resident(app.ctx, name="司马经办")
    ent = await new_enterprise(app.ctx, rep, name="广州市天河区一件事餐饮管理有限公司")
    await issue(app, AMR, LICENCE, {"kind": "enterprise", "uscc": ent.uscc, "name": ent.name}, {
        "name": ent.name, "uscc": ent.uscc, "type": "有限责任公司", "legal_representative": rep.name,
        "established": "2022-03-01", "address": ent.address, "business_scope": "餐饮服务"}, f"e2e-lic-{ent.uscc}")

    # a resident for the screen checks (states, 360 px, 适老化, accessibility): one ID card, nothing else
    viewer = await new_resident(app.ctx, name="诸葛明察")
    viewer_card = await issue(app, PSB, ID_CARD, {"kind": "person", "id_number": viewer.id_number, "name": viewer.name}, {
        "name": viewer.name, "gender": viewer.gender, "nation": "汉", "birth_date": viewer.birth_date,
        "address": viewer.address, "id_number": viewer.id_number, "issuing_authority": "广州市公安局天河分局"},
        f"e2e-id-{viewer.id_number}")

    # the service-hall journey: a parent with a newborn's birth certificate and the household register
    parent = await new_resident(app.ctx, name="排队办事人")
    held = {"kind": "person", "id_number": parent.id_number, "name": parent.name}
    await issue(app, PSB, ID_CARD, held, {
        "name": parent.name, "gender": parent.gender, "nation": "汉", "birth_date": parent.birth_date,
        "address": parent.address, "id_number": parent.id_number, "issuing_authority": "广州市公安局天河分局"},
        f"e2e-id-{parent.id_number}")
    await issue(app, PSB, HUKOU, held, {
        "household_number": "440106765432", "household_head": parent.name, "relation": "户主",
        "name": parent.name, "id_number": parent.id_number, "address": parent.address}, f"e2e-hukou-{parent.id_number}")
    await issue(app, HOSPITAL, BIRTH, held, {
        "certificate_number": "Q440012400", "baby_name": "排小满", "gender": "男", "birth_date": date.today().isoformat(),
        "birth_place": "广州市天河区", "mother_name": parent.name, "mother_id_number": parent.id_number},
        f"e2e-birth-{parent.id_number}")

    # 亲友代办: an elderly mother (an ID card in her wallet) and her son
    elder = await new_resident(app.ctx, name="钱老太", birth="19480305")
    await issue(app, PSB, ID_CARD, {"kind": "person", "id_number": elder.id_number, "name": elder.name}, {
        "name": elder.name, "gender": elder.gender, "nation": "汉", "birth_date": elder.birth_date,
        "address": elder.address, "id_number": elder.id_number, "issuing_authority": "广州市公安局天河分局"},
        f"e2e-id-{elder.id_number}")
    son = await new_resident(app.ctx, name="钱孝顺")

    # 政策兑现: a mother whose baby's 出生医学证明 is in her wallet (育儿补贴, 确认即享, 卫健委)
    mum = await new_resident(app.ctx, name="林育儿", birth="19930412")
    await issue(app, HOSPITAL, BIRTH, {"kind": "person", "id_number": mum.id_number, "name": mum.name}, {
        "certificate_number": "Q440012401", "baby_name": "林小禾", "gender": "女",
        "birth_date": (date.today() - timedelta(days=40)).isoformat(), "birth_place": "广州市天河区",
        "mother_name": mum.name, "mother_id_number": mum.id_number}, f"e2e-birth-{mum.id_number}")

    device = app.ctx.demo.devices[0]
    screen = next(d for d in app.ctx.demo.devices if d.device_id == "display-th-01")
    staff = {s.username: {"username": s.username, "password": s.password, "totp_secret": s.totp_secret}
             for s in app.ctx.demo.staff if s.username in ("rsj.shenhe", "wjw.shenhe", "gjj.shenhe", "rx.paidan",
                                                           "cg.chuli", "th.chuangkou", "th.daofu", "th.zhuguan",
                                                           "wjw.zhengce", "gaj.shouli", "gaj.shenhe",
                                                           "ybj.shenhe")}
    # journey 6 (12345): a resident who reports a broken street light
    reporter = await new_resident(app.ctx, name="路灯报修人")
    # 跨境: a Hong Kong resident with a Hong Kong mobile number and a 回乡证 (dev registry)
    hk_phone = ""
    while not hk_phone:
        try:
            hk_phone = parse_phone("+8529" + "".join(random.choices("0123456789", k=7))).value
        except InvalidPhone:
            pass
    permit = "H" + "".join(random.choices("0123456789", k=8))
    await DevRegistryProvider(RegistryStore(app.ctx.db), app.ctx.clients.pii, "").register("陳大文", "hk_macao_permit", permit)
    person = lambda r: {"name": r.name, "id_number": r.id_number, "phone": r.phone}  # noqa: E731
    payer = await fee_payer(app, "缴费办事人")
    return {"base_url": app.runner.url, "chromium": CHROMIUM, "screenshots": os.environ.get("SUPERAPP_SCREENSHOTS", ""),
            "resident": person(resident), "rep": person(rep), "agent": person(agent),
            "enterprise": {"uscc": ent.uscc, "name": ent.name},
            "device": {"id": device.device_id, "name": device.name, "private_key_pem": device.private_key_pem},
            "display": {"id": screen.device_id, "private_key_pem": screen.private_key_pem},
            "parent": person(parent), "elder": person(elder), "son": person(son),
            "staff": staff, "viewer": {**person(viewer), "certificate_id": viewer_card["id"]},
            "reporter": person(reporter), "policy_parent": person(mum), "payer": payer,
            # inside WeChat's browser: the fake WeChat (its web authorisation too) and the fake WeChat Pay
            "wechat_api_url": app.runner.wechat_url, "wechatpay_url": app.ctx.payment_gateway.gateway,
            "hk_person": {"name": "陳大文", "phone": hk_phone, "local": hk_phone.removeprefix("+852"), "id_number": permit}}


@pytest.fixture
async def e2eapp(backends: Backends, tmp_path_factory):
    running = await start_app(backends, overrides={
        "sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000, "resend_interval_seconds": 1},
        "halls": {"catalog_file": str(always_open_catalog(tmp_path_factory.mktemp("halls") / "halls.json"))},
    })
    yield running
    await stop_app(running)


@pytest.mark.timeout(900)  # every browser file, one after the other
async def test_h5_journeys_in_chromium(e2eapp, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the set-up installs Debian's chromium (scripts/system-deps.sh, needs root)")
    node = shutil.which("node")
    assert node, "Node.js is needed for the browser tests"
    assert (ROOT / "h5" / "dist" / "index.html").exists(), "the H5 app is not built (make test builds it)"
    fixture = tmp_path / "world.json"
    fixture.write_text(json.dumps(await world(e2eapp), ensure_ascii=False))
    proc = await asyncio.create_subprocess_exec(
        node, "--test", "--test-reporter=spec", "--test-concurrency=1", *map(str, sorted(E2E.glob(ONLY or "*.test.mjs"))),
        cwd=ROOT / "h5", env={**os.environ, "E2E_WORLD": str(fixture)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 840)
    text = out.decode(errors="replace")
    print(text)
    assert proc.returncode == 0, text[-6000:]
    if ONLY:
        return
    for name in ("journey 1", "journey 2", "journey 3", "journey 4", "kiosk resets", "kiosk applies", "journey 6",
                 "journey 7", "journey 8", "cross-border", "policies", "payments"):
        assert name in text, f"browser test '{name}' did not run"
