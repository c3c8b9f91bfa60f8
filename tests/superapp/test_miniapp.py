"""The WeChat mini-program's unit tests (jest + miniprogram-simulate, in ``miniapp/tests``),
run against the real app on the embedded servers: the shared API client talks to it over
real HTTP (the WeChat login goes to the fake WeChat API on loopback), and the code, consent
and application components render in the official simulator."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import jwt

from tests.journeys import id_card_for
from tests.payments.support import payment_world
from tests.support import (bearer, demo_staff, issuer_client, issuer_token, kiosk_token, make_id_number, new_resident,
                           staff_token, verified_person, wechat_login)

ROOT = Path(__file__).resolve().parents[2]
MINIAPP = ROOT / "miniapp"
ID_CARD = "11100000000013338W001"
TIANHE = "gz-hall-tianhe"      # open 24 hours every day in the test hall catalog (tests/support.py)
RESIDENCE = "440100-GA-0012"   # 居住证申领 (queue A)
BIRTH = "11100000000019297M001"  # 出生医学证明
HEALTH = "124401004554091607"    # the health commission that issues it


async def test_miniapp_unit_tests(idapp, tmp_path):
    jest = MINIAPP / "node_modules" / ".bin" / "jest"
    assert jest.exists(), "miniapp/node_modules is missing (make test runs npm ci there)"
    assert shutil.which("node"), "Node.js is needed for the mini-program tests"
    resident = await new_resident(idapp.ctx, name="钟小程")
    psb = issuer_client(idapp.ctx, "11440100007012346M")
    await id_card_for(idapp, resident)
    # a session whose access token has expired (signed with the app's own key) and whose
    # refresh token is live: what a phone has after a night in a pocket
    other = await wechat_login(idapp.api, f"mp-expired-{time.time_ns()}")
    key = idapp.ctx.sessions.tokens.keys[0]
    claims = jwt.decode(other["access_token"], options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 60}, key.private, algorithm="ES256",
                         headers={"kid": key.kid, "typ": "at+jwt"})
    # a second resident, verified, for the page tests
    second = await new_resident(idapp.ctx, name="莫页面")
    await id_card_for(idapp, second)
    # the mini-program way: WeChat login, phone binding, real name
    login = await wechat_login(idapp.api, f"mp-pages-{time.time_ns()}")
    bound = await idapp.api.post("/api/v1/auth/wechat/phone", {"code": f"test-{second.phone}"},
                                 headers=bearer(login["access_token"]))
    assert bound.status == 200, bound.body
    resp = await idapp.api.post("/api/v1/me/realname", {"name": second.name, "id_number": second.id_number},
                                headers=bearer(bound.json()["access_token"]))
    assert resp.status == 200, resp.body
    verified = {"access_token": resp.json()["access_token"],
                "refresh_token": bound.json().get("refresh_token") or login["refresh_token"]}
    # a third, for the live-events tests (one of which logs out everywhere)
    live = await verified_person(idapp.api, await new_resident(idapp.ctx, name="冯实时"))
    kiosk = await kiosk_token(idapp.api, idapp.ctx.demo.devices[0])
    # the 12345 centre and a department, for the hotline pages' tests
    desk = {name: await staff_token(idapp.api, demo_staff(idapp.ctx, name)) for name in ("rx.paidan", "cg.chuli")}
    caller = await verified_person(idapp.api, await new_resident(idapp.ctx, name="卫热线"))
    halls = await hall_world(idapp)
    proxies = await proxy_world(idapp, psb)
    policies = await policy_world(idapp)
    payments = await payment_world(idapp)
    # for the guide's 情形 (guide.test.js): a verified person with the ID card in the wallet
    applicant = await new_resident(idapp.ctx, name="岑补证")
    await id_card_for(idapp, applicant)
    guide = await verified_person(idapp.api, applicant)
    # for the 繁體中文 pages (i18n.test.js): a verified person with the ID card in the wallet
    reader = await new_resident(idapp.ctx, name="区繁体")
    await id_card_for(idapp, reader)
    traditional = await verified_person(idapp.api, reader)
    world = {"base_url": idapp.runner.url, "kiosk_token": kiosk, "desk": desk, "halls": halls, "proxies": proxies,
             "policies": policies, "payments": payments,
             "guide": {"name": applicant.name, "access_token": guide["access_token"],
                       "refresh_token": guide["refresh_token"]},
             "hotline": {"access_token": caller["access_token"], "refresh_token": caller["refresh_token"]},
             "i18n": {"name": reader.name, "access_token": traditional["access_token"],
                      "refresh_token": traditional["refresh_token"]},
             "live": {"access_token": live["access_token"], "refresh_token": live["refresh_token"]},
             "verified": {"name": second.name, "access_token": verified["access_token"],
                          "refresh_token": verified["refresh_token"]},
             "resident": {"name": resident.name, "id_number": resident.id_number, "phone": resident.phone},
             "expired": {"access_token": expired, "refresh_token": other["refresh_token"],
                         "person_id": other["person"]["id"]}}
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world, ensure_ascii=False))
    # the 线上取号 radius is the hall's (GET /api/v1/halls/{id}), not one written into the app:
    # the identity app's catalog says 1.5 km, so a phone 1.2 km away may take a number (halls.test.js)
    assert idapp.ctx.halls.directory.rules.remote_radius_m == 1500
    proc = await asyncio.create_subprocess_exec(
        str(jest), "--runInBand", "--ci", "--verbose", cwd=MINIAPP, env={**os.environ, "MINIAPP_WORLD": str(path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    text = out.decode(errors="replace")
    print(text)
    assert proc.returncode == 0, text[-6000:]
    for name in ("api.test.js", "pages.test.js", "person-code.test.js", "consent-card.test.js",
                 "application-card.test.js", "events.test.js", "hotline.test.js", "halls.test.js", "guide.test.js",
                 "proxies.test.js", "i18n.test.js", "policies.test.js", "payments.test.js"):
        assert f"PASS tests/{name}" in text, f"{name} did not pass"


def expired_copy(idapp, token: str) -> str:
    """The same access token with its expiry in the past, signed with the app's own key."""
    key = idapp.ctx.sessions.tokens.keys[0]
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode({**claims, "exp": int(time.time()) - 60}, key.private, algorithm="ES256",
                      headers={"kid": key.kid, "typ": "at+jwt"})


async def proxy_world(idapp, psb) -> dict:
    """For 亲友代办 (proxies.test.js): a mother with her ID card and her newborn's 出生医学证明
    in the wallet; her son, to whom she has granted 办事 + 证照 (accepted), and an acting token
    of his for her that has expired; a neighbour (verified, no grant yet)."""
    mother = await new_resident(idapp.ctx, name="钟慈母", birth="19580312")
    await id_card_for(idapp, mother)
    born = date.today() - timedelta(days=20)
    child = {"name": "陈小宝", "id_number": make_id_number(birth=born.strftime("%Y%m%d"))}
    health = issuer_client(idapp.ctx, HEALTH)
    body = health.issue_body(f"mp-birth-{child['id_number']}", BIRTH,
                             {"kind": "person", "id_number": mother.id_number, "name": mother.name},
                             {"certificate_number": "Q440077002", "baby_name": child["name"], "gender": "男",
                              "birth_date": born.isoformat(), "birth_place": "广州市天河区", "mother_name": mother.name,
                              "mother_id_number": mother.id_number})
    assert (await idapp.api.post("/api/v1/issuer/certificates", body,
                                 headers=bearer(await issuer_token(idapp.api, health)))).status == 201
    m = await verified_person(idapp.api, mother)
    son = await verified_person(idapp.api, await new_resident(idapp.ctx, name="林孝子", birth="19850101"))
    neighbour = await verified_person(idapp.api, await new_resident(idapp.ctx, name="黄邻居", birth="19700505"))
    made = await idapp.api.post("/api/v1/me/proxies", {"phone": son["phone"], "scopes": ["matters", "certificates"],
                                                       "expires_on": (date.today() + timedelta(days=30)).isoformat()},
                                headers=bearer(m["access_token"]))
    assert made.status == 201, made.body
    grant = made.json()
    ok = await idapp.api.post(f"/api/v1/me/proxies/{grant['id']}/accept", {"version": grant["version"]},
                              headers=bearer(son["access_token"]))
    assert ok.status == 200 and ok.json()["state"] == "active", ok.body
    acting = await idapp.api.post("/api/v1/auth/act-as", {"person_id": m["person"]["id"]},
                                  headers=bearer(son["access_token"]))
    assert acting.status == 200, acting.body

    def who(p: dict, name: str) -> dict:
        return {"name": name, "person_id": p["person"]["id"], "phone": p["phone"],
                "access_token": p["access_token"], "refresh_token": p["refresh_token"]}

    return {"mother": who(m, mother.name), "son": who(son, "林孝子"), "neighbour": who(neighbour, "黄邻居"),
            "child": child, "grant": grant["id"], "expires_on": grant["expires_on"],
            "acting_person": acting.json()["acting_person"],
            "expired_acting": expired_copy(idapp, acting.json()["access_token"])}


async def policy_world(idapp) -> dict:
    """For 政策兑现 (policies.test.js): a mother, verified, whose child's 出生医学证明 then lands
    in her wallet (so the 确认即享 育儿补贴 waits for her confirmation), and a Guangzhou resident
    born in 1940 (the 免申即享 高龄津贴 is granted when she opens her matches)."""
    mother = await new_resident(idapp.ctx, name="苏育儿", birth="19940615")
    m = await verified_person(idapp.api, mother)
    born = date.today() - timedelta(days=60)
    baby = make_id_number(birth=born.strftime("%Y%m%d"))
    health = issuer_client(idapp.ctx, HEALTH)
    body = health.issue_body(f"mp-birth-{baby}", BIRTH, {"kind": "person", "id_number": mother.id_number,
                                                         "name": mother.name},
                             {"certificate_number": "Q44" + baby[-7:], "baby_name": "苏小宝", "gender": "女",
                              "birth_date": born.isoformat(), "birth_place": "广州市越秀区", "mother_name": mother.name,
                              "mother_id_number": mother.id_number})
    assert (await idapp.api.post("/api/v1/issuer/certificates", body,
                                 headers=bearer(await issuer_token(idapp.api, health)))).status == 201
    elder = await new_resident(idapp.ctx, name="区寿星", birth="19400101", region="440106")
    e = await verified_person(idapp.api, elder)
    return {"mother": {"name": mother.name, "access_token": m["access_token"], "refresh_token": m["refresh_token"]},
            "elder": {"name": elder.name, "access_token": e["access_token"], "refresh_token": e["refresh_token"]}}


async def hall_world(idapp) -> dict:
    """For the service-hall pages (halls.test.js): a verified person under 65 (so not 绿色通道),
    another who fills a period to its quota, one whose three no-shows block booking, and the
    Tianhe hall's 导服台 and window clerk (their tokens; they act through the API)."""
    def tokens(who: dict) -> dict:
        return {"access_token": who["access_token"], "refresh_token": who["refresh_token"]}

    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="黎大厅", birth="19880512"))
    filler = await verified_person(idapp.api, await new_resident(idapp.ctx, name="满名额", birth="19900303"))
    blocked = await verified_person(idapp.api, await new_resident(idapp.ctx, name="常爽约", birth="19851120"))
    h = bearer(blocked["access_token"])
    slots = (await idapp.api.get(f"/api/v1/halls/{TIANHE}/slots?matter={RESIDENCE}")).json()["items"]
    now = int(time.time() * 1000)
    for i, matter in enumerate((RESIDENCE, "440100-RS-0033", "440100-GJJ-0011")):
        slot = slots[-1 - i]  # days ahead: the booking is made, then its period moved into the past
        resp = await idapp.api.post("/api/v1/appointments", {"hall": TIANHE, "matter": matter, "day": slot["day"],
                                                             "time": slot["time"]},
                                    headers={**h, "Idempotency-Key": f"mp-noshow-{now}-{i}"})
        assert resp.status == 201, resp.body
        start = now - (3 - i) * 3_600_000
        await idapp.ctx.db.appointments.update_one({"_id": resp.json()["id"]},
                                                   {"$set": {"start": start, "end": start + 1_800_000}})
    assert await idapp.ctx.booking.mark_no_shows() >= 3
    until = (await idapp.api.get("/api/v1/appointments", headers=h)).json()["blocked_until"]
    assert until
    staff = {name: await staff_token(idapp.api, demo_staff(idapp.ctx, name)) for name in ("th.daofu", "th.chuangkou")}
    return {"hall": TIANHE, "person": tokens(person), "filler": tokens(filler),
            "blocked": {**tokens(blocked), "until": until}, "staff": staff}


async def test_wechat_toolchain_accepts_the_package():
    """WeChat's own tools, offline: every JSON against WeChat's schemas, every WXML and WXSS
    through wcc / wcsc (npm miniprogram-compiler), miniprogram-ci's code-quality checks; the
    main package and each subpackage under WeChat's 2 MB (the checker's own main-package
    limit is 1.5 MB), holding nothing the phone does not run (tests and tools live outside
    miniapp/miniprogram/)."""
    proc = await asyncio.create_subprocess_exec("node", "scripts/wechat.js", "check", cwd=MINIAPP,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    text = out.decode(errors="replace")
    summary = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    print(json.dumps(summary["package_kb"]))
    assert proc.returncode == 0 and not summary["problems"], summary["problems"] or text[-3000:]
    assert summary["compiled"]["wxml"] > 0 and summary["compiled"]["wxss"] > 0
    assert summary["package_kb"]["__APP__"] < 1536 and all(kb < 2048 for kb in summary["package_kb"].values())
    assert all(ok for _, ok in summary["quality"]), summary["quality"]
    assert summary["subpackages"] >= 2 and summary["pages"] >= 18, summary
    # what is uploaded is what runs on the phone: no tests, tools, docs or npm folders in it
    # (packOptions leaves out the type declarations @vant/weapp ships)
    ignored = tuple(i["value"] for i in json.loads((MINIAPP / "project.config.json").read_text())["packOptions"]["ignore"]
                    if i["type"] == "suffix")
    stray = [str(p.relative_to(MINIAPP)) for p in (MINIAPP / "miniprogram").rglob("*")
             if p.is_file() and not p.name.endswith(ignored)
             and (p.suffix not in {".js", ".json", ".wxml", ".wxss", ".wxs", ".png"}
                  or p.name.endswith(".test.js") or "node_modules" in p.parts)]
    assert stray == []
