"""The one lifecycle of an application, enforced here and only here (``TRANSITIONS``):
every change names the states it may start from and the version it expects, so an illegal
step is a 409 naming the current state and two staff acting at once leave one winner and
one 409. Deadlines count working days from acceptance; the clock stops while a
supplement is awaited.

The application's timeline is also its outbox: a change appends to the timeline and raises
``outbox_pending`` in the same (version-guarded) update; right after, each new entry becomes
one entry of the applicant's audit trail and one notification (:meth:`Lifecycle.flush`), and
a worker's sweep finishes the outbox of any application whose request stopped in between —
a crash, a MongoDB that stalled (:meth:`Lifecycle.flush_outbox`). Audit entries carry the
timeline index as their event, so a second flush adds none twice: a change is never left
without its audit entry, however the request ended.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any

from matters.catalog import MatterCatalog
from matters.fees import SETTLED, FeeCase, Fees, NoFees, blocking_stage
from matters.storage import ApplicationStore
from notifications.service import Notifications
from server.audit import Actor, AuditTrail, Entry
from server.calendar import add_working_days, working_days_between
from server.clock import now_ms
from server.errors import Conflict, NotFound
from server.principal import holder_chain

log = logging.getLogger("superapp.matters")
CHINA = timezone(timedelta(hours=8))
FINISHED = ("not_accepted", "approved", "denied", "completed", "withdrawn")
OPEN = ("submitted", "accepted", "in_review", "supplement_requested", "resubmitted")
STATE_NAMES = {"draft": "草稿", "submitted": "已提交", "accepted": "已受理", "not_accepted": "不予受理",
               "in_review": "审查中", "supplement_requested": "待补正", "resubmitted": "已补正", "approved": "已批准",
               "denied": "不予批准", "completed": "已办结", "withdrawn": "已撤回"}
# action -> (states it may start from, state it leads to, roles that may do it; "applicant" = the applicant)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "submit": (("draft",), "submitted", ("applicant",)),
    "accept": (("submitted",), "in_review", ("intake", "supervisor")),
    "reject": (("submitted",), "not_accepted", ("intake", "supervisor")),
    "request-supplement": (("in_review", "resubmitted"), "supplement_requested", ("reviewer", "supervisor")),
    "resubmit": (("supplement_requested",), "resubmitted", ("applicant",)),
    "approve": (("in_review", "resubmitted"), "approved", ("reviewer", "supervisor")),
    "deny": (("in_review", "resubmitted"), "denied", ("reviewer", "supervisor")),
    "complete": (("approved", "denied"), "completed", ("intake", "reviewer", "supervisor")),
    "withdraw": (("draft", "submitted", "in_review", "supplement_requested", "resubmitted"), "withdrawn",
                 ("applicant",)),
}
NEEDS_COMMENT = {"reject", "request-supplement", "deny"}


def china_today() -> date:
    return datetime.now(CHINA).date()


def _paused_days(app: dict[str, Any], today: date) -> int:
    """Working days the clock has been stopped so far (finished pauses plus the current one)."""
    days = app.get("paused_days", 0)
    if app.get("paused_since"):
        days += max(0, working_days_between(date.fromisoformat(app["paused_since"]), today))
    return days


class Lifecycle:
    def __init__(self, store: ApplicationStore, catalog: MatterCatalog, audit: AuditTrail,
                 notifications: Notifications, fees: Fees | None = None):
        self.store = store
        self.catalog = catalog
        self.audit = audit
        self.notifications = notifications
        self.fees = fees or NoFees()

    # -- reading -------------------------------------------------------------------------------

    def deadline(self, app: dict[str, Any], today: date) -> date:
        matter = self.catalog.get(app["matter"])
        promised = matter.promised_days if matter else 0
        return add_working_days(date.fromisoformat(app["accepted_on"]), promised + _paused_days(app, today))

    def view(self, app: dict[str, Any], today: date | None = None) -> dict[str, Any]:
        day = today or china_today()
        deadline, remaining, overdue = None, None, False
        if app.get("accepted_on"):
            dl = self.deadline(app, day)
            deadline = dl.isoformat()
            end = date.fromisoformat(app["finished_on"]) if app.get("finished_on") else day
            remaining = working_days_between(end, dl)
            overdue = app["state"] not in FINISHED and remaining < 0
        finished_at = None
        if app["state"] in FINISHED:  # older applications kept only the day: the last step's time
            finished_at = app.get("finished_at") or app["timeline"][-1]["at"]
        return {**app, "id": app["_id"], "state_name": STATE_NAMES.get(app["state"], app["state"]),
                "deadline": deadline, "remaining_working_days": remaining, "overdue": overdue,
                "clock_paused": app.get("paused_since") is not None, "finished_at": finished_at}

    async def views(self, apps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """:meth:`view` of each, with its fee (``fee``: None where the matter charges nothing)."""
        charged = [a["_id"] for a in apps if self._charges(a)]
        fees = await self.fees.status(charged) if charged else {}
        return [{**self.view(a), "fee": fees.get(a["_id"]) or self._fee_to_come(a)} for a in apps]

    def _fee_to_come(self, app: dict[str, Any]) -> dict[str, Any] | None:
        """A charging matter's fee before its order exists: due after approval, or being made."""
        charges = self._charges(app)
        if not charges or app["state"] in FINISHED or app["state"] == "draft":
            return None  # ended (or not yet submitted) with nothing charged: nothing to pay
        later = charges["due"] == "approval" and app["state"] != "approved"
        return {"state": "not_due" if later else "pending", "state_name": "审批通过后缴费" if later else "缴费单生成中",
                "amount_fen": sum(i["amount_fen"] for i in charges["items"]), "due": charges["due"]}

    async def present(self, app: dict[str, Any]) -> dict[str, Any]:
        return (await self.views([app]))[0]

    def _charges(self, app: dict[str, Any]) -> dict[str, Any] | None:
        matter = self.catalog.get(app["matter"])
        return matter.charges if matter else None

    async def _check_fee(self, app: dict[str, Any], action: str) -> None:
        """受理 waits for a fee due at submission, 办结 for one due after approval (409 ``fee_unpaid``)."""
        stage = blocking_stage(self._charges(app), action, app["state"])
        if stage is None:
            return
        fee = (await self.fees.status([app["_id"]])).get(app["_id"])
        if fee is None:  # the charge was never made (the matter's fee is newer than the application): now
            await self.fees.on_state(self._case(app))
            fee = (await self.fees.status([app["_id"]])).get(app["_id"])
        if fee is None or fee["state"] not in SETTLED:
            what = "受理" if action == "accept" else "办结"
            raise Conflict(f"申请人尚未缴费，缴费后才能{what}", code="fee_unpaid",
                           extra={"fee_state": fee["state"] if fee else "pending"})

    @staticmethod
    def _case(app: dict[str, Any]) -> FeeCase:
        return FeeCase(app["_id"], app["number"], app["matter"], app["matter_name"], app["applicant_key"],
                       app["applicant"]["name"], app["applicant"]["person_id"], app["state"], app["form"])

    @staticmethod
    def supplements_requested(app: dict[str, Any]) -> int:
        """How many times the department has asked for 补正 (一次性告知: once, unless a
        supervisor approves another request)."""
        return sum(1 for e in app["timeline"] if e["state"] == "supplement_requested")

    # -- changing ------------------------------------------------------------------------------

    async def transition(self, app: dict[str, Any], action: str, version: int, actor: Actor, comment: str,
                         extra: dict[str, Any] | None = None, note: dict[str, Any] | None = None) -> dict[str, Any]:
        """``extra``: more fields of the application; ``note``: more fields of the timeline
        entry (who acted, in words; a second 补正's reason and approval)."""
        allowed, to, _ = TRANSITIONS[action]
        await self._check_fee(app, action)
        today = china_today()
        now = now_ms()
        set_: dict[str, Any] = {"state": to, "outbox_pending": True, "updated_at": now, **(extra or {})}
        first = {"state": "accepted" if action == "accept" else to, "at": now, "actor": actor.as_dict(),
                 "comment": comment, **(note or {})}
        events = [first]
        if action == "accept":
            set_["accepted_on"] = today.isoformat()
            handing = app.get("forwarded") and app["handling"]["department"] != app["department"]
            events.append({"state": "in_review", "at": now, "actor": actor.as_dict(),
                           "comment": f"已转交{app['handling']['department_name']}审查（收受分离）" if handing else "",
                           **({"event": "forwarded", "to": app["handling"]} if handing else {}),
                           **({"actor_name": note["actor_name"]} if note and "actor_name" in note else {})})
            if handing:  # 收受分离: the receiving office accepted; the handling office decides
                set_["department"] = app["handling"]["department"]
                set_["department_name"] = app["handling"]["department_name"]
        if action == "complete" and app.get("forwarded"):
            d = app.get("delivery") or {}
            back = {"wallet": "结果已放入卡包", "mail": f"结果将邮寄至 {d.get('address', '')}",
                    "pickup": f"结果已转回收件地，请到{d.get('at', '')}领取"}.get(d.get("method", ""), "")
            first["comment"] = "；".join(x for x in (comment, back) if x)
        if action == "request-supplement":
            set_["paused_since"] = today.isoformat()
        if (action == "resubmit" or to in FINISHED) and app.get("paused_since"):
            set_["paused_days"] = _paused_days(app, today)
            set_["paused_since"] = None
        if to in FINISHED:
            set_["finished_on"] = today.isoformat()
            set_["finished_at"] = now
        if action == "submit":
            set_["submitted_at"] = now
        updated = await self.store.transition(app["_id"], version, list(allowed), set_, app["timeline"] + events)
        if updated is None:
            current = await self.store.get(app["_id"])
            if current is None:
                raise NotFound("未找到该申请", code="application_not_found")
            if current["version"] != version:
                raise Conflict("该申请刚被其他人处理过，请刷新后重试", code="stale_version",
                               extra={"state": current["state"], "version": current["version"]})
            raise Conflict(f"申请当前状态为“{STATE_NAMES.get(current['state'], current['state'])}”，不能进行此操作",
                           code="illegal_transition", extra={"state": current["state"]})
        await self.flush(updated)
        return updated

    # -- the outbox ----------------------------------------------------------------------------

    async def flush(self, app: dict[str, Any], rerun: bool = False) -> None:
        """The timeline entries not yet processed become audit entries and notifications. Never
        raises: what fails stays pending (``outbox_pending``) for the sweep; the change stands."""
        try:
            await self._flush(app, rerun)
        except Exception:  # noqa: BLE001
            log.warning("outbox of %s left for the sweep", app["_id"], exc_info=True)

    async def _flush(self, app: dict[str, Any], rerun: bool) -> int:
        start = app.get("notified_upto", 0)
        entries = [(i, e) for i, e in enumerate(app["timeline"]) if i >= start]
        chain = holder_chain(app["applicant_key"])
        events = {i: f"application:{app['_id']}:{i}" for i, _ in entries}
        done = await self.audit.recorded_events(chain, list(events.values())) if rerun else set()
        audit = [Entry(Actor(e["actor"]["type"], e["actor"]["id"]), f"application.{e.get('event') or e['state']}",
                       {"type": "application", "id": app["_id"]}, details=self._audit_details(app, i, e),
                       at=e["at"], event=events[i]) for i, e in entries if events[i] not in done]
        if audit:
            await self.audit.record_many(chain, audit)
        added = await self.notifications.enqueue([{
            "_id": f"{app['_id']}:{i}", "application_id": app["_id"], "number": app["number"],
            "person_id": app["applicant"]["person_id"], "department": app["department"],
            "title": app["matter_name"], "state": e["state"], "state_name": STATE_NAMES.get(e["state"], e["state"]),
            "comment": e.get("comment", ""), "at": e["at"], "page": f"affairs/application/index?id={app['_id']}",
        } for i, e in entries])
        if entries and self._charges(app):  # a charge, refund or close; retried with the outbox if it fails
            await self.fees.on_state(self._case(app))
        await self.store.mark_notified(app["_id"], app["version"], len(app["timeline"]))
        return added

    @staticmethod
    def _audit_details(app: dict[str, Any], index: int, entry: dict[str, Any]) -> dict[str, Any]:
        if index == 0:
            via = app.get("via")
            return {"matter": app["matter"], "number": app["number"], **({"via": via["name"]} if via else {})}
        return {"number": app["number"], "comment": entry.get("comment", "")}

    async def flush_outbox(self, older_than_ms: int = 5_000) -> int:
        """Worker job: finish the outbox of applications whose request stopped half-way."""
        n = 0
        for app in await self.store.outbox_pending(older_than=now_ms() - older_than_ms):
            try:  # one application that fails every time must not hold back the others
                n += await self._flush(app, rerun=True)
            except Exception:  # noqa: BLE001
                log.warning("outbox of %s still pending", app["_id"], exc_info=True)
        return n
