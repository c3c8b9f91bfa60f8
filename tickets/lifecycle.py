"""The one lifecycle of a ticket, enforced here and only here (``TRANSITIONS``), the way the
matters lifecycle works: every change names the states it may start from and the version it
expects (409 naming the current state, or a stale version), appends to the timeline, and
the timeline is the outbox: each new entry becomes an audit entry of the submitter and the
notifications it calls for (the submitter; a department's duty phone), finished by a
worker's sweep if a request stopped in between.

    submitted ─accept→ accepted ─dispatch→ dispatched ─sign→ handling ─answer→ answered ─callback→ archived
        │ reject→ rejected    ▲            │ return→ returned ─dispatch┘  │ extension (asked,      │ 不满意 once:
        │ merge→ merged       └────────────┘                             │ approved or not)       └→ handling (重办)
        └ resolve (知识库已解决)→ archived

A 投诉 resting on a 差评 is closed (→ archived, from any open state) when the department's
rectification of that rating is closed: ``rectified``, the port the ratings service calls.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from matters.ratings.models import Rectified
from notifications.service import Notifications
from server.audit import Actor, AuditTrail, Entry
from server.calendar import CHINA, add_working_days, add_working_hours, end_of_working_day
from server.clock import now_ms
from server.errors import Conflict, NotFound
from tickets.catalog import TicketCatalog
from tickets.storage import TicketStore

log = logging.getLogger("superapp.tickets")

STATE_NAMES = {"submitted": "待受理", "accepted": "已受理", "rejected": "不予受理", "merged": "已合并",
               "dispatched": "已派单", "returned": "已退单", "handling": "办理中", "answered": "已答复",
               "archived": "已办结"}
EVENT_NAMES = {"supervised": "督办", "escalated": "升级督办", "sign_overdue": "签收超时", "extension_asked": "申请延期",
               "extension_approved": "延期已批准", "extension_refused": "延期未批准", "reopened": "不满意，重办",
               "resolved": "知识库直接答复", "reporter_viewed": "查看诉求人信息",
               "rectified": "差评整改办结"}
FINISHED = ("rejected", "merged", "archived")
OPEN = ("submitted", "accepted", "dispatched", "returned", "handling", "answered")
DEPARTMENT = ("intake", "reviewer", "supervisor", "handler")  # staff who work a department's tickets
CENTRE = ("dispatcher",)
# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": (("submitted",), "accepted"),
    "reject": (("submitted",), "rejected"),
    "merge": (("submitted",), "merged"),
    "resolve": (("submitted",), "archived"),
    "dispatch": (("accepted", "returned"), "dispatched"),
    "return": (("dispatched",), "returned"),
    "sign": (("dispatched",), "handling"),
    "extend": (("handling",), "handling"),
    "decide-extension": (("handling",), "handling"),
    "answer": (("handling",), "answered"),
    "callback": (("answered",), "archived"),
    "reopen": (("answered",), "handling"),
    "archive": (("answered",), "archived"),
    "supervise": (("dispatched", "handling"), ""),  # same state: a note on the timeline
    "rectified": (OPEN, "archived"),
}
# who hears of a new timeline entry: the submitter, and (SMS to its duty phone) the department
TELL_SUBMITTER = {"accepted", "rejected", "merged", "answered", "archived", "reopened", "resolved", "rectified"}
TELL_DEPARTMENT = {"dispatched", "supervised", "escalated", "sign_overdue", "reopened", "extension_approved",
                   "extension_refused", "rectified"}


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def at(ms_: int) -> datetime:
    return datetime.fromtimestamp(ms_ / 1000, CHINA)


class TicketLifecycle:
    def __init__(self, store: TicketStore, catalog: TicketCatalog, audit: AuditTrail, notifications: Notifications):
        self.store = store
        self.catalog = catalog
        self.audit = audit
        self.notifications = notifications

    # -- time limits -------------------------------------------------------------------------

    def due_from(self, ticket: dict[str, Any], start_ms: int) -> int:
        unit, value = self.catalog.limit_of(ticket["kind"], ticket["category"])
        if unit == "hours":
            return start_ms + int(value * 3600 * 1000)
        return ms(end_of_working_day(add_working_days(at(start_ms).date(), int(value))))

    def sign_due_from(self, start_ms: int) -> int:
        return ms(add_working_hours(at(start_ms), self.catalog.sign_within_working_hours))

    def extended(self, due_ms: int, days: int) -> int:
        """The due time ``days`` working days later (the clock stops only by the extension)."""
        due = at(due_ms)
        return ms(datetime.combine(add_working_days(due.date(), days), due.timetz()))

    def escalate_at(self, due_ms: int) -> int:
        return ms(end_of_working_day(add_working_days(at(due_ms).date(), self.catalog.escalate_after_working_days)))

    # -- reading -----------------------------------------------------------------------------

    def view(self, t: dict[str, Any], now: int | None = None) -> dict[str, Any]:
        now = now_ms() if now is None else now
        open_ = t["state"] in ("dispatched", "handling")
        overdue = bool(open_ and t.get("due_at") and now > t["due_at"])
        due_soon = False
        if open_ and t.get("due_at") and not overdue and t.get("dispatched_at"):
            total = max(1, t["due_at"] - t["dispatched_at"])
            due_soon = (t["due_at"] - now) < total / 4
        timeline = [{**e, "name": EVENT_NAMES.get(e.get("event", ""), STATE_NAMES.get(e["state"], e["state"]))}
                    for e in t["timeline"]]
        sub = t.get("submitter") or {}
        lead = self.catalog.department(t.get("lead_department") or "")
        enterprise = {"id": sub["enterprise_id"], "name": sub["enterprise_name"]} if sub.get("kind") == "enterprise" else None
        return {**t, "id": t["_id"], "state_name": STATE_NAMES.get(t["state"], t["state"]), "enterprise": enterprise,
                "lead_department_name": lead.name if lead else None,
                "kind_name": self.catalog.kinds[t["kind"]].name, "overdue": overdue, "due_soon": due_soon,
                "sign_overdue": bool(t["state"] == "dispatched" and t.get("sign_due_at") and now > t["sign_due_at"]),
                "timeline": timeline}

    # -- changing ----------------------------------------------------------------------------

    async def transition(self, t: dict[str, Any], action: str, version: int, actor: Actor, comment: str,
                         extra: dict[str, Any] | None = None, entry: dict[str, Any] | None = None,
                         to: str | None = None) -> dict[str, Any]:
        allowed, target = TRANSITIONS[action]
        state = to or target or t["state"]
        now = now_ms()
        set_ = {"state": state, "outbox_pending": True, "updated_at": now, **(extra or {})}
        event = {"state": state, "at": now, "actor": actor.as_dict(), "comment": comment, **(entry or {})}
        updated = await self.store.transition(t["_id"], version, list(allowed), set_, t["timeline"] + [event])
        if updated is None:
            current = await self.store.get(t["_id"])
            if current is None:
                raise NotFound("未找到该诉求", code="ticket_not_found")
            if current["version"] != version:
                raise Conflict("该诉求刚被其他人处理过，请刷新后重试", code="stale_version",
                               extra={"state": current["state"], "version": current["version"]})
            raise Conflict(f"诉求当前状态为“{STATE_NAMES.get(current['state'], current['state'])}”，不能进行此操作",
                           code="illegal_transition", extra={"state": current["state"]})
        await self.flush(updated)
        return updated

    async def rectified(self, r: Rectified) -> int:
        """The rectification a complaint rests on was closed: the complaint closes with its answer
        (only tickets filed before the closing; one filed later is about the rectification itself)."""
        n = 0
        for t in await self.store.open_on_rectifications([r.rectification_id], list(OPEN)):
            for _ in range(3):
                if t is None or t["state"] not in OPEN or t["created_at"] > r.closed_at:
                    break
                try:
                    await self.transition(t, "rectified", t["version"], Actor("staff", r.closed_by),
                                          f"部门已完成差评整改：{r.answer}"[:500],
                                          {"answer": r.answer, "answered_at": r.closed_at, "on_time": r.closed_at
                                           <= (t.get("due_at") or r.closed_at)}, {"event": "rectified"})
                    n += 1
                    break
                except Conflict:
                    t = await self.store.get(t["_id"])  # changed meanwhile: look again
        return n

    # -- the outbox ----------------------------------------------------------------------------

    async def flush(self, t: dict[str, Any], rerun: bool = False) -> None:
        try:
            await self._flush(t, rerun)
        except Exception:  # noqa: BLE001 - left for the sweep; the change stands
            log.warning("outbox of ticket %s left for the sweep", t["_id"], exc_info=True)

    async def _flush(self, t: dict[str, Any], rerun: bool) -> int:
        start = t.get("notified_upto", 0)
        entries = [(i, e) for i, e in enumerate(t["timeline"]) if i >= start]
        chain = t.get("submitter_chain")
        if chain:
            events = {i: f"ticket:{t['_id']}:{i}" for i, _ in entries}
            done = await self.audit.recorded_events(chain, list(events.values())) if rerun else set()
            audit = [Entry(Actor(e["actor"]["type"], e["actor"]["id"]), f"ticket.{e.get('event') or e['state']}",
                           {"type": "ticket", "id": t["_id"]},
                           details={"number": t["number"], **({"comment": e["comment"]} if i and e.get("comment") else {})},
                           at=e["at"], event=events[i]) for i, e in entries if events[i] not in done]
            if audit:
                await self.audit.record_many(chain, audit)
        requests = []
        for i, e in entries:
            what = e.get("event") or e["state"]
            base = {"about": "ticket", "ticket_id": t["_id"], "number": t["number"], "title": t["title"],
                    "state": e["state"], "state_name": EVENT_NAMES.get(e.get("event", ""), STATE_NAMES.get(e["state"], "")),
                    "comment": e.get("comment", "")[:60], "at": e["at"], "department": t.get("lead_department"),
                    "page": f"/tickets/{t['_id']}"}
            person = (t.get("submitter") or {}).get("person_id")
            if what in TELL_SUBMITTER and person:
                requests.append({**base, "_id": f"{t['_id']}:{i}", "person_id": person})
            if what in TELL_DEPARTMENT:
                told = [t.get("lead_department")] + (list(t.get("co_departments") or []) if what == "dispatched" else [])
                for code in told:
                    dept = self.catalog.department(code or "")
                    if dept is not None:
                        requests.append({**base, "_id": f"{t['_id']}:{i}:{code}", "person_id": None,
                                         "phone": dept.duty_phone, "department": code})
        added = await self.notifications.enqueue(requests) if requests else 0
        await self.store.mark_notified(t["_id"], t["version"], len(t["timeline"]))
        return added

    async def flush_outbox(self, older_than_ms: int = 5_000) -> int:
        n = 0
        for t in await self.store.outbox_pending(older_than=now_ms() - older_than_ms):
            n += await self._flush(t, rerun=True)
        return n

    @staticmethod
    def day_of(ms_: int) -> str:
        return at(ms_).strftime("%Y%m%d")

    @staticmethod
    def plus(ms_: int, **kw: float) -> int:
        return ms_ + int(timedelta(**kw).total_seconds() * 1000)
