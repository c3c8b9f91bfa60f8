"""The e-certificate wallet through the HTTP API: issuing with issuer signatures,
归集 to holders who register later, versions and status changes, masking and reveal,
sharing only chosen fields, verification (incl. tampering), images, reminders, the
enterprise wallet, consent delivery to a kiosk, and every listed bad input."""
from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
import zxingcpp
from PIL import Image

from card_wallet.issuer_client import IssuerClient
from tests.support import (assert_problem, bearer, issuer_client, issuer_token, kiosk_token, new_enterprise,
                           new_resident, sms_login, verified_person)

pytestmark = pytest.mark.redis_modes  # Redis-dependent rules: also on a Redis Cluster

PSB = "11440100007012346M"      # 广州市公安局
AMR = "11440100007056787F"      # 广州市市场监督管理局
ID_CARD = "11100000000013338W001"
RESIDENCE = "11100000000013338W021"
LICENCE = "11100000MB0143028R001"
MARRIAGE = "11100000000014197U001"


def id_card_fields(r, **over):
    return {"name": r.name, "gender": r.gender, "nation": "汉", "birth_date": r.birth_date,
            "address": r.address, "id_number": r.id_number, "issuing_authority": "广州市公安局天河分局", **over}


def person_holder(r):
    return {"kind": "person", "id_number": r.id_number, "name": r.name}


async def issue(app, client: IssuerClient, token: str, body: dict):
    return await app.api.post("/api/v1/issuer/certificates", body, headers=bearer(token))


@pytest.fixture
async def psb(idapp):
    client = issuer_client(idapp.ctx, PSB)
    return client, await issuer_token(idapp.api, client)


async def issue_id_card(app, psb, resident, until_days=3650, request_id=None):
    client, token = psb
    body = client.issue_body(request_id or f"r-{resident.id_number}-{until_days}", ID_CARD, person_holder(resident),
                             id_card_fields(resident), valid_until=(date.today() + timedelta(days=until_days)).isoformat())
    resp = await issue(app, client, token, body)
    assert resp.status == 201, resp.body
    return resp.json()


async def test_catalog_lists_at_least_ten_real_types(idapp):
    resp = await idapp.api.get("/api/v1/certificate-types")
    items = resp.json()["items"]
    names = {t["name"] for t in items}
    assert len(items) >= 10
    assert {"居民身份证", "机动车驾驶证", "居民户口簿", "结婚证", "社会保障卡", "营业执照", "食品经营许可证",
            "不动产权证书", "学位证书", "个体工商户营业执照"} <= names
    card = next(t for t in items if t["code"] == ID_CARD)
    assert "id_number" in card["sensitive_fields"] and card["schema"]["properties"]["name"]["title"] == "姓名"


async def test_issued_before_registration_appears_once_verified(idapp, psb):
    resident = await new_resident(idapp.ctx, name="黎先到")
    issued = await issue_id_card(idapp, psb, resident)
    assert issued["version"] == 1 and issued["id"].startswith("1.2.156.3005.2." + ID_CARD + "." + PSB + ".")
    # the resident registers only now
    person = await verified_person(idapp.api, resident)
    wallet = (await idapp.api.get("/api/v1/wallet", headers=bearer(person["access_token"]))).json()["items"]
    assert [w["id"] for w in wallet] == [issued["id"]]
    item = wallet[0]
    assert item["status"] == "valid" and item["type_name"] == "居民身份证" and item["issuer_name"] == "广州市公安局"
    assert resident.id_number not in json.dumps(item, ensure_ascii=False)
    detail = (await idapp.api.get(f"/api/v1/wallet/{issued['id']}", headers=bearer(person["access_token"]))).json()
    values = {f["name"]: f["value"] for f in detail["fields"]}
    assert values["id_number"] == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]
    assert values["name"] == "黎先到" and detail["revealed"] is False
    assert detail["verification"] == {"signature_valid": True, "issuer_trusted": True, "status": "valid",
                                      "within_validity": True, "valid": True, "current_status": None}
    shown = (await idapp.api.get(f"/api/v1/wallet/{issued['id']}?reveal=1",
                                 headers=bearer(person["access_token"]))).json()
    assert {f["name"]: f["value"] for f in shown["fields"]}["id_number"] == resident.id_number


async def test_bad_issue_inputs(idapp, psb):
    client, token = psb
    r = await new_resident(idapp.ctx)
    holder = person_holder(r)
    good = client.issue_body("bad-1", ID_CARD, holder, id_card_fields(r),
                             valid_until=(date.today() + timedelta(days=100)).isoformat())
    # fields not matching the schema: field-level errors
    body = client.issue_body("bad-2", ID_CARD, holder, id_card_fields(r, gender="未知", birth_date="1990-02-30",
                                                                      extra="x"),
                             valid_until=(date.today() + timedelta(days=100)).isoformat())
    problem = assert_problem(await issue(idapp, client, token, body), 400, "fields_invalid")
    fields = {e["field"] for e in problem["errors"]}
    assert {"content.fields.gender", "content.fields.birth_date", "content.fields.extra"} <= fields
    # unknown type
    body = client.issue_body("bad-3", "11100000000013338W999", holder, {"x": 1})
    assert_problem(await issue(idapp, client, token, body), 422, "certificate_type_unknown")
    # issuer not allowed for that type
    body = client.issue_body("bad-4", MARRIAGE, holder, {"x": 1})
    assert_problem(await issue(idapp, client, token, body), 403, "issuer_not_allowed_for_type")
    # a key that is not registered
    assert_problem(await issue(idapp, client, token, {**good, "kid": "nokeynokeynokey0"}), 403, "issuer_key_unknown")
    # forged or tampered signature
    tampered = {**good, "content": {**good["content"], "fields": {**good["content"]["fields"], "name": "李鬼"}}}
    assert_problem(await issue(idapp, client, token, tampered), 422, "signature_invalid")
    other = IssuerClient(PSB, client.kid, issuer_client(idapp.ctx, AMR).key)  # right kid, wrong private key
    forged = other.issue_body("bad-5", ID_CARD, holder, id_card_fields(r),
                              valid_until=(date.today() + timedelta(days=100)).isoformat())
    assert_problem(await issue(idapp, client, token, forged), 422, "signature_invalid")
    # another issuer's code in the content
    amr = issuer_client(idapp.ctx, AMR)
    assert_problem(await issue(idapp, client, token, amr.issue_body("bad-6", LICENCE, holder, {})), 403,
                   "issuer_mismatch")
    # holder and fields disagree
    body = client.issue_body("bad-7", ID_CARD, holder, id_card_fields(r, id_number="440106199003153018"),
                             valid_until=(date.today() + timedelta(days=100)).isoformat())
    assert_problem(await issue(idapp, client, token, body), 400, "holder_invalid")
    # an ID card without an expiry date
    body = client.issue_body("bad-8", ID_CARD, holder, id_card_fields(r))
    assert_problem(await issue(idapp, client, token, body), 400, "validity_invalid")
    # none of it created anything; the good one still works
    assert await idapp.ctx.db.certificates.count_documents({"holder_bidx": idapp.ctx.pii.blind_index(
        r.id_number, "id_number")}) == 0
    assert (await issue(idapp, client, token, good)).status == 201
    # without an issuer token
    assert_problem(await idapp.api.post("/api/v1/issuer/certificates", good), 401, "token_missing")
    person = await sms_login(idapp.api)
    assert_problem(await idapp.api.post("/api/v1/issuer/certificates", good, headers=bearer(person["access_token"])),
                   401, "token_wrong_audience")


async def test_issuer_assertions(idapp):
    client = issuer_client(idapp.ctx, PSB)
    forged = IssuerClient(PSB, client.kid, issuer_client(idapp.ctx, AMR).key)
    assert_problem(await idapp.api.post("/api/v1/issuers/token", {"assertion": forged.assertion()}), 401,
                   "issuer_assertion_invalid")
    unknown = IssuerClient(PSB, "unknownkid000000", client.key)
    assert_problem(await idapp.api.post("/api/v1/issuers/token", {"assertion": unknown.assertion()}), 401,
                   "issuer_key_unknown")
    once = client.assertion()
    assert (await idapp.api.post("/api/v1/issuers/token", {"assertion": once})).status == 200
    assert_problem(await idapp.api.post("/api/v1/issuers/token", {"assertion": once}), 401,
                   "issuer_assertion_replayed")
    assert_problem(await idapp.api.post("/api/v1/issuers/token", {"assertion": client.assertion(lifetime=3600)}), 401,
                   "issuer_assertion_invalid")


async def test_request_ids_make_issuing_idempotent(idapp, psb):
    client, token = psb
    r = await new_resident(idapp.ctx)
    body = client.issue_body("same-id-1", ID_CARD, person_holder(r), id_card_fields(r),
                             valid_until=(date.today() + timedelta(days=100)).isoformat())
    first, again = await issue(idapp, client, token, body), await issue(idapp, client, token, body)
    assert first.status == again.status == 201 and first.json() == again.json()
    other = client.issue_body("same-id-1", ID_CARD, person_holder(r), id_card_fields(r, nation="回"),
                              valid_until=(date.today() + timedelta(days=100)).isoformat())
    assert_problem(await issue(idapp, client, token, other), 422, "request_id_reused")
    assert await idapp.ctx.db.certificates.count_documents({"base": {"$in": [first.json()["id"].rsplit(".", 2)[0]]}}) == 1


async def test_update_suspend_reinstate_revoke(idapp, psb):
    client, token = psb
    r = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, r)
    v1 = await issue_id_card(idapp, psb, r)
    upd = client.update_body("upd-1", v1["id"], id_card_fields(r, address="广东省广州市海珠区新港中路 1 号"),
                             person_holder(r), date.today().isoformat(),
                             (date.today() + timedelta(days=3000)).isoformat())
    resp = await idapp.api.post(f"/api/v1/issuer/certificates/{v1['id']}/update", upd, headers=bearer(token))
    assert resp.status == 201, resp.body
    v2 = resp.json()
    assert v2["version"] == 2 and v2["supersedes"] == v1["id"]
    wallet = (await idapp.api.get("/api/v1/wallet", headers=bearer(person["access_token"]))).json()["items"]
    assert [w["id"] for w in wallet] == [v2["id"]]  # the old version is gone from the wallet
    assert_problem(await idapp.api.get(f"/api/v1/wallet/{v1['id']}", headers=bearer(person["access_token"])), 404)

    async def act(action, rid):
        return await idapp.api.post(f"/api/v1/issuer/certificates/{v2['id']}/{action}",
                                    {"request_id": rid, "reason": "测试"}, headers=bearer(token))

    assert (await act("suspend", "s-1")).json()["status"] == "suspended"
    assert (await idapp.api.get("/api/v1/wallet", headers=bearer(person["access_token"]))).json()["items"][0][
        "status"] == "suspended"
    body = assert_problem(await act("suspend", "s-2"), 409, "illegal_transition")
    assert body["state"] == "suspended"
    assert (await act("reinstate", "s-3")).json()["status"] == "active"
    assert (await act("revoke", "s-4")).json()["status"] == "revoked"
    # acting on a revoked certificate
    assert_problem(await act("suspend", "s-5"), 409, "certificate_revoked")
    assert_problem(await act("reinstate", "s-6"), 409, "certificate_revoked")
    upd3 = client.update_body("upd-2", v2["id"], id_card_fields(r), person_holder(r), date.today().isoformat(),
                              (date.today() + timedelta(days=3000)).isoformat())
    assert_problem(await idapp.api.post(f"/api/v1/issuer/certificates/{v2['id']}/update", upd3,
                                        headers=bearer(token)), 409, "certificate_revoked")
    # another issuer cannot touch it
    amr = issuer_client(idapp.ctx, AMR)
    amr_token = await issuer_token(idapp.api, amr)
    assert_problem(await idapp.api.post(f"/api/v1/issuer/certificates/{v2['id']}/revoke", {"request_id": "x"},
                                        headers=bearer(amr_token)), 404, "certificate_not_found")
    activity = (await idapp.api.get("/api/v1/me/activity", headers=bearer(person["access_token"]))).json()["items"]
    assert {"certificate.issued", "certificate.updated", "certificate.suspended", "certificate.revoked"} <= {
        e["action"] for e in activity}


async def test_sharing_discloses_only_the_chosen_fields(idapp, psb):
    r = await new_resident(idapp.ctx, name="邵分享")
    person = await verified_person(idapp.api, r)
    cert = await issue_id_card(idapp, psb, r)
    h = bearer(person["access_token"])
    resp = await idapp.api.post(f"/api/v1/wallet/{cert['id']}/shares",
                                {"purpose": "租房核验身份", "fields": ["name", "gender"], "ttl": 300}, headers=h)
    assert resp.status == 201, resp.body
    share = resp.json()
    assert share["verify_url"].endswith(share["token"])
    # a phone camera opening the link gets the readable page (which then asks for JSON);
    # opening the page alone discloses nothing and logs no use
    page = await idapp.api.get(f"/api/v1/verify/shares/{share['token']}",
                               headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status == 200 and page.content_type.startswith("text/html"), page.body[:200]
    assert b'id="app"' in page.body and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "邵" not in page.body.decode() and "Accept" in page.headers["Vary"]
    assert (await idapp.api.get("/api/v1/wallet/usage", headers=h)).json()["items"][0]["action"] == "shared"
    # the mini-program shows the link as a QR image (it cannot draw one itself)
    qr = await idapp.api.get(f"/api/v1/verify/shares/{share['token']}/qr")
    assert qr.status == 200 and qr.content_type == "image/png"
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.body)))[0].text == share["verify_url"]
    view = await idapp.api.get(f"/api/v1/verify/shares/{share['token']}")  # any verifier, no login
    assert view.status == 200
    text = view.body.decode()
    body = view.json()
    assert [f["name"] for f in body["fields"]] == ["name", "gender"]
    for secret in (r.id_number, r.address, r.birth_date, "id_number", "address", "birth_date"):
        assert secret not in text, secret
    assert body["verification"]["valid"] is True and body["issuer"]["name"] == "广州市公安局"
    # a kiosk viewing it is named in the holder's 用证记录
    kt = await kiosk_token(idapp.api, idapp.ctx.demo.devices[0])
    await idapp.api.get(f"/api/v1/verify/shares/{share['token']}", headers=bearer(kt))
    usage = (await idapp.api.get("/api/v1/wallet/usage", headers=h)).json()["items"]
    assert [u["action"] for u in usage][:3] == ["viewed", "viewed", "shared"]
    assert usage[0]["by"]["type"] == "device" and usage[1]["by"]["name"] == "匿名核验"
    assert all(u["purpose"] == "租房核验身份" and u["type_name"] == "居民身份证" for u in usage[:3])
    # revoked afterwards: the verification says so
    client, token = psb
    await idapp.api.post(f"/api/v1/issuer/certificates/{cert['id']}/revoke", {"request_id": "rv-share"},
                         headers=bearer(token))
    later = (await idapp.api.get(f"/api/v1/verify/shares/{share['token']}")).json()
    assert later["verification"]["status"] == "revoked" and later["verification"]["valid"] is False
    # and a revoked certificate cannot be shared again
    assert_problem(await idapp.api.post(f"/api/v1/wallet/{cert['id']}/shares",
                                        {"purpose": "再次出示", "fields": ["name"]}, headers=h), 409,
                   "certificate_not_valid")


async def test_share_bad_inputs_and_expiry(idapp, psb):
    r = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, r)
    cert = await issue_id_card(idapp, psb, r)
    h = bearer(person["access_token"])
    url = f"/api/v1/wallet/{cert['id']}/shares"
    assert_problem(await idapp.api.post(url, {"purpose": "核验", "fields": ["soul"]}, headers=h), 400)
    assert_problem(await idapp.api.post(url, {"purpose": "核验", "fields": ["name"], "ttl": 601}, headers=h), 400)
    assert_problem(await idapp.api.post(url, {"purpose": "核验", "fields": []}, headers=h), 400)
    share = (await idapp.api.post(url, {"purpose": "核验", "fields": ["name"]}, headers=h)).json()
    await idapp.ctx.db.certificate_shares.update_one({"certificate_id": cert["id"]}, {"$set": {"expires_at": 1}})
    assert_problem(await idapp.api.get(f"/api/v1/verify/shares/{share['token']}"), 410, "share_expired")
    assert_problem(await idapp.api.get(f"/api/v1/verify/shares/{'y' * 32}"), 404, "share_not_found")
    # someone else's certificate, and reveal by someone other than the holder
    other = await verified_person(idapp.api, await new_resident(idapp.ctx))
    assert_problem(await idapp.api.get(f"/api/v1/wallet/{cert['id']}?reveal=1",
                                       headers=bearer(other["access_token"])), 404, "certificate_not_found")
    assert_problem(await idapp.api.post(url, {"purpose": "核验", "fields": ["name"]},
                                        headers=bearer(other["access_token"])), 404, "certificate_not_found")


async def test_a_changed_stored_certificate_fails_verification(idapp, psb):
    r = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, r)
    cert = await issue_id_card(idapp, psb, r)
    pii, db = idapp.ctx.pii, idapp.ctx.db
    doc = await db.certificates.find_one({"_id": cert["id"]})
    content = json.loads(pii.decrypt(doc["content_enc"], "certificate"))
    content["fields"]["address"] = "某地某街 1 号"  # someone with database and key access edits it
    await db.certificates.update_one({"_id": cert["id"]},
                                     {"$set": {"content_enc": pii.encrypt(json.dumps(content), "certificate")}})
    detail = (await idapp.api.get(f"/api/v1/wallet/{cert['id']}", headers=bearer(person["access_token"]))).json()
    assert detail["verification"]["signature_valid"] is False and detail["verification"]["valid"] is False
    # a certificate whose ciphertext was altered reports the same
    await db.certificates.update_one({"_id": cert["id"]}, {"$set": {"content_enc": doc["content_enc"][:-6] + "AAAAAA"}})
    detail = (await idapp.api.get(f"/api/v1/wallet/{cert['id']}", headers=bearer(person["access_token"]))).json()
    assert detail["verification"]["signature_valid"] is False
    # and the 免证办 check no longer accepts it
    found = await idapp.ctx.wallet.satisfies("person", pii.blind_index(r.id_number, "id_number"), [ID_CARD])
    assert found[ID_CARD] is None


async def test_image_has_a_verification_qr(idapp, psb):
    r = await new_resident(idapp.ctx, name="尹图片")
    person = await verified_person(idapp.api, r)
    cert = await issue_id_card(idapp, psb, r)
    resp = await idapp.api.get(f"/api/v1/wallet/{cert['id']}/image?purpose=%E5%8A%9E%E7%90%86%E5%B1%85%E4%BD%8F%E8%AF%81",
                               headers=bearer(person["access_token"]))
    assert resp.status == 200 and resp.content_type == "image/png"
    img = Image.open(io.BytesIO(resp.body))
    assert img.size == (1000, 640)
    codes = zxingcpp.read_barcodes(img)
    assert codes and "/api/v1/verify/shares/" in codes[0].text
    token = codes[0].text.rsplit("/", 1)[1]
    view = (await idapp.api.get(f"/api/v1/verify/shares/{token}")).json()
    assert view["purpose"] == "办理居住证" and "id_number" not in [f["name"] for f in view["fields"]]
    assert_problem(await idapp.api.get(f"/api/v1/wallet/{cert['id']}/image", headers=bearer(person["access_token"])),
                   400, "validation_failed")


async def test_expiring_expired_and_reminders(idapp, psb):
    r = await new_resident(idapp.ctx)
    person = await verified_person(idapp.api, r)
    client, token = psb
    soon = await issue_id_card(idapp, psb, r, until_days=10)
    h = bearer(person["access_token"])
    assert (await idapp.api.get("/api/v1/wallet", headers=h)).json()["items"][0]["status"] == "expiring"
    assert await idapp.ctx.wallet.scan_reminders() >= 1
    assert await idapp.ctx.wallet.scan_reminders() == 0  # once per certificate version
    reminders = (await idapp.api.get("/api/v1/wallet/reminders", headers=h)).json()["items"]
    assert [x["certificate_id"] for x in reminders] == [soon["id"]] and "到期" in reminders[0]["message"]
    # a residence permit that expired yesterday (issued last year)
    permit = client.issue_body("permit-1", RESIDENCE, person_holder(r),
                               {"name": r.name, "id_number": r.id_number, "residence_address": "广州市天河区",
                                "issue_place": "广州市"},
                               valid_from=(date.today() - timedelta(days=300)).isoformat(),
                               valid_until=(date.today() - timedelta(days=1)).isoformat())
    resp = await issue(idapp, client, token, permit)
    assert resp.status == 201, resp.body
    items = {w["type"]: w["status"] for w in (await idapp.api.get("/api/v1/wallet", headers=h)).json()["items"]}
    assert items[RESIDENCE] == "expired"
    body = assert_problem(await idapp.api.post(f"/api/v1/wallet/{resp.json()['id']}/shares",
                                               {"purpose": "核验", "fields": ["name"]}, headers=h), 409,
                          "certificate_not_valid")
    assert body["state"] == "expired"


async def test_enterprise_wallet_needs_the_certificates_scope(idapp):
    rep = await new_resident(idapp.ctx, name="庞法人")
    admin = await verified_person(idapp.api, rep, channel="portal")
    reg = await new_enterprise(idapp.ctx, rep, name="广州证照测试有限公司")
    ent = (await idapp.api.post("/api/v1/enterprises", {"uscc": reg.uscc, "name": reg.name},
                                headers=bearer(admin["access_token"]))).json()
    amr = issuer_client(idapp.ctx, AMR)
    amr_token = await issuer_token(idapp.api, amr)
    body = amr.issue_body("lic-" + reg.uscc, LICENCE, {"kind": "enterprise", "uscc": reg.uscc, "name": reg.name},
                          {"name": reg.name, "uscc": reg.uscc, "type": "有限责任公司", "legal_representative": rep.name,
                           "established": "2020-01-01", "address": reg.address, "business_scope": "软件开发"})
    assert (await idapp.api.post("/api/v1/issuer/certificates", body, headers=bearer(amr_token))).status == 201
    acting = (await idapp.api.post("/api/v1/auth/act-as", {"enterprise_id": ent["id"]},
                                   headers=bearer(admin["access_token"]))).json()["access_token"]
    items = (await idapp.api.get("/api/v1/wallet", headers=bearer(acting))).json()["items"]
    assert [i["type_name"] for i in items] == ["营业执照"]
    # the person's own wallet does not show it
    own = (await idapp.api.get("/api/v1/wallet", headers=bearer(admin["access_token"]))).json()["items"]
    assert all(i["holder_kind"] == "person" for i in own)
    # an agent with matters only
    agent = await verified_person(idapp.api, await new_resident(idapp.ctx, name="甘经办"), channel="portal")
    inv = (await idapp.api.post(f"/api/v1/enterprises/{ent['id']}/agents",
                                {"phone": agent["phone"], "scopes": ["matters"],
                                 "expires_at": f"{date.today() + timedelta(days=30)}T00:00:00+08:00"},
                                headers=bearer(admin["access_token"]))).json()
    await idapp.api.post(f"/api/v1/me/invitations/{inv['id']}/accept", headers=bearer(agent["access_token"]))
    agent_acting = (await idapp.api.post("/api/v1/auth/act-as", {"enterprise_id": ent["id"]},
                                         headers=bearer(agent["access_token"]))).json()["access_token"]
    body = assert_problem(await idapp.api.get("/api/v1/wallet", headers=bearer(agent_acting)), 403, "scope_missing")
    assert body["required_scope"] == "certificates"


async def test_kiosk_receives_a_consented_certificate_with_a_watermark(idapp, psb):
    r = await new_resident(idapp.ctx, name="侯亮证")
    person = await verified_person(idapp.api, r)
    cert = await issue_id_card(idapp, psb, r)
    kt = await kiosk_token(idapp.api, idapp.ctx.demo.devices[0])
    code = (await idapp.api.get("/api/v1/codes/person", headers=bearer(person["access_token"]))).json()["code"]
    scan = (await idapp.api.post("/api/v1/scans", {"code": code}, headers=bearer(kt))).json()
    consent = (await idapp.api.post(f"/api/v1/scans/{scan['scan_id']}/requests",
                                    {"purpose": "办理居住证", "items": [f"certificate:{ID_CARD}", "identity:phone"]},
                                    headers=bearer(kt))).json()
    await idapp.api.post(f"/api/v1/consents/{consent['id']}/approve", {"items": [f"certificate:{ID_CARD}"]},
                         headers=bearer(person["access_token"]))
    got = (await idapp.api.get(f"/api/v1/consents/{consent['id']}", headers=bearer(kt))).json()
    delivered = got["values"][f"certificate:{ID_CARD}"]
    assert delivered["certificate_id"] == cert["id"] and delivered["fields"]["id_number"] == r.id_number
    assert "办理居住证" in delivered["watermark"] and delivered["verification"]["valid"] is True
    assert "identity:phone" not in got["values"]
    image = await idapp.api.get(delivered["image_url"])
    assert image.status == 200 and image.content_type == "image/png"
    # the hall screen shows it with the ID number half hidden: the same card, other pixels
    masked = await idapp.api.get(delivered["image_url"] + "?masked=true")
    assert masked.status == 200 and masked.body != image.body
    assert Image.open(io.BytesIO(masked.body)).size == Image.open(io.BytesIO(image.body)).size
    assert_problem(await idapp.api.get(delivered["image_url"] + "?masked=perhaps"), 400, "validation_failed")
    usage = (await idapp.api.get("/api/v1/wallet/usage", headers=bearer(person["access_token"]))).json()["items"]
    assert usage[0]["action"] == "disclosed" and usage[0]["purpose"] == "办理居住证"
    assert usage[0]["by"]["name"] == "天河区政务服务中心 1 号自助终端"


async def test_admin_registers_an_issuer_and_its_keys_are_published(idapp, tmp_path):
    from server.keys import public_pem_from_private
    from tests.support import demo_staff, make_uscc, staff_token, write_ec_key

    admin = await staff_token(idapp.api, demo_staff(idapp.ctx, "admin"))
    pem = (write_ec_key(tmp_path / "k.pem") and (tmp_path / "k.pem").read_text())
    code = make_uscc("12440100")
    body = {"code": code, "name": "广州市测试学院", "department": "edu", "allowed_types": ["11100000000017355J001"],
            "public_key_pem": public_pem_from_private(pem)}
    resp = await idapp.api.post("/api/v1/admin/issuers", body, headers=bearer(admin))
    assert resp.status == 201, resp.body
    kid = resp.json()["keys"][0]["kid"]
    assert_problem(await idapp.api.post("/api/v1/admin/issuers", body, headers=bearer(admin)), 409, "issuer_exists")
    assert_problem(await idapp.api.post("/api/v1/admin/issuers", {**body, "code": make_uscc("12440100"),
                                                                  "allowed_types": ["nope"]}, headers=bearer(admin)),
                   400, "certificate_type_unknown")
    clerk = await staff_token(idapp.api, demo_staff(idapp.ctx, "chuangkou.th"))
    assert_problem(await idapp.api.post("/api/v1/admin/issuers", body, headers=bearer(clerk)), 403, "role_missing")
    keys = (await idapp.api.get("/api/v1/issuers/keys")).json()["keys"]
    assert any(k["kid"] == kid and k["issuer"] == code and k["status"] == "active" for k in keys)
    # the new issuer can now sign degrees, and only degrees
    client = IssuerClient(code, kid, pem)
    token = await issuer_token(idapp.api, client)
    r = await new_resident(idapp.ctx)
    degree = client.issue_body("deg-1", "11100000000017355J001", person_holder(r), {
        "name": r.name, "id_number": r.id_number, "degree": "学士", "discipline": "计算机科学与技术",
        "institution": "广州市测试学院", "award_date": "2024-06-30", "certificate_number": "1055812024000123"})
    assert (await idapp.api.post("/api/v1/issuer/certificates", degree, headers=bearer(token))).status == 201
