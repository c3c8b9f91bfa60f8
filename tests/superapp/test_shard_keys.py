"""docs/SCALING.md is kept true: the main journeys run with PyMongo command monitoring, and
every query, update, delete and insert on a collection the document marks *sharded* must
carry its shard key, unless the document lists that query's shape as a scatter-gather it
accepts. Every collection the journeys touch must be in the document's plan."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pymongo import monitoring

from tests.journeys import OPERATIONS, RESIDENCE, _residence_body, id_card_for, idem
from tests.support import (bearer, demo_staff, kiosk_token, new_resident, staff_token, start_app, stop_app,
                           verified_person)

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "docs" / "SCALING.md"


class Recorder(monitoring.CommandListener):
    """The commands sent to one database (set ``database`` to start)."""

    def __init__(self) -> None:
        self.database: str | None = None
        self.commands: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.database is not None and event.database_name == self.database:
            self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


RECORDER = Recorder()
monitoring.register(RECORDER)  # before any client of the app under test is created


def read_plan() -> dict[str, dict[str, Any]]:
    """The machine-read table of SCALING.md: collection, plan, shard key, accepted scatter-gathers."""
    text = PLAN.read_text(encoding="utf-8")
    table = text.split("<!-- shard-plan:begin -->", 1)[1].split("<!-- shard-plan:end -->", 1)[0]
    plan = {}
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name, kind, key, scatter = cells[0].strip("`"), cells[1], cells[2], cells[3]
        assert kind in ("sharded", "unsharded"), line
        fields = re.findall(r"([A-Za-z_]+): (?:hashed|1)", key)
        shapes = {"+".join(sorted(s.split("+"))) for s in re.findall(r"`([A-Za-z_.+$]+)`", scatter)}
        plan[name] = {"sharded": kind == "sharded", "key": fields, "scatter": shapes,
                      "spec": key.replace("`", "") if kind == "sharded" else ""}
        assert kind == "unsharded" or fields, f"{name}: a sharded collection needs its shard key"
    return plan


def filters(name: str, command: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(operation, filter or document) pairs of one command."""
    if name == "find":
        return [("find", command.get("filter", {}))]
    if name in ("count", "distinct"):
        return [(name, command.get("query", {}))]
    if name == "aggregate":
        pipeline = command.get("pipeline", [])
        return [("aggregate", pipeline[0].get("$match", {}) if pipeline else {})]
    if name == "update":
        return [("update", u["q"]) for u in command.get("updates", [])]
    if name == "delete":
        return [("delete", d["q"]) for d in command.get("deletes", [])]
    if name == "findAndModify":
        return [("findAndModify", command.get("query", {}))]
    if name == "insert":
        return [("insert", d) for d in command.get("documents", [])]
    return []


def targeted(flt: dict[str, Any], field: str) -> bool:
    """The filter pins the shard key's first field to one value or a list of values."""
    if field not in flt:
        return False
    value = flt[field]
    return not isinstance(value, dict) or set(value) <= {"$eq", "$in"}


async def more_journeys(app: Any) -> None:
    """What the counting operations leave out: the lists, histories, queues and sessions."""
    r = await new_resident(app.ctx, name="分片走查")
    person = await verified_person(app.api, r)
    h = bearer(person["access_token"])
    card = await id_card_for(app, r)
    body = await _residence_body(app, person)
    application = (await app.api.post("/api/v1/applications", body, headers={**h, **idem()})).json()
    kiosk = await kiosk_token(app.api, app.ctx.demo.devices[0])
    code = (await app.api.get("/api/v1/codes/person", headers=h)).json()
    scan = (await app.api.post("/api/v1/scans", {"code": code["code"]}, headers=bearer(kiosk))).json()
    await app.api.post(f"/api/v1/scans/{scan['scan_id']}/requests",
                       {"purpose": "办理居住证", "items": ["identity:name"], "matter": RESIDENCE}, headers=bearer(kiosk))
    share = (await app.api.post(f"/api/v1/wallet/{card}/shares", {"purpose": "租房核验身份", "fields": ["name"],
                                                                   "ttl": 300}, headers=h)).json()
    await asyncio.sleep(1.5)  # the worker records the scan and sends the notifications
    for path in ("/api/v1/applications", f"/api/v1/applications/{application['id']}", "/api/v1/codes/history",
                 "/api/v1/consents", "/api/v1/me", "/api/v1/me/activity", "/api/v1/wallet", f"/api/v1/wallet/{card}",
                 "/api/v1/wallet/usage", "/api/v1/wallet/reminders", f"/api/v1/verify/shares/{share['token']}"):
        resp = await app.api.get(path, headers=h)
        assert resp.status == 200, (path, resp.status, resp.body[:200])
    clerk = await staff_token(app.api, demo_staff(app.ctx, "gaj.shouli"))
    supervisor = await staff_token(app.api, demo_staff(app.ctx, "gaj.shenhe"))
    for token, path in ((clerk, "/api/v1/staff/queue"), (clerk, f"/api/v1/staff/applications/{application['id']}"),
                        (supervisor, "/api/v1/staff/notifications"), (supervisor, "/api/v1/staff/stats"),
                        (supervisor, "/api/v1/staff/ratings/stats")):
        resp = await app.api.get(path, headers=bearer(token))
        assert resp.status == 200, (path, resp.status, resp.body[:200])
    refreshed = await app.api.post("/api/v1/auth/refresh", {"refresh_token": person["refresh_token"]})
    assert refreshed.status == 200, refreshed.body
    assert (await app.api.post("/api/v1/auth/logout", {"refresh_token": refreshed.json()["refresh_token"]},
                               headers=bearer(refreshed.json()["access_token"]))).status in (200, 204)


async def test_queries_on_sharded_collections_carry_their_shard_key(backends):
    plan = read_plan()
    app = await start_app(backends, overrides={
        "sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000, "resend_interval_seconds": 1}})
    RECORDER.commands.clear()
    RECORDER.database = app.runner.settings.mongodb.database
    try:
        meter = SimpleNamespace(measure=_passthrough)
        for _, op in OPERATIONS:
            await op(app, meter)
        await more_journeys(app)
    finally:
        RECORDER.database = None
        await stop_app(app)

    seen: set[str] = set()
    offenders: list[str] = []
    for name, command in RECORDER.commands:
        collection = command.get(name)
        for op, flt in filters(name, command):
            seen.add(str(collection))
            rule = plan.get(str(collection))
            if rule is None or not rule["sharded"]:
                continue
            field = rule["key"][0]
            if op == "insert":
                if any(f not in flt for f in rule["key"]):
                    offenders.append(f"{collection}: insert without shard key {rule['key']}")
                continue
            shape = "+".join(sorted(flt))
            if not targeted(flt, field) and shape not in rule["scatter"]:
                offenders.append(f"{collection}: {op} on {{{shape}}} lacks shard key {field!r} "
                                 f"and is not a listed scatter-gather")
    missing = sorted(c for c in seen if c not in plan)
    assert not missing, f"collections not in the shard plan of docs/SCALING.md: {missing}"
    assert not offenders, "\n".join(sorted(set(offenders)))
    # The journeys reached the big collections (a guard that checks nothing is no guard).
    for collection in ("applications", "certificates", "audit_log", "code_scans", "consents", "persons"):
        assert collection in seen, collection


def test_the_deployment_shards_what_the_plan_says():
    """config/mongo/shard-plan.js (run by docker-compose.sharded.yml) shards exactly the
    collections marked sharded, on the same keys."""
    script = (ROOT / "config" / "mongo" / "shard-plan.js").read_text(encoding="utf-8")
    in_script = {name: key.replace('"', "") for name, key in re.findall(r'\["(\w+)", \{([^}]*)\}\]', script)}
    planned = {name: rule["spec"] for name, rule in read_plan().items() if rule["sharded"]}
    assert in_script == planned


async def _passthrough(request):  # noqa: ANN001, ANN202
    return await request(), {}
