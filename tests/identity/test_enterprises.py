"""Enterprises through the HTTP API: binding by the legal representative, agents with
scopes, acceptance, acting-for tokens re-checked on every request, the enterprise's
audit trail, and every bad input the issue lists."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import (assert_problem, bearer, make_uscc, new_enterprise, new_resident, sms_login,
                           verified_person)

PORTAL = "portal"


def in_days(days: float) -> str:
    return (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=days)).isoformat()


async def bound_enterprise(app):
    rep = await new_resident(app.ctx, name="黄老板")
    person = await verified_person(app.api, rep, channel=PORTAL)
    ent = await new_enterprise(app.ctx, rep)
    resp = await app.api.post("/api/v1/enterprises", {"uscc": ent.uscc, "name": ent.name},
                              headers=bearer(person["access_token"]))
    assert resp.status == 201, resp.body
    return person, resp.json(), ent


async def agent_person(app, name="李经办"):
    return await verified_person(app.api, await new_resident(app.ctx, name=name), channel=PORTAL)


async def invite_and_accept(app, admin, enterprise_id, agent, scopes, days=30):
    resp = await app.api.post(f"/api/v1/enterprises/{enterprise_id}/agents",
                              {"phone": agent["phone"], "scopes": scopes, "expires_at": in_days(days)},
                              headers=bearer(admin["access_token"]))
    assert resp.status == 201, resp.body
    invitation = resp.json()
    assert invitation["status"] == "invited"
    resp = await app.api.post(f"/api/v1/me/invitations/{invitation['id']}/accept",
                              headers=bearer(agent["access_token"]))
    assert resp.status == 200, resp.body
    return resp.json()


async def act_as(app, who, enterprise_id):
    return await app.api.post("/api/v1/auth/act-as", {"enterprise_id": enterprise_id},
                              headers=bearer(who["access_token"]))


async def test_legal_representative_binds_and_becomes_admin(idapp):
    person, ent, reg = await bound_enterprise(idapp)
    assert ent["uscc"] == reg.uscc and ent["my_role"] == "admin"
    assert ent["my_scopes"] == ["agents", "certificates", "code", "matters"]
    assert ent["legal_representative"] == "黄**" and ent["status"] == "verified"
    mine = await idapp.api.get("/api/v1/enterprises", headers=bearer(person["access_token"]))
    assert [e["id"] for e in mine.json()["items"]] == [ent["id"]]
    # binding again by the same person is idempotent; by anyone else it is 409
    again = await idapp.api.post("/api/v1/enterprises", {"uscc": reg.uscc, "name": reg.name},
                                 headers=bearer(person["access_token"]))
    assert again.status == 201 and again.json()["id"] == ent["id"]
    other = await agent_person(idapp)
    assert_problem(await idapp.api.post("/api/v1/enterprises", {"uscc": reg.uscc, "name": reg.name},
                                        headers=bearer(other["access_token"])), 409, "enterprise_already_bound")


@pytest.mark.parametrize(
    "uscc, status, code, field",
    [
        ("91350100M000100Y4", 400, "uscc_invalid", "uscc"),        # malformed
        ("91350100M000100Y44", 400, "uscc_invalid", "uscc"),       # wrong check character
    ],
)
async def test_bad_codes(idapp, uscc, status, code, field):
    person = await agent_person(idapp)
    body = assert_problem(await idapp.api.post("/api/v1/enterprises", {"uscc": uscc, "name": "某公司"},
                                               headers=bearer(person["access_token"])), status, code)
    assert body["errors"][0]["field"] == field


async def test_code_not_in_registry_name_mismatch_and_not_the_representative(idapp):
    person = await agent_person(idapp)
    h = bearer(person["access_token"])
    assert_problem(await idapp.api.post("/api/v1/enterprises", {"uscc": make_uscc(), "name": "某公司"}, headers=h),
                   422, "enterprise_not_registered")
    someone = await new_resident(idapp.ctx, name="法人甲")
    reg = await new_enterprise(idapp.ctx, someone)
    assert_problem(await idapp.api.post("/api/v1/enterprises", {"uscc": reg.uscc, "name": "错误的名称"}, headers=h),
                   422, "enterprise_name_mismatch")
    assert_problem(await idapp.api.post("/api/v1/enterprises", {"uscc": reg.uscc, "name": reg.name}, headers=h),
                   403, "not_legal_representative")
    assert await idapp.ctx.db.enterprises.count_documents({"uscc": reg.uscc}) == 0


async def test_caller_below_l2_cannot_bind(idapp):
    login = await sms_login(idapp.api)
    body = assert_problem(await idapp.api.post("/api/v1/enterprises", {"uscc": make_uscc(), "name": "某公司"},
                                               headers=bearer(login["access_token"])), 403, "level_too_low")
    assert body["required_level"] == 2


async def test_agent_accepts_acts_and_revocation_takes_effect_at_once(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    agent = await agent_person(idapp)
    # the invitee sees the invitation before accepting
    invitations = await idapp.api.get("/api/v1/me/invitations", headers=bearer(agent["access_token"]))
    assert invitations.json()["items"] == []
    accepted = await invite_and_accept(idapp, admin, ent["id"], agent, ["matters", "certificates"])
    assert accepted["status"] == "active" and accepted["name"] == "李**"
    resp = await act_as(idapp, agent, ent["id"])
    assert resp.status == 200, resp.body
    acting = resp.json()
    assert acting["acting"] == {"enterprise_id": ent["id"], "enterprise_name": ent["name"], "role": "agent",
                                "scopes": ["certificates", "matters"]}
    import jwt

    claims = jwt.decode(acting["access_token"], options={"verify_signature": False})
    assert claims["act"] == {"ent": ent["id"], "role": "agent"} and claims["scp"] == ["certificates", "matters"]
    token = acting["access_token"]
    current = await idapp.api.get("/api/v1/enterprises/current", headers=bearer(token))
    assert current.status == 200 and current.json()["role"] == "agent"
    # the admin revokes: the token already issued stops working on its next request
    revoked = await idapp.api.post(f"/api/v1/enterprises/{ent['id']}/agents/{accepted['id']}/revoke",
                                   headers=bearer(admin["access_token"]))
    assert revoked.status == 200 and revoked.json()["status"] == "revoked"
    assert_problem(await idapp.api.get("/api/v1/enterprises/current", headers=bearer(token)),
                   403, "authorization_revoked")
    assert_problem(await act_as(idapp, agent, ent["id"]), 403, "not_authorized_for_enterprise")
    # back to the person works
    back = await idapp.api.post("/api/v1/auth/act-as", {"enterprise_id": None}, headers=bearer(agent["access_token"]))
    assert back.status == 200 and back.json()["acting"] is None
    assert_problem(await idapp.api.get("/api/v1/enterprises/current", headers=bearer(back.json()["access_token"])),
                   403, "not_acting_for_enterprise")


async def test_expired_authorisation_is_refused(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    agent = await agent_person(idapp)
    accepted = await invite_and_accept(idapp, admin, ent["id"], agent, ["matters"])
    token = (await act_as(idapp, agent, ent["id"])).json()["access_token"]
    await idapp.ctx.db.enterprise_agents.update_one({"_id": accepted["id"]}, {"$set": {"expires_at": 1}})
    assert_problem(await idapp.api.get("/api/v1/enterprises/current", headers=bearer(token)),
                   403, "authorization_expired")
    assert_problem(await act_as(idapp, agent, ent["id"]), 403, "authorization_expired")
    listed = await idapp.api.get(f"/api/v1/enterprises/{ent['id']}/agents", headers=bearer(admin["access_token"]))
    assert listed.json()["items"][0]["status"] == "expired"


async def test_acting_for_an_enterprise_without_authorisation(idapp):
    _, ent, _ = await bound_enterprise(idapp)
    stranger = await agent_person(idapp)
    assert_problem(await act_as(idapp, stranger, ent["id"]), 403, "not_authorized_for_enterprise")
    assert_problem(await act_as(idapp, stranger, "e" + "0" * 24), 403, "not_authorized_for_enterprise")
    assert_problem(await idapp.api.get(f"/api/v1/enterprises/{ent['id']}", headers=bearer(stranger["access_token"])),
                   404, "enterprise_not_found")
    assert_problem(await idapp.api.get(f"/api/v1/enterprises/{ent['id']}/agents",
                                       headers=bearer(stranger["access_token"])), 404, "enterprise_not_found")


async def test_scope_not_grantable_by_this_granter(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    manager = await agent_person(idapp, name="王主管")
    await invite_and_accept(idapp, admin, ent["id"], manager, ["agents", "matters"], days=10)
    newcomer = await agent_person(idapp, name="赵新人")
    h = bearer(manager["access_token"])
    url = f"/api/v1/enterprises/{ent['id']}/agents"
    body = assert_problem(await idapp.api.post(url, {"phone": newcomer["phone"], "scopes": ["certificates"],
                                                     "expires_at": in_days(5)}, headers=h), 403, "scope_not_grantable")
    assert body["scopes"] == ["certificates"]
    assert_problem(await idapp.api.post(url, {"phone": newcomer["phone"], "scopes": ["matters"],
                                              "expires_at": in_days(20)}, headers=h), 403, "scope_not_grantable")
    ok = await idapp.api.post(url, {"phone": newcomer["phone"], "scopes": ["matters"], "expires_at": in_days(5)},
                              headers=h)
    assert ok.status == 201
    # an agent without "agents" cannot manage at all
    plain = await agent_person(idapp, name="钱普通")
    await invite_and_accept(idapp, admin, ent["id"], plain, ["matters"])
    assert_problem(await idapp.api.get(url, headers=bearer(plain["access_token"])), 403, "scope_missing")


async def test_change_agent_and_bad_inputs(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    agent = await agent_person(idapp)
    accepted = await invite_and_accept(idapp, admin, ent["id"], agent, ["matters"])
    h = bearer(admin["access_token"])
    url = f"/api/v1/enterprises/{ent['id']}/agents/{accepted['id']}"
    changed = await idapp.api.request("PATCH", url, json={"scopes": ["matters", "code"]}, headers=h)
    assert changed.status == 200 and changed.json()["scopes"] == ["matters", "code"]
    token = (await act_as(idapp, agent, ent["id"])).json()["access_token"]
    current = (await idapp.api.get("/api/v1/enterprises/current", headers=bearer(token))).json()
    assert current["scopes"] == ["code", "matters"]
    # a scope change is seen at once by the token already issued
    await idapp.api.request("PATCH", url, json={"scopes": ["matters"]}, headers=h)
    current = (await idapp.api.get("/api/v1/enterprises/current", headers=bearer(token))).json()
    assert current["scopes"] == ["matters"]
    invite_url = f"/api/v1/enterprises/{ent['id']}/agents"
    for payload, field in [
        ({"phone": "13800138000", "scopes": ["nothing"], "expires_at": in_days(1)}, "scopes[0]"),
        ({"phone": "13800138000", "scopes": [], "expires_at": in_days(1)}, "scopes"),
        ({"phone": "13800138000", "scopes": ["matters"], "expires_at": "soon"}, "expires_at"),
        ({"phone": "13800138000", "scopes": ["matters", "matters"], "expires_at": in_days(1)}, "scopes"),
        ({"phone": "13800138000", "scopes": ["matters"], "expires_at": in_days(-1)}, "expires_at"),
        ({"phone": "13800138000", "scopes": ["matters"], "expires_at": in_days(5000)}, "expires_at"),
        ({"phone": "13800138000", "scopes": ["matters"], "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"scopes": ["matters"], "expires_at": in_days(1)}, "phone"),
        ({"phone": "123", "scopes": ["matters"], "expires_at": in_days(1)}, "phone"),
    ]:
        body = assert_problem(await idapp.api.post(invite_url, payload, headers=h), 400)
        assert field in [e["field"] for e in body["errors"]], (payload, body)
    assert_problem(await idapp.api.post(invite_url, {"person_id": "pnobody", "scopes": ["matters"],
                                                     "expires_at": in_days(1)}, headers=h), 422, "person_not_found")
    assert_problem(await idapp.api.post(invite_url, {"phone": agent["phone"], "scopes": ["matters"],
                                                     "expires_at": in_days(1)}, headers=h), 409, "agent_already_exists")
    assert_problem(await idapp.api.post(invite_url, {"phone": admin["phone"], "scopes": ["matters"],
                                                     "expires_at": in_days(1)}, headers=h), 409, "agent_is_admin")
    # wrong state: revoking twice, changing a revoked grant
    await idapp.api.post(url + "/revoke", headers=h)
    body = assert_problem(await idapp.api.post(url + "/revoke", headers=h), 409, "agent_not_changeable")
    assert body["state"] == "revoked"
    assert_problem(await idapp.api.request("PATCH", url, json={"scopes": ["code"]}, headers=h), 409,
                   "agent_not_changeable")
    assert_problem(await idapp.api.post(f"/api/v1/enterprises/{ent['id']}/agents/g{'0' * 24}/revoke", headers=h),
                   404, "agent_not_found")


async def test_an_agent_cannot_manage_their_own_grant(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    manager = await agent_person(idapp, name="吴主管")
    grant = await invite_and_accept(idapp, admin, ent["id"], manager, ["agents", "matters"])
    url = f"/api/v1/enterprises/{ent['id']}/agents/{grant['id']}"
    h = bearer(manager["access_token"])
    assert_problem(await idapp.api.request("PATCH", url, json={"scopes": ["agents", "matters"],
                                                               "expires_at": in_days(300)}, headers=h),
                   403, "cannot_manage_self")
    assert_problem(await idapp.api.post(url + "/revoke", headers=h), 403, "cannot_manage_self")


async def test_invitation_flow_for_someone_without_an_account_yet(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    newcomer = await new_resident(idapp.ctx, name="孙新来")
    phone = newcomer.phone
    resp = await idapp.api.post(f"/api/v1/enterprises/{ent['id']}/agents",
                                {"phone": phone, "scopes": ["code"], "expires_at": in_days(3)},
                                headers=bearer(admin["access_token"]))
    assert resp.status == 201 and resp.json()["person_id"] is None and resp.json()["phone"].count("*") == 4
    login = await sms_login(idapp.api, phone, channel=PORTAL)
    items = (await idapp.api.get("/api/v1/me/invitations", headers=bearer(login["access_token"]))).json()["items"]
    assert [i["enterprise_id"] for i in items] == [ent["id"]]
    # accepting needs real name first
    body = assert_problem(await idapp.api.post(f"/api/v1/me/invitations/{items[0]['id']}/accept",
                                               headers=bearer(login["access_token"])), 403, "level_too_low")
    assert body["required_level"] == 2
    verified = await idapp.api.post("/api/v1/me/realname", {"name": newcomer.name, "id_number": newcomer.id_number},
                                    headers=bearer(login["access_token"]))
    token = verified.json()["access_token"]
    ok = await idapp.api.post(f"/api/v1/me/invitations/{items[0]['id']}/accept", headers=bearer(token))
    assert ok.status == 200 and ok.json()["status"] == "active"
    assert_problem(await idapp.api.post(f"/api/v1/me/invitations/{items[0]['id']}/accept", headers=bearer(token)),
                   409, "invitation_not_pending")


async def test_someone_elses_invitation_cannot_be_answered(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    invitee, other = await agent_person(idapp), await agent_person(idapp, name="周旁人")
    resp = await idapp.api.post(f"/api/v1/enterprises/{ent['id']}/agents",
                                {"phone": invitee["phone"], "scopes": ["code"], "expires_at": in_days(3)},
                                headers=bearer(admin["access_token"]))
    inv = resp.json()["id"]
    assert_problem(await idapp.api.post(f"/api/v1/me/invitations/{inv}/accept", headers=bearer(other["access_token"])),
                   404, "invitation_not_found")
    declined = await idapp.api.post(f"/api/v1/me/invitations/{inv}/decline", headers=bearer(invitee["access_token"]))
    assert declined.status == 200 and declined.json()["status"] == "declined"


async def test_enterprise_audit_trail_is_visible_to_its_admin_only(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    agent = await agent_person(idapp)
    await invite_and_accept(idapp, admin, ent["id"], agent, ["matters"])
    await act_as(idapp, agent, ent["id"])
    resp = await idapp.api.get(f"/api/v1/enterprises/{ent['id']}/activity", headers=bearer(admin["access_token"]))
    assert resp.status == 200 and resp.json()["chain_ok"] is True
    actions = [e["action"] for e in resp.json()["items"]]
    assert actions == ["acting.started", "agent.accepted", "agent.invited", "enterprise.bound"]
    assert [e["action_name"] for e in resp.json()["items"]] == ["切换为代表企业办事", "接受经办人授权", "授权经办人",
                                                                "绑定企业"]
    actors = {e["actor"]["id"] for e in resp.json()["items"]}
    assert actors == {admin["person"]["id"], agent["person"]["id"]}
    # who acted, in words: the reader is 本人, the agent a masked name (never in full)
    names = {e["actor"]["id"]: e["actor"]["name"] for e in resp.json()["items"]}
    assert names[admin["person"]["id"]] == "本人"
    assert names[agent["person"]["id"]] == agent["person"]["realname"]["name"] == "李**"
    assert_problem(await idapp.api.get(f"/api/v1/enterprises/{ent['id']}/activity",
                                       headers=bearer(agent["access_token"])), 403, "not_enterprise_admin")


async def test_concurrent_acceptance_creates_one_live_grant(idapp):
    admin, ent, _ = await bound_enterprise(idapp)
    agent = await agent_person(idapp)
    resp = await idapp.api.post(f"/api/v1/enterprises/{ent['id']}/agents",
                                {"phone": agent["phone"], "scopes": ["code"], "expires_at": in_days(3)},
                                headers=bearer(admin["access_token"]))
    inv = resp.json()["id"]
    results = await asyncio.gather(*(idapp.api.post(f"/api/v1/me/invitations/{inv}/accept",
                                                    headers=bearer(agent["access_token"])) for _ in range(5)))
    assert sorted(r.status for r in results).count(200) == 1
    assert all(r.status in (200, 409) for r in results)


async def test_production_registry_provider_against_a_fake_service(backends):
    from superapp.fakes.registry import make_fake_registry
    from tests.support import start_app, stop_app

    uscc = make_uscc()
    records = {}
    server = make_fake_registry("reg-token", records).start()
    running = await start_app(backends, overrides={"registry": {"provider": "http", "url": server.url,
                                                                "token": "reg-token"}})
    try:
        rep = await new_resident(running.ctx, name="冯法人")
        person = await verified_person(running.api, rep, channel=PORTAL)
        h = bearer(person["access_token"])
        assert_problem(await running.api.post("/api/v1/enterprises", {"uscc": uscc, "name": "广州冯氏有限公司"},
                                              headers=h), 422, "enterprise_not_registered")
        records[uscc] = {"uscc": uscc, "name": "广州冯氏有限公司", "type": "有限责任公司", "status": "存续",
                         "legal_representative": {"name": rep.name, "id_number": rep.id_number},
                         "address": "广州市", "established": "2021-01-01"}
        resp = await running.api.post("/api/v1/enterprises", {"uscc": uscc, "name": "广州冯氏有限公司"}, headers=h)
        assert resp.status == 201 and resp.json()["my_role"] == "admin"
    finally:
        await stop_app(running)
        await server.stop()
