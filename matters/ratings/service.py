"""好差评 (国办发〔2019〕51号; GB/T 39734/39735-2020): the applicant rates a completed
matter 1-5 (非常不满意 … 非常满意) with optional tags and comment, once per application
(changes allowed within 7 days). A rating of 2 or lower opens a rectification (整改) for
the department, due in 5 working days, which staff answer and a supervisor closes.

A person unhappy with a matter can also take a bad rating to 12345 as a 投诉
(``bad_rating`` is what the ticket rests on); when the department's rectification closes,
``on_rectified`` (a port the composition root gives, the tickets' lifecycle) closes the
ticket with the rectification's answer, and ``closed_rectifications`` lets that side catch
up with one it missed."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from identity.codes.service import CodeService, ScanActor
from matters.applying.service import ApplyingService
from matters.lifecycle import Lifecycle, china_today
from matters.ratings.models import BadRating, Rectified
from matters.ratings.storage import RatingStore
from matters.storage import ApplicationStore
from server.audit import Actor, AuditTrail
from server.calendar import add_working_days, working_days_between
from server.clock import DAY_MS, now_ms
from server.errors import Conflict, NotFound
from server.principal import Caller, Principal, holder_chain, require_role

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
CHANGE_WINDOW_MS = 7 * DAY_MS
RECTIFY_WORKING_DAYS = 5
BAD = 2  # a score at or below this is a 差评
log = logging.getLogger("superapp.ratings")


class RatingService:
    def __init__(self, store: RatingStore, applications: ApplicationStore, applying: ApplyingService,
                 lifecycle: Lifecycle, codes: CodeService, audit: AuditTrail,
                 on_rectified: Callable[[Rectified], Awaitable[None]] | None = None):
        self.store = store
        self.on_rectified = on_rectified
        self.applications = applications
        self.applying = applying
        self.lifecycle = lifecycle
        self.codes = codes  # which holder a kiosk scanned
        self.audit = audit

    async def _completed_app(self, principal: Principal, app_id: str) -> dict[str, Any]:
        app = await self.applying.get_mine(principal, app_id)
        if app["state"] != "completed":
            raise Conflict("办结后才能评价", code="application_not_completed", extra={"state": app["state"]})
        return app

    async def rate(self, principal: Principal, app_id: str, score: int, tags: list[str], comment: str,
                   indicators: dict[str, int], channel: str, caller: Caller) -> dict[str, Any]:
        app = await self._completed_app(principal, app_id)
        return await self._create(app, principal.subject, score, tags, comment, indicators, channel, caller)

    async def _create(self, app: dict[str, Any], person_id: str, score: int, tags: list[str], comment: str,
                      indicators: dict[str, int], channel: str, caller: Caller) -> dict[str, Any]:
        now = now_ms()
        doc = {"_id": app["id"], "application_number": app["number"], "applicant_key": app["applicant_key"],
               "person_id": person_id, "matter": app["matter"], "matter_name": app["matter_name"],
               "department": app["department"], "score": score, "level": LEVELS[score], "tags": tags,
               "comment": comment, "indicators": indicators, "channel": channel, "created_at": now,
               "updated_at": now, "version": 1, "rectification_id": None}
        if not await self.store.insert(doc):
            raise Conflict("该申请已评价过，7 天内可修改评价", code="already_rated")
        doc = await self._maybe_rectify(doc)
        await self._record(app, person_id, "rating.created", caller, score=score)
        return doc

    async def mine(self, principal: Principal, app_id: str) -> dict[str, Any]:
        app = await self.applying.get_mine(principal, app_id)
        doc = await self.store.get(app["id"])
        if doc is None:
            raise NotFound("该申请还没有评价", code="rating_not_found")
        return doc

    async def change(self, principal: Principal, app_id: str, score: int, tags: list[str], comment: str,
                     indicators: dict[str, int], caller: Caller) -> dict[str, Any]:
        app = await self._completed_app(principal, app_id)
        doc = await self.store.get(app_id)
        if doc is None:
            raise NotFound("该申请还没有评价", code="rating_not_found")
        if now_ms() - doc["created_at"] > CHANGE_WINDOW_MS:
            raise Conflict("评价已超过 7 天，不能再修改", code="rating_change_window_closed")
        new = {**doc, "score": score, "level": LEVELS[score], "tags": tags, "comment": comment,
               "indicators": indicators, "updated_at": now_ms(), "version": doc["version"] + 1}
        if not await self.store.replace(app_id, doc["version"], new):
            raise Conflict("评价刚被修改，请刷新后重试", code="stale_version")
        new = await self._maybe_rectify(new)
        await self._record(app, principal.subject, "rating.changed", caller, score=score)
        return new

    async def _maybe_rectify(self, rating: dict[str, Any]) -> dict[str, Any]:
        if rating["score"] > BAD or rating.get("rectification_id"):
            return rating
        today = china_today()
        rect = {"_id": "r" + secrets.token_hex(12), "rating_id": rating["_id"],
                "application_number": rating["application_number"], "matter": rating["matter"],
                "matter_name": rating["matter_name"], "department": rating["department"], "score": rating["score"],
                "comment": rating["comment"], "tags": rating["tags"], "state": "open",
                "due_on": add_working_days(today, RECTIFY_WORKING_DAYS).isoformat(), "created_at": now_ms(),
                "answer": None, "answered_by": None, "closed_by": None, "close_comment": None}
        await self.store.insert_rectification(rect)
        updated = {**rating, "rectification_id": rect["_id"], "version": rating["version"] + 1}
        await self.store.replace(rating["_id"], rating["version"], updated)
        return updated

    async def _record(self, app: dict[str, Any], person_id: str, action: str, caller: Caller, **details: Any) -> None:
        await self.audit.record(holder_chain(app["applicant_key"]), Actor("person", person_id), action,
                                target={"type": "application", "id": app["id"]}, channel=caller.channel,
                                ip=caller.ip, details=details)

    # -- kiosks and windows collect ratings too --------------------------------------------------

    async def rate_at_kiosk(self, actor: ScanActor, scan_id: str, app_id: str, score: int, tags: list[str], comment: str,
                            caller: Caller) -> dict[str, Any]:
        """A kiosk or window that scanned the holder's code collects their rating (现场评价)."""
        scan = await self.codes.scan_of(actor, scan_id)
        holder_person_id = scan["holder"].split(":", 1)[1]
        channel = "kiosk" if actor.type == "device" else "window"
        app = await self.applications.get(app_id)
        if app is None or app["applicant_key"] != scan["holder"]:
            raise NotFound("未找到该持码人的这份申请", code="application_not_found")
        if app["state"] != "completed":
            raise Conflict("办结后才能评价", code="application_not_completed", extra={"state": app["state"]})
        return await self._create(self.lifecycle.view(app), holder_person_id, score, tags, comment, {}, channel, caller)

    async def is_rated(self, app_id: str) -> bool:
        return await self.store.get(app_id) is not None

    # -- department side ----------------------------------------------------------------------------

    async def rectifications(self, principal: Principal, state: str | None) -> list[dict[str, Any]]:
        rows = await self.store.rectifications(principal.claims.get("dept", ""), state)
        today = china_today()
        return [{**r, "overdue": r["state"] == "open" and working_days_between(today, date.fromisoformat(
            r["due_on"])) < 0} for r in rows]

    async def answer(self, principal: Principal, rect_id: str, answer: str) -> dict[str, Any]:
        require_role(principal, "intake", "reviewer", "supervisor")
        rect = await self._dept_rect(principal, rect_id)
        updated = await self.store.update_rectification(rect_id, "open", {
            "state": "answered", "answer": answer, "answered_by": principal.subject, "answered_at": now_ms()})
        if updated is None:
            raise Conflict(f"整改当前状态为“{rect['state']}”，不能答复", code="illegal_transition",
                           extra={"state": rect["state"]})
        return updated

    async def close(self, principal: Principal, rect_id: str, comment: str) -> dict[str, Any]:
        require_role(principal, "supervisor")
        rect = await self._dept_rect(principal, rect_id)
        updated = await self.store.update_rectification(rect_id, "answered", {
            "state": "closed", "closed_by": principal.subject, "close_comment": comment, "closed_at": now_ms()})
        if updated is None:
            raise Conflict(f"整改当前状态为“{rect['state']}”，须先答复才能关闭", code="illegal_transition",
                           extra={"state": rect["state"]})
        if self.on_rectified is not None:
            try:
                await self.on_rectified(self._rectified(updated))
            except Exception:  # noqa: BLE001 - the rectification stands; the other side catches up
                log.warning("rectification %s closed, its ticket left for the sweep", rect_id, exc_info=True)
        return updated

    @staticmethod
    def _rectified(r: dict[str, Any]) -> Rectified:
        return Rectified(rectification_id=r["_id"], rating_id=r["rating_id"], department=r["department"],
                         answer=r.get("answer") or "", closed_by=r.get("closed_by") or "", closed_at=r.get("closed_at") or 0)

    async def closed_rectifications(self, ids: list[str]) -> list[Rectified]:
        return [self._rectified(r) for r in await self.store.rectifications_in(ids) if r["state"] == "closed"]

    async def bad_rating(self, principal: Principal, app_id: str) -> BadRating:
        """The caller's own 差评 that a 12345 complaint may rest on."""
        rating = await self.mine(principal, app_id)
        if rating["score"] > BAD:
            raise Conflict("只有“不满意”或“非常不满意”的评价可以转为投诉", code="rating_not_bad",
                           extra={"score": rating["score"]})
        return BadRating(rating_id=rating["_id"], application_id=rating["_id"],
                         application_number=rating["application_number"], matter_name=rating["matter_name"],
                         department=rating["department"], score=rating["score"],
                         comment=rating["comment"], rectification_id=rating.get("rectification_id"))

    async def _dept_rect(self, principal: Principal, rect_id: str) -> dict[str, Any]:
        rect = await self.store.rectification(rect_id)
        if rect is None or rect["department"] != principal.claims.get("dept"):
            raise NotFound("未找到该整改任务（或不属于本部门）", code="rectification_not_found")
        return rect

    async def stats(self, principal: Principal) -> dict[str, Any]:
        require_role(principal, "supervisor")
        ratings = await self.store.of_department(principal.claims.get("dept", ""))
        by: dict[str, dict[str, Any]] = {}
        for r in ratings:
            s = by.setdefault(r["matter"], {"matter": r["matter"], "matter_name": r["matter_name"], "count": 0,
                                            "sum": 0, "distribution": {str(k): 0 for k in LEVELS}, "bad": 0})
            s["count"] += 1
            s["sum"] += r["score"]
            s["distribution"][str(r["score"])] += 1
            s["bad"] += r["score"] <= BAD
        matters = []
        for s in by.values():
            total = s.pop("sum")
            s["average"] = round(total / s["count"], 2)
            s["satisfaction_rate"] = round(sum(s["distribution"][k] for k in ("3", "4", "5")) / s["count"], 3)
            matters.append(s)
        count = sum(m["count"] for m in matters)
        return {"department": principal.claims.get("dept", ""), "count": count,
                "average": round(sum(r["score"] for r in ratings) / count, 2) if count else None,
                "bad": sum(m["bad"] for m in matters), "matters": sorted(matters, key=lambda m: m["matter"])}
