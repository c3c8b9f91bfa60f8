"""Notifications: every application step becomes exactly one notification, delivered by
a worker over WeChat subscribe messages (fake WeChat server) or SMS; a worker killed
mid-delivery loses its lease and a restarted one finishes the job with no duplicates;
a failing channel is retried, then marked failed, and the application is unaffected."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from superapp.fakes.wechat import make_fake_wechat
from tests.support import (
    bearer,
    issuer_client,
    issuer_token,
    new_resident,
    random_phone,
    start_app,
    stop_app,
    upload_pdf,
    wechat_login,
)

pytestmark = pytest.mark.redis_modes  # Redis-dependent rules: also on a Redis Cluster

ROOT = Path(__file__).resolve().parents[2]
HPF = "440100-GJJ-0011"


async def wechat_person(api, ctx, name):
    """A mini-program user with a bound phone and a verified real name."""
    r = await new_resident(ctx, name=name)
    wx = await wechat_login(api, f"n{time.time_ns()}")
    phone = random_phone()
    bound = (await api.post("/api/v1/auth/wechat/phone", {"code": f"test-{phone}"},
                            headers=bearer(wx["access_token"]))).json()
    rn = (await api.post("/api/v1/me/realname", {"name": r.name, "id_number": r.id_number},
                         headers=bearer(bound["access_token"]))).json()
    return r, {"access_token": rn["access_token"], "person": rn["person"]}


async def give_id_card(api, ctx, r):
    from datetime import date, timedelta

    client = issuer_client(ctx, "11440100007012346M")
    token = await issuer_token(api, client)
    body = client.issue_body(f"idc-{r.id_number}", "11100000000013338W001",
                             {"kind": "person", "id_number": r.id_number, "name": r.name},
                             {"name": r.name, "gender": r.gender, "nation": "汉", "birth_date": r.birth_date,
                              "address": r.address, "id_number": r.id_number, "issuing_authority": "广州市公安局"},
                             valid_until=(date.today() + timedelta(days=3650)).isoformat())
    assert (await api.post("/api/v1/issuer/certificates", body, headers=bearer(token))).status == 201


async def instant_application(api, r, person, ctx):
    await give_id_card(api, ctx, r)
    up = await upload_pdf(api, person)
    resp = await api.post("/api/v1/applications", {
        "matter": HPF, "form": {"name": r.name, "id_number": r.id_number, "monthly_rent": 2000, "amount": 2000,
                                "bank_account": "6222020200001234567"},
        "materials": [{"id": "lease", "upload_id": up}]},
        headers={**bearer(person["access_token"]), "Idempotency-Key": os.urandom(8).hex()})
    assert resp.status == 201, resp.body
    return resp.json()


def start_worker(app, backends, fake_url: str, log: Path) -> subprocess.Popen:
    s = app.runner.settings
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")},
           "MONGODB_URI": backends.mongo_uri, "REDIS_URL": backends.redis_url,
           "SUPERAPP_REDIS__MODE": backends.redis_mode, "SUPERAPP_REDIS__NODES": ",".join(backends.redis_nodes),
           "SUPERAPP_MONGODB__DATABASE": s.mongodb.database, "SUPERAPP_REDIS__KEY_PREFIX": s.redis.key_prefix,
           "SUPERAPP_PROCESS__ROLE": "worker", "SUPERAPP_HTTP__PORT": "0", "SUPERAPP_WECHAT__API_BASE_URL": fake_url,
           "SUPERAPP_NOTIFICATIONS__LEASE_SECONDS": "1.5", "SUPERAPP_NOTIFICATIONS__POLL_SECONDS": "0.1"}
    return subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT, env=env, stdout=open(log, "ab"),
                            stderr=subprocess.STDOUT)


async def wait_for(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_killed_worker_mid_delivery_then_every_notification_exactly_once(backends, tmp_path):
    fake, state = make_fake_wechat("wxd0000000000demo1", "dev-only-wechat-secret")
    fake.start()
    app = await start_app(backends, overrides={"process": {"role": "web"},
                                               "wechat": {"api_base_url": fake.url}})
    worker = None
    try:
        r, person = await wechat_person(app.api, app.ctx, "通知人")
        application = await instant_application(app.api, r, person, app.ctx)
        assert application["state"] == "completed"
        states = [t["state"] for t in application["timeline"]]
        assert len(states) == 5
        pending = await app.ctx.db.notifications.count_documents({"application_id": application["id"]})
        assert pending == 5  # written by the web process with the state changes; nobody delivered yet
        state.hold_seconds = 0.6
        worker = start_worker(app, backends, fake.url, tmp_path / "worker.log")

        async def third_in_flight() -> bool:
            return len(state.messages) == 2 and state.inflight == 1

        await wait_for(third_in_flight, 60)
        worker.send_signal(signal.SIGKILL)  # mid-delivery of the third
        worker.wait()
        await asyncio.sleep(0.8)
        assert len(state.messages) == 2  # the interrupted send never completed
        state.hold_seconds = 0
        worker = start_worker(app, backends, fake.url, tmp_path / "worker.log")

        async def all_sent() -> bool:
            return await app.ctx.db.notifications.count_documents(
                {"application_id": application["id"], "status": "sent"}) == 5

        await wait_for(all_sent, 60)
        mine = [m for m in state.messages if m["data"]["character_string3"]["value"] == application["number"]]
        assert len(mine) == 5
        # each step exactly once (the interrupted one came after the others: order is not promised)
        assert sorted(m["data"]["phrase2"]["value"] for m in mine) == sorted(["已提交", "已受理", "审查中", "已批准",
                                                                              "已办结"])
        docs = await app.ctx.db.notifications.find({"application_id": application["id"]}).to_list()
        assert {d["channel"] for d in docs} == {"wechat"}
        assert max(d["attempts"] for d in docs) == 2  # the interrupted one, retried once
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        await stop_app(app)
        await fake.stop()


async def test_a_failing_channel_is_retried_then_marked_failed_and_the_application_stands(backends):
    app = await start_app(backends, overrides={"notifications": {"max_attempts": 2, "base_backoff_seconds": 0.05,
                                                                 "poll_seconds": 0.05}})
    try:
        r, person = await wechat_person(app.api, app.ctx, "失败通知")
        app.runner.fake_wechat.fail_next = [45009] * 40  # WeChat keeps answering "system error"
        application = await instant_application(app.api, r, person, app.ctx)

        async def all_failed() -> bool:
            return await app.ctx.db.notifications.count_documents(
                {"application_id": application["id"], "status": "failed"}) == 5

        await wait_for(all_failed, 60)
        docs = await app.ctx.db.notifications.find({"application_id": application["id"]}).to_list()
        assert all(d["attempts"] == 2 and d["last_error"] for d in docs)
        again = (await app.api.get(f"/api/v1/applications/{application['id']}",
                                   headers=bearer(person["access_token"]))).json()
        assert again["state"] == "completed"
    finally:
        await stop_app(app)


async def test_sms_for_people_without_wechat(backends):
    app = await start_app(backends, overrides={"notifications": {"poll_seconds": 0.05}})
    try:
        from tests.support import verified_person

        r = await new_resident(app.ctx, name="短信通知")
        person = await verified_person(app.api, r)
        application = await instant_application(app.api, r, person, app.ctx)

        async def sent() -> bool:
            return await app.ctx.db.notifications.count_documents(
                {"application_id": application["id"], "status": "sent", "channel": "sms"}) == 5

        await wait_for(sent, 30)
        outbox = (await app.api.get(f"/api/v1/dev/sms-outbox?phone={person['phone']}")).json()["items"]
        assert sum(application["number"] in m["text"] for m in outbox) == 5
    finally:
        await stop_app(app)


async def test_support_staff_see_delivery_status(backends):
    app = await start_app(backends, overrides={"notifications": {"poll_seconds": 0.05}})
    try:
        from tests.support import (
            assert_problem,
            demo_staff,
            staff_token,
            verified_person,
        )

        r = await new_resident(app.ctx, name="查投递")
        person = await verified_person(app.api, r)
        application = await instant_application(app.api, r, person, app.ctx)
        supervisor = await staff_token(app.api, demo_staff(app.ctx, "gjj.shenhe"))

        async def sent() -> bool:
            rows = (await app.api.get(f"/api/v1/staff/notifications?application_id={application['id']}",
                                      headers=bearer(supervisor))).json()["items"]
            return len(rows) == 5 and all(x["status"] == "sent" for x in rows)

        await wait_for(sent, 30)
        clerk = await staff_token(app.api, demo_staff(app.ctx, "chuangkou.th"))
        assert_problem(await app.api.get("/api/v1/staff/notifications", headers=bearer(clerk)), 403, "role_missing")
        other = await staff_token(app.api, demo_staff(app.ctx, "gaj.shenhe"))  # another department's supervisor
        rows = (await app.api.get(f"/api/v1/staff/notifications?application_id={application['id']}",
                                  headers=bearer(other))).json()["items"]
        assert rows == []
    finally:
        await stop_app(app)
