"""秒批: declarative rules over the form and verified facts; all pass -> approved and
completed in the same request with the result certificate in the wallet; any fails ->
the normal queue with the failed rules recorded; bad rules stop the catalog loading."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from card_wallet.catalog import load_catalog
from server.config import ConfigError
from matters.catalog import load_matters
from matters.rules import evaluate
from tests.support import bearer, issuer_client, issuer_token
from tests.matters.test_matters import apply, resident_with_id_card, upload

ROOT = Path(__file__).resolve().parents[2]
HPF = "440100-GJJ-0011"
RESIDENCE = "440100-GA-0012"
PROPERTY = "11100000MB1967002C001"


async def test_housing_fund_withdrawal_is_approved_at_once(idapp):
    r, person, _ = await resident_with_id_card(idapp, "秒提取")
    up = (await upload(idapp, person)).json()
    body = {"matter": HPF, "form": {"name": r.name, "id_number": r.id_number, "monthly_rent": 3000, "amount": 9000,
                                     "bank_account": "6222020200001234567"},
            "materials": [{"id": "lease", "upload_id": up["id"]}]}
    resp = await apply(idapp, person, body)
    assert resp.status == 201, resp.body
    app = resp.json()
    assert app["state"] == "completed"
    assert app["instant_approval"]["passed"] is True and len(app["instant_approval"]["results"]) == 5
    assert [t["state"] for t in app["timeline"]] == ["submitted", "accepted", "in_review", "approved", "completed"]
    assert all(t["actor"] == {"type": "system", "id": "秒批"} for t in app["timeline"][1:])


async def test_a_failed_rule_sends_it_to_the_queue_with_the_reason(idapp):
    r, person, _ = await resident_with_id_card(idapp, "高租金")
    up = (await upload(idapp, person)).json()
    body = {"matter": HPF, "form": {"name": r.name, "id_number": r.id_number, "monthly_rent": 9000, "amount": 9000,
                                     "bank_account": "6222020200001234567"},
            "materials": [{"id": "lease", "upload_id": up["id"]}]}
    app = (await apply(idapp, person, body)).json()
    assert app["state"] == "submitted"
    failed = [x["name"] for x in app["instant_approval"]["results"] if not x["passed"]]
    assert failed == ["月租金不超过 8000 元（超过转人工审核）"]
    from tests.support import demo_staff, staff_token

    staff = await staff_token(idapp.api, demo_staff(idapp.ctx, "gjj.shenhe"))
    detail = (await idapp.api.get(f"/api/v1/staff/applications/{app['id']}", headers=bearer(staff))).json()
    assert detail["instant_approval"]["passed"] is False


async def test_residence_permit_for_a_property_owner_lands_in_the_wallet(idapp):
    r, person, _ = await resident_with_id_card(idapp, "有房者")
    nr = issuer_client(idapp.ctx, "11440100007087655Y")  # 广州市规划和自然资源局
    token = await issuer_token(idapp.api, nr)
    location = "广州市天河区珠江新城华夏路 30 号 1801 房"
    body = nr.issue_body(f"prop-{r.id_number}", PROPERTY, {"kind": "person", "id_number": r.id_number, "name": r.name},
                         {"certificate_number": "粤(2024)广州市不动产权第 0123456 号", "owner": r.name,
                          "id_number": r.id_number, "ownership": "单独所有", "location": location,
                          "unit_number": "440106001001GB00001F00010018", "use": "住宅", "area": 89.5,
                          "term": "2004-01-01 至 2074-01-01"})
    assert (await idapp.api.post("/api/v1/issuer/certificates", body, headers=bearer(token))).status == 201
    h = bearer(person["access_token"])
    prefill = (await idapp.api.get(f"/api/v1/matters/{RESIDENCE}/prefill", headers=h)).json()
    up = (await upload(idapp, person)).json()
    app = (await apply(idapp, person, {"matter": RESIDENCE, "form": {
        **prefill["form"], "residence_address": location, "residence_since": "2024-03-01", "reason": "其他"},
        "materials": [{"id": "residence_proof", "upload_id": up["id"]}]})).json()
    assert app["state"] == "completed" and app["instant_approval"]["passed"] is True
    wallet = (await idapp.api.get("/api/v1/wallet", headers=h)).json()["items"]
    permit = next(w for w in wallet if w["type"] == "11100000000013338W021")
    assert permit["id"] == app["result"]["certificate_id"]
    detail = (await idapp.api.get(f"/api/v1/wallet/{permit['id']}?reveal=1", headers=h)).json()
    assert {f["name"]: f["value"] for f in detail["fields"]}["residence_address"] == location


def _catalog_with(tmp_path, rule):
    data = json.loads((ROOT / "config/catalog/matters.json").read_text())
    data = copy.deepcopy(data)
    next(m for m in data["matters"] if m["code"] == HPF)["instant_approval"]["rules"].append(
        {"name": "坏规则", "rule": rule})
    path = tmp_path / "matters.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


@pytest.mark.parametrize("rule, message", [
    ({"~=": [1, 2]}, "unknown operator"),
    ({">": [{"var": "form.salary"}, 1]}, "unknown fact 'form.salary'"),
    ({">": [{"var": "identity.income"}, 1]}, "unknown fact"),
    ({"var": "certificate.11100000000013338W999"}, "unknown fact"),
    ({"and": [1], "or": [2]}, "exactly one operator"),
])
def test_bad_rules_stop_the_catalog_from_loading(tmp_path, rule, message):
    certificates = load_catalog(ROOT / "config/catalog/certificate_types.json")
    with pytest.raises(ConfigError) as info:
        load_matters(_catalog_with(tmp_path, rule), certificates)
    text = str(info.value)
    assert HPF in text and "坏规则" in text and message in text


def test_rule_evaluation():
    data = {"form.amount": 9000, "form.monthly_rent": 3000, "identity.age": 30, "certificate.X": True}
    assert evaluate({"<=": [{"var": "form.amount"}, {"*": [{"var": "form.monthly_rent"}, 3]}]}, data) is True
    assert evaluate({"and": [{">=": [{"var": "identity.age"}, 18]}, {"var": "certificate.X"}]}, data) is True
    assert evaluate({">": [{"var": "form.missing"}, 1]}, data) is False  # a missing fact never passes
    assert evaluate({"in": ["就业", ["就业", "就读"]]}, data) is True
    assert evaluate({"if": [{"<": [{"var": "identity.age"}, 18]}, "minor", "adult"]}, data) == "adult"
