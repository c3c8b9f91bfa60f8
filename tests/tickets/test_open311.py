"""Open311 GeoReport v2 on the 12345 tickets, followed by a third-party client (PyPI
``georeport``, which speaks the specification's GET resources in JSON and XML); a partner
files requests form-encoded with its API key, as the specification says."""
from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from georeport import GeoReport

from tests.support import assert_problem, bearer
from tests.tickets.support import desk_ok, staff

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def partner_key(app) -> str:
    admin = await staff(app, "admin")
    resp = await app.api.post("/api/v1/admin/open311/partners", {"name": "天河街坊 311 应用"}, headers=bearer(admin))
    assert resp.status == 201, resp.body
    return resp.json()["api_key"]


async def post_request(app, fmt: str = "json", **fields: str):
    return await app.api.request("POST", f"/open311/v2/requests.{fmt}", body=urlencode(fields), headers=FORM)


async def test_a_311_client_files_and_follows_requests(idapp):
    key = await partner_key(idapp)
    resp = await post_request(idapp, api_key=key, service_code="cg-road-damage", lat="23.1291", long="113.2644",
                              address_string="广州市越秀区北京路 50 号", description="人行道井盖缺失，已有行人绊倒，请尽快处理",
                              first_name="小明", last_name="陈", phone="13800000000")
    assert resp.status == 201, resp.body
    [filed] = resp.json()
    assert filed["service_request_id"].startswith("12345-") and filed["token"].startswith("t")

    root = f"{idapp.runner.url}/open311/v2"
    client, xml_client = GeoReport(root), GeoReport(root, output_format="xml")
    services = await asyncio.to_thread(client.get_service_list)
    road = next(s for s in services if s["service_code"] == "cg-road-damage")
    assert road["service_name"] == "道路破损、井盖缺失" and road["type"] == "realtime"
    xml_services = await asyncio.to_thread(xml_client.get_service_list)
    assert any(s["service_code"] == "cg-road-damage" for s in xml_services)
    definition = await asyncio.to_thread(client.get_service_definition, "cg-road-damage")
    assert definition["service_code"] == "cg-road-damage"

    got = await asyncio.to_thread(client.get_service_request, filed["service_request_id"])
    assert got["status"] == "open" and got["agency_responsible"] == "广州市12345政务服务便民热线中心"
    assert got["lat"] == 23.1291 and got["address"] == "广州市越秀区北京路 50 号"
    assert "13800000000" not in str(got) and "陈" not in str(got)  # the reporter's contact stays ours
    listed = await asyncio.to_thread(client.get_service_requests, service_code="cg-road-damage", status="open")
    assert filed["service_request_id"] in [r["service_request_id"] for r in listed]

    # the centre works it: the client sees the department, the due time, then the answer and "closed"
    dispatcher, cg = await staff(idapp, "rx.paidan"), await staff(idapp, "cg.chuli")
    t = await desk_ok(idapp, dispatcher, filed["token"], "accept", 1)
    t = await desk_ok(idapp, dispatcher, t["id"], "dispatch", t["version"])
    assert t["partner"] == "天河街坊 311 应用" and t["reporter"]["name"] == "陈 小明"
    got = await asyncio.to_thread(client.get_service_request, filed["service_request_id"])
    assert got["agency_responsible"] == "广州市城市管理和综合执法局" and got["expected_datetime"]
    t = await desk_ok(idapp, cg, t["id"], "sign", t["version"])
    t = await desk_ok(idapp, cg, t["id"], "answer", t["version"], comment="井盖已补装")
    await desk_ok(idapp, dispatcher, t["id"], "archive", t["version"])
    xml_got = await asyncio.to_thread(xml_client.get_service_request, filed["service_request_id"])
    assert xml_got["status"] == "closed" and xml_got["status_notes"] == "井盖已补装"
    token = (await idapp.api.get(f"/open311/v2/tokens/{filed['token']}.json")).json()
    assert token == [{"service_request_id": filed["service_request_id"], "token": filed["token"]}]
    discovery = (await idapp.api.get("/open311/v2/discovery.json")).json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"


async def test_residents_tickets_are_not_open311_requests_and_bad_posts_are_refused(idapp):
    from tests.support import new_resident, verified_person
    from tests.tickets.support import STREETLIGHT, file

    person = await verified_person(idapp.api, await new_resident(idapp.ctx, name="隐私诉求人"))
    private = (await file(idapp, person, STREETLIGHT)).json()
    assert_problem(await idapp.api.get(f"/open311/v2/requests/{private['number']}.json"), 404)
    assert private["number"] not in str((await idapp.api.get("/open311/v2/requests.json")).json())

    key = await partner_key(idapp)
    good = {"api_key": key, "service_code": "cg-streetlight", "address_string": "天河路 1 号", "description": "路灯闪烁不定"}
    assert_problem(await post_request(idapp, **{**good, "api_key": "wrong-key-123"}), 403, "api_key_invalid")
    assert_problem(await post_request(idapp, **{k: v for k, v in good.items() if k != "api_key"}), 403)
    assert_problem(await post_request(idapp, **{**good, "service_code": "nope"}), 400, "ticket_invalid")
    assert_problem(await post_request(idapp, **{**good, "address_string": ""}), 400, "location_required")
    assert_problem(await post_request(idapp, **{**good, "lat": "51.5", "long": "-0.1"}), 400, "validation_failed")
    assert_problem(await post_request(idapp, **{**good, "description": "<b>路灯</b>坏了"}), 400, "ticket_invalid")
    assert_problem(await idapp.api.get("/open311/v2/requests.json?start_date=yesterday"), 400, "validation_failed")
    old = await idapp.api.get("/open311/v2/requests.json?start_date=2000-01-01T00:00:00Z")  # the last 90 days
    assert old.status == 200 and isinstance(old.json(), list)
    assert_problem(await idapp.api.get("/open311/v2/services/nope.json"), 404)
    xml = await post_request(idapp, "xml", **good)
    assert xml.status == 201 and xml.body.startswith(b"<?xml") and b"<service_request_id>12345-" in xml.body
    # only the platform admin registers partners
    assert_problem(await idapp.api.post("/api/v1/admin/open311/partners", {"name": "某应用"},
                                        headers=bearer(await staff(idapp, "rx.paidan"))), 403)
