"""Helpers of the policy tests: an enterprise registered recently, bound by its legal
representative; a birth certificate issued into a parent's wallet; waiting for the bank."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from tests.support import bearer, issuer_client, issuer_token, make_id_number, make_uscc, new_resident, verified_person

BIRTH = "11100000000019297M001"
HEALTH = "124401004554091607"
GOOD_CARD = "6222020200112233446"  # passes Luhn
BAD_CARD = "6222020200112233445"  # one check digit off


async def young_enterprise(app, days_old: int = 100) -> tuple[Any, dict[str, Any], Any]:
    """A person (its legal representative) and an enterprise established ``days_old`` days ago."""
    from superapp.demo import DemoData, DemoEnterprise, DemoLegalRep, load_demo

    rep = await new_resident(app.ctx, name="开办人")
    person = await verified_person(app.api, rep)
    uscc = make_uscc("91440106")
    e = DemoEnterprise(uscc=uscc, name=f"广州市新开{uscc[-6:]}科技有限公司", type="有限责任公司（自然人投资或控股）",
                       legal_representative=DemoLegalRep(name=rep.name, id_number=rep.id_number),
                       address="广东省广州市天河区测试路 9 号",
                       established=(date.today() - timedelta(days=days_old)).isoformat())
    await load_demo(app.ctx, DemoData(residents=[], enterprises=[e], staff=[], devices=[], issuers=[]))
    return rep, person, e


async def bind_and_act(app, person: dict[str, Any], e: Any) -> tuple[str, dict[str, str]]:
    bound = await app.api.post("/api/v1/enterprises", {"uscc": e.uscc, "name": e.name},
                               headers=bearer(person["access_token"]))
    assert bound.status in (200, 201), bound.body
    eid = bound.json()["id"]
    acting = await app.api.post("/api/v1/auth/act-as", {"enterprise_id": eid}, headers=bearer(person["access_token"]))
    assert acting.status == 200, acting.body
    return eid, bearer(acting.json()["access_token"])


async def issue_birth(app, parent: Any, born: date, baby: str = "王小宝") -> None:
    health = issuer_client(app.ctx, HEALTH)
    child_id = make_id_number(birth=born.strftime("%Y%m%d"))
    body = health.issue_body(f"birth-{child_id}", BIRTH, {"kind": "person", "id_number": parent.id_number,
                                                          "name": parent.name},
                             {"certificate_number": "Q44" + child_id[-7:], "baby_name": baby, "gender": "男",
                              "birth_date": born.isoformat(), "birth_place": "广州市天河区",
                              "mother_name": parent.name, "mother_id_number": parent.id_number})
    resp = await app.api.post("/api/v1/issuer/certificates", body,
                              headers=bearer(await issuer_token(app.api, health)))
    assert resp.status == 201, resp.body


async def claim_in_state(app, headers: dict[str, str], claim_id: str, state: str, timeout: float = 10) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        items = (await app.api.get("/api/v1/policy-claims", headers=headers)).json()["items"]
        claim = next(c for c in items if c["id"] == claim_id)
        if claim["state"] == state or asyncio.get_running_loop().time() > deadline:
            return claim
        await asyncio.sleep(0.05)
