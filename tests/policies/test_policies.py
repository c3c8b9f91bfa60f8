"""政策兑现 through HTTP: an enterprise bound by its legal representative is matched to the
小微企业开办补贴, confirms, the department approves, the fake bank pays and the callback marks
it paid — exactly once when the callback comes three times; a mother whose child's 出生医学证明
lands in her wallet is told of the 育儿补贴 without asking; 免申即享 for the elderly; the bad
inputs refused with nothing changed; 公示 masked."""
from __future__ import annotations

import json
from datetime import date, timedelta

from policies.bank import sign
from tests.policies.support import BAD_CARD, GOOD_CARD, bind_and_act, claim_in_state, issue_birth, young_enterprise
from tests.support import assert_problem, bearer, demo_staff, new_resident, staff_token, verified_person

KAIBAN = "gz-kbbt-2026"
YUER = "gz-yebt-2026"
GAOLING = "gz-gljt-2026"


async def test_an_enterprise_is_matched_confirms_is_approved_and_paid_exactly_once(idapp):
    api = idapp.api
    rep, person, e = await young_enterprise(idapp)
    eid, h = await bind_and_act(idapp, person, e)
    # binding alone told the legal representative (主动提醒), once per policy
    told = await idapp.ctx.db.notifications.find({"person_id": person["person"]["id"], "about": "policy"}).to_list(50)
    assert KAIBAN in {n["policy_id"] for n in told}

    matches = await api.get("/api/v1/policies/matches", headers=h)
    assert matches.status == 200, matches.body
    by = {m["policy"]["code"]: m for m in matches.json()["items"]}
    assert matches.json()["holder"]["kind"] == "enterprise"
    assert by[KAIBAN]["status"] == "maybe" and [n["name"] for n in by[KAIBAN]["needs"]] == ["insured_employees"]
    assert by["gz-wgfh-2026"]["status"] == "not_eligible" and by["gz-wgfh-2026"]["failing"] == ["依法登记满 1 年"]
    assert "gz-jxbt-2025" not in by  # expired: not offered

    url = f"/api/v1/policies/{KAIBAN}/claims"
    body = {"form": {"insured_employees": 3}, "bank_account": GOOD_CARD, "account_name": e.name}
    # bad inputs: nothing is created
    assert_problem(await api.post(url, {**body, "bank_account": BAD_CARD}, headers=h), 400, "bank_account_invalid")
    assert_problem(await api.post(url, {**body, "form": {}}, headers=h), 400, "declaration_missing")
    assert_problem(await api.post(url, {**body, "form": {"no_such": 1}}, headers=h), 400, "declaration_invalid")
    refused = assert_problem(await api.post(url, {**body, "form": {"insured_employees": 0}}, headers=h), 409,
                             "not_eligible")
    assert refused["failing_rules"] == ["已为职工参保"]
    assert_problem(await api.post("/api/v1/policies/gz-jxbt-2025/claims", {**body, "form": {"interns": 2}},
                                  headers=h), 409, "policy_expired")
    assert_problem(await api.post(f"/api/v1/policies/{YUER}/claims", {**body, "form": {}}, headers=h), 409,
                   "wrong_target")
    assert await idapp.ctx.db.policy_claims.count_documents({"holder": f"enterprise:{eid}"}) == 0

    made = await api.post(url, body, headers=h)
    assert made.status == 201, made.body
    claim = made.json()
    assert claim["state"] == "confirmed" and claim["amount_yuan"] == 3000.0
    assert claim["bank_account"] == "6222 **** **** 3446" and GOOD_CARD not in made.body.decode()
    doc = await idapp.ctx.db.policy_claims.find_one({"_id": claim["id"]})
    assert GOOD_CARD not in json.dumps(doc, default=str)  # encrypted at rest
    assert_problem(await api.post(url, body, headers=h), 409, "claim_exists")  # one per period

    # the department: another department sees nothing of it
    other = bearer(await staff_token(api, demo_staff(idapp.ctx, "rsj.zhengce")))
    assert claim["id"] not in {c["id"] for c in (await api.get("/api/v1/staff/policy-claims", headers=other)).json()["items"]}
    assert_problem(await api.post("/api/v1/staff/policy-claims/approve", {"claim_ids": [claim["id"]]}, headers=other),
                   404, "claim_not_found")
    s = bearer(await staff_token(api, demo_staff(idapp.ctx, "gxj.zhengce")))
    queue = (await api.get(f"/api/v1/staff/policy-claims?state=confirmed&policy={KAIBAN}", headers=s)).json()["items"]
    assert claim["id"] in {c["id"] for c in queue}
    approved = await api.post("/api/v1/staff/policy-claims/approve", {"claim_ids": [claim["id"]]}, headers=s)
    assert approved.status == 200, approved.body
    assert approved.json()["items"][0]["state"] == "paying"

    paid = await claim_in_state(idapp, h, claim["id"], "paid")
    assert paid["state"] == "paid" and paid["paid_at"]
    bank = idapp.runner.fake_bank
    callback = next(c for c in bank.callbacks if json.loads(c["body"])["claim_id"] == claim["id"])
    # the callback delivered twice more: no change, no second payment
    for _ in range(2):
        again = await api.request("POST", "/api/v1/policy-payouts/callback", body=callback["body"],
                                  headers={"Content-Type": "application/json", "X-Signature": callback["signature"]})
        assert again.status == 200 and again.json() == {"claim_id": claim["id"], "state": "paid", "duplicate": True}
    assert bank.paid_fen[GOOD_CARD] >= 300000
    assert len([p for p in bank.payouts.values() if p["claim_id"] == claim["id"]]) == 1
    doc = await idapp.ctx.db.policy_claims.find_one({"_id": claim["id"]})
    assert [x.split("@")[0] for x in doc["history"]].count("paid") == 1
    assert await idapp.ctx.db.audit_log.count_documents({"action": "policy.paid", "target.id": claim["id"]}) == 1

    # a bad signature, or an unknown claim: refused, nothing changed
    forged = json.dumps({"payout_id": f"{claim['id']}-1", "claim_id": claim["id"], "status": "failed"}).encode()
    bad = await api.request("POST", "/api/v1/policy-payouts/callback", body=forged,
                            headers={"Content-Type": "application/json", "X-Signature": "0" * 64})
    assert_problem(bad, 401, "signature_invalid")
    unknown = json.dumps({"payout_id": "k" + "0" * 24 + "-1", "claim_id": "k" + "0" * 24, "status": "paid"}).encode()
    nobody = await api.request("POST", "/api/v1/policy-payouts/callback", body=unknown,
                               headers={"Content-Type": "application/json", "X-Signature": sign(bank.key, unknown)})
    assert_problem(nobody, 404, "payout_not_found")
    assert (await idapp.ctx.db.policy_claims.find_one({"_id": claim["id"]}))["state"] == "paid"

    # 公示: masked names, no identifiers
    public = await api.get(f"/api/v1/policies/{KAIBAN}/publicity")
    assert public.status == 200
    names = [i["name"] for i in public.json()["items"]]
    assert e.name not in public.body.decode() and e.uscc not in public.body.decode()
    assert any(n.startswith("广") and "*" in n for n in names)
    assert_problem(await api.get(f"/api/v1/policies/{YUER}/publicity"), 404, "publicity_off")


async def test_a_mother_is_told_of_the_childcare_subsidy_when_the_birth_certificate_arrives(idapp):
    api = idapp.api
    mother = await new_resident(idapp.ctx, name="李妈妈", birth="19930412")
    me = await verified_person(api, mother)
    h = bearer(me["access_token"])
    before = (await api.get("/api/v1/policies/matches", headers=h)).json()["items"]
    assert next(m for m in before if m["policy"]["code"] == YUER)["status"] == "not_eligible"

    await issue_birth(idapp, mother, date.today() - timedelta(days=40))
    # told without asking, once, with a claim waiting for her confirmation
    told = await idapp.ctx.db.notifications.find({"person_id": me["person"]["id"], "policy_id": YUER}).to_list(10)
    assert len(told) == 1 and told[0]["about"] == "policy" and told[0]["page"] == f"/policies/{YUER}"
    claims = (await api.get("/api/v1/policy-claims", headers=h)).json()["items"]
    waiting = next(c for c in claims if c["policy"] == YUER)
    assert waiting["state"] == "pending_confirmation" and waiting["amount_yuan"] == 3600.0
    await idapp.ctx.policies.recheck(f"person:{me['person']['id']}")  # again: not told twice
    assert await idapp.ctx.db.notifications.count_documents({"person_id": me["person"]["id"], "policy_id": YUER}) == 1

    done = await api.post(f"/api/v1/policies/{YUER}/claims",
                          {"form": {}, "bank_account": GOOD_CARD, "account_name": mother.name}, headers=h)
    assert done.status == 201, done.body
    assert done.json()["id"] == waiting["id"] and done.json()["state"] == "confirmed"


async def test_the_elderly_get_the_allowance_without_applying_and_a_failed_payout_is_retried(idapp):
    api = idapp.api
    old = await new_resident(idapp.ctx, name="高寿星", birth="19400101", region="440106")
    me = await verified_person(api, old)
    h = bearer(me["access_token"])
    matches = (await api.get("/api/v1/policies/matches", headers=h)).json()["items"]
    allowance = next(m for m in matches if m["policy"]["code"] == GAOLING)
    assert allowance["status"] == "eligible" and allowance["claim"]["state"] == "granted"
    bank = idapp.runner.fake_bank
    bank.fail_next = 1
    made = await api.post(f"/api/v1/policies/{GAOLING}/claims",
                          {"form": {}, "bank_account": GOOD_CARD, "account_name": old.name}, headers=h)
    assert made.status == 201, made.body
    failed = await claim_in_state(idapp, h, made.json()["id"], "failed")
    assert failed["state"] == "failed"
    s = bearer(await staff_token(api, demo_staff(idapp.ctx, "mzj.zhengce")))
    retried = await api.post(f"/api/v1/staff/policy-claims/{failed['id']}/retry", {}, headers=s)
    assert retried.status == 200, retried.body
    paid = await claim_in_state(idapp, h, failed["id"], "paid")
    assert paid["state"] == "paid" and paid["attempts"] == 2


async def test_the_catalog_refuses_rules_over_unknown_facts_naming_the_rule(idapp):
    import pytest

    from policies.catalog import PolicyCatalogError, parse_policy

    raw = json.loads((idapp.ctx.settings.root / "config/catalog/policies.json").read_text(encoding="utf-8"))
    good = raw["items"][0]
    bad = {**good, "rules": [{"name": "月收入", "rule": {"<": [{"var": "identity.income"}, 3000]}}]}
    with pytest.raises(PolicyCatalogError, match="月收入.*identity.income"):
        parse_policy(bad, raw["departments"], idapp.ctx.catalog)
    person_fact = {**good, "target": "enterprise"}
    with pytest.raises(PolicyCatalogError, match="unknown fact"):
        parse_policy(person_fact, raw["departments"], idapp.ctx.catalog)
    listed = (await idapp.api.get("/api/v1/policies")).json()["items"]
    assert len(listed) >= 8 and {p["mode"] for p in listed} == {"auto", "confirm", "apply"}
