"""Reviewing applications in a department: the queue with deadlines, the detail with the
certificate checks, the staff actions of the lifecycle (an approval issues the result
certificate), and the supervisor's statistics."""
from __future__ import annotations

from datetime import date
from typing import Any

from card_wallet.holding.service import HoldingService
from matters.applicant import Sources
from matters.catalog import MatterCatalog
from matters.lifecycle import NEEDS_COMMENT, TRANSITIONS, Lifecycle, china_today
from matters.results import ResultIssuer
from matters.storage import ApplicationStore
from server.audit import Actor
from server.calendar import working_days_between
from server.clock import now_ms
from server.errors import FieldError, InvalidInput, NotFound, PermissionDenied
from server.masking import mask_name
from server.principal import Principal, require_role


def _clerk_name(principal: Principal) -> str:
    """A clerk as the applicant sees them: department and masked name."""
    return f"{principal.claims.get('dept_name', '')} {mask_name(principal.claims.get('name', ''))}".strip()


class ReviewService:
    def __init__(self, catalog: MatterCatalog, store: ApplicationStore, lifecycle: Lifecycle, sources: Sources,
                 results: ResultIssuer, wallet: HoldingService):
        self.catalog = catalog
        self.store = store
        self.lifecycle = lifecycle
        self.sources = sources
        self.results = results
        self.wallet = wallet

    async def _staff_app(self, principal: Principal, app_id: str, acting: bool = False) -> dict[str, Any]:
        """An application of the clerk's department; one it received for another region is
        readable (not changeable) once forwarded."""
        app = await self.store.get(app_id)
        dept = principal.claims.get("dept")
        mine = app is not None and (app["department"] == dept
                                    or (not acting and (app.get("receiving") or {}).get("department") == dept))
        if not mine:
            raise NotFound("未找到该申请（或不属于本部门）", code="application_not_found")
        return app

    async def get(self, principal: Principal, app_id: str) -> dict[str, Any]:
        app = await self._staff_app(principal, app_id)
        ids = [m["certificate_id"] for m in app["materials"] if m.get("certificate_id")]
        checks = await self.wallet.verify_ids(ids)
        return {**await self.lifecycle.present(app), "material_checks": [
            {"material": m["id"], **checks.get(m["certificate_id"], {"valid": False})}
            for m in app["materials"] if m.get("certificate_id")]}

    async def queue(self, principal: Principal, state: str | None, overdue: bool | None, matter: str | None
                    ) -> list[dict[str, Any]]:
        states = [state] if state else None
        apps = await self.lifecycle.views(await self.store.of_department(principal.claims.get("dept", ""), states,
                                                                          matter))
        if overdue is not None:
            apps = [a for a in apps if a["overdue"] == overdue]
        return apps

    def _supplement(self, principal: Principal, app: dict[str, Any], comment: str, items: list[str],
                    reason: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """一次性告知: the first request lists every material needed; another one needs a
        supervisor, who approves it with a reason (both go on the timeline)."""
        wanted = list(dict.fromkeys(items))
        known = {m["id"] for m in app["materials"]}
        matter = self.catalog.get(app["matter"])
        known |= {m["id"] for m in (matter.raw.get("materials", []) if matter else [])}
        if not wanted:
            raise InvalidInput("请一次性勾选需要补正的全部材料", code="supplement_items_required",
                               errors=[FieldError("items", "请至少勾选一项需要补正的材料")])
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise InvalidInput("需要补正的材料不属于本事项", code="supplement_item_unknown",
                               errors=[FieldError("items", f"本事项没有材料：{'、'.join(unknown)}")])
        note: dict[str, Any] = {}
        if self.lifecycle.supplements_requested(app):
            if "supervisor" not in (principal.claims.get("roles") or []):
                raise PermissionDenied("已一次性告知过补正；再次要求补正须由科长批准", code="supplement_once",
                                       extra={"required_role": "supervisor"})
            if not reason.strip():
                raise InvalidInput("再次要求补正须写明原因", code="supplement_reason_required",
                                   errors=[FieldError("reason", "请写明再次要求补正的原因")])
            note = {"second_request": True, "reason": reason.strip(),
                    "approved_by": principal.subject, "approved_by_name": _clerk_name(principal)}
        return {"comment": comment, "items": wanted, "at": now_ms()}, note

    async def act(self, principal: Principal, app_id: str, action: str, version: int, comment: str,
                  items: list[str] | None = None, reason: str = "") -> dict[str, Any]:
        _, _, roles = TRANSITIONS[action]
        require_role(principal, *roles)
        if action in NEEDS_COMMENT and not comment.strip():
            raise InvalidInput("请填写理由或需要补正的内容", code="comment_required",
                               errors=[FieldError("comment", "必填")])
        app = await self._staff_app(principal, app_id, acting=True)
        actor = Actor("staff", principal.subject)
        extra: dict[str, Any] = {}
        note: dict[str, Any] = {"actor_name": _clerk_name(principal)}
        if action == "request-supplement" and app["state"] in TRANSITIONS[action][0]:
            extra["supplement"], second = self._supplement(principal, app, comment, items or [], reason)
            note.update(second)
        if action == "approve":
            # allowed from here? check before issuing anything
            if app["state"] not in TRANSITIONS["approve"][0] or app["version"] != version:
                await self.lifecycle.transition(app, action, version, actor, comment)  # raises the right 409
            matter = self.catalog.get(app["matter"])
            if matter is not None and matter.raw.get("result"):
                applicant = await self.sources.of_application(app)
                values, _ = await self.sources.gather(applicant, matter)
                extra["result"] = await self.results.issue(app, matter, applicant, values)
            else:
                extra["result"] = None
        updated = await self.lifecycle.transition(app, action, version, actor, comment, extra, note)
        return await self.lifecycle.present(updated)

    async def stats(self, principal: Principal) -> list[dict[str, Any]]:
        require_role(principal, "supervisor")
        apps = await self.store.of_department(principal.claims.get("dept", ""), None, None)
        today = china_today()
        by: dict[str, dict[str, Any]] = {}
        for a in apps:
            s = by.setdefault(a["matter"], {"matter": a["matter"], "matter_name": a["matter_name"], "total": 0,
                                            "by_state": {}, "finished": 0, "on_time": 0, "overdue_open": 0,
                                            "handling_days": []})
            s["total"] += 1
            s["by_state"][a["state"]] = s["by_state"].get(a["state"], 0) + 1
            if a.get("accepted_on"):
                dl = self.lifecycle.deadline(a, today)
                if a.get("finished_on"):
                    s["finished"] += 1
                    finished = date.fromisoformat(a["finished_on"])
                    s["on_time"] += finished <= dl
                    s["handling_days"].append(working_days_between(date.fromisoformat(a["accepted_on"]), finished)
                                              - a.get("paused_days", 0))
                elif today > dl:
                    s["overdue_open"] += 1
        out = []
        for s in by.values():
            days = s.pop("handling_days")
            s["on_time_rate"] = round(s["on_time"] / s["finished"], 3) if s["finished"] else None
            s["average_handling_working_days"] = round(sum(days) / len(days), 2) if days else None
            out.append(s)
        return sorted(out, key=lambda s: s["matter"])
