"""The desk: the 12345 centre (role ``dispatcher``: accept, reject, merge, dispatch to a
lead and co-handling departments, decide extensions, phone callbacks, archive) and the
departments (sign, return once — a second return needs the supervisor —, ask for an
extension, answer), their queues, the statistics, and the supervision (督办) a worker runs.

Who may see the reporter: the centre sees a masked contact and may reveal it (a callback);
a department sees a masked contact only when the person allowed contact, did not file
anonymously and did not file a 举报 — the reported department never learns who reported it.
Every reveal is written to the reporter's own audit trail."""
from __future__ import annotations

from collections import Counter
from typing import Any

from identity.facade import Directory
from matters.applying.service import ApplyingService
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from server.masking import mask_name, mask_phone
from server.principal import Principal, require_role
from tickets.catalog import TicketCatalog
from tickets.lifecycle import CENTRE, DEPARTMENT, FINISHED, TicketLifecycle
from tickets.service import TicketService
from tickets.storage import TicketStore

NEEDS_COMMENT = {"reject", "return", "answer", "extend"}
DAY_MS = 86_400_000


def _clerk(principal: Principal) -> tuple[Actor, str]:
    c = principal.claims
    return Actor("staff", principal.subject), f"{c.get('dept_name', '')} {mask_name(c.get('name', ''))}".strip()


class TicketDesk:
    def __init__(self, store: TicketStore, catalog: TicketCatalog, lifecycle: TicketLifecycle, tickets: TicketService,
                 directory: Directory, applying: ApplyingService, audit: AuditTrail):
        self.store = store
        self.catalog = catalog
        self.lifecycle = lifecycle
        self.tickets = tickets
        self.directory = directory
        self.applying = applying
        self.audit = audit

    def _centre(self, principal: Principal) -> bool:
        return principal.claims.get("dept") == self.catalog.centre["code"]

    def _dept(self, principal: Principal) -> str:
        return principal.claims.get("dept", "")

    async def _ticket(self, principal: Principal, ticket_id: str) -> dict[str, Any]:
        t = await self.store.get(ticket_id)
        if t is None:
            raise NotFound("未找到该诉求", code="ticket_not_found")
        dept = self._dept(principal)
        if not self._centre(principal) and dept not in [t.get("lead_department"), *(t.get("co_departments") or [])]:
            raise NotFound("未找到该诉求（或未派给本部门）", code="ticket_not_found")
        return t

    # -- reading ---------------------------------------------------------------------------------

    async def _reporter(self, principal: Principal, t: dict[str, Any], reveal: bool) -> dict[str, Any] | None:
        sub = t["submitter"]
        centre = self._centre(principal)
        shown = centre or (t["contact_allowed"] and not t["anonymous"] and t["kind"] != "report")
        if not shown or sub.get("kind") == "anonymous":
            return None
        if sub.get("kind") == "partner":
            return {"kind": "partner", "partner": sub.get("partner_name", ""), "name": sub.get("contact_name", "")}
        person = await self.directory.person(sub["person_id"]) if sub.get("person_id") else None
        if person is None:
            return None
        out = {"kind": sub["kind"], "name": mask_name(person.name or "") or "未实名用户",
               "phone": mask_phone(person.phone) if person.phone else None,
               "enterprise": sub.get("enterprise_name"), "revealed": False}
        if reveal and person.phone:
            if not (centre or "supervisor" in (principal.claims.get("roles") or []) or t.get("lead_department")
                    == self._dept(principal)):
                raise PermissionDenied("无权查看诉求人的联系方式", code="reveal_not_allowed")
            out.update(phone=person.phone, name=person.name or out["name"], revealed=True)
            actor, name = _clerk(principal)
            await self.audit.record(t["submitter_chain"] or f"person:{sub['person_id']}", actor, "ticket.reporter_viewed",
                                    target={"type": "ticket", "id": t["_id"]}, channel="staff",
                                    details={"number": t["number"], "by": name})
        return out

    async def view(self, principal: Principal, t: dict[str, Any], reveal: bool = False) -> dict[str, Any]:
        return {**self.lifecycle.view(t), "reporter": await self._reporter(principal, t, reveal),
                "submitter_kind": t["submitter"]["kind"], "partner": t["submitter"].get("partner_name")}

    async def get(self, principal: Principal, ticket_id: str, reveal: bool) -> dict[str, Any]:
        require_role(principal, *CENTRE, *DEPARTMENT)
        return await self.view(principal, await self._ticket(principal, ticket_id), reveal)

    async def queue(self, principal: Principal, view: str) -> list[dict[str, Any]]:
        require_role(principal, *CENTRE, *DEPARTMENT)
        now = now_ms()
        if self._centre(principal):
            states = {"new": ["submitted"], "returned": ["returned"], "overdue": ["dispatched", "handling"],
                      "reopened": ["handling"], "extensions": ["handling"], "mine": ["submitted", "accepted", "returned"],
                      "all": ["submitted", "accepted", "returned", "dispatched", "handling", "answered"]}[view]
            docs = await self.store.in_states(states)
        else:
            docs = await self.store.in_states(["dispatched", "handling", "answered"], self._dept(principal))
        keep = {"overdue": lambda t: bool(t.get("escalations")) or (t.get("due_at") or now + 1) < now,
                "reopened": lambda t: t.get("watched"), "extensions": lambda t: (t.get("extension") or {}).get("pending")}
        docs = [t for t in docs if keep.get(view, lambda _: True)(t)]
        return [await self.view(principal, t) for t in docs]

    async def attachment(self, principal: Principal, ticket_id: str, upload_id: str) -> tuple[dict[str, Any], bytes]:
        t = await self.get(principal, ticket_id, False)
        if upload_id not in t["attachments"]:
            raise NotFound("未找到该附件", code="upload_not_found")
        return await self.applying.upload_bytes(upload_id)

    # -- acting ----------------------------------------------------------------------------------

    async def act(self, principal: Principal, ticket_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        centre_actions = {"accept", "reject", "merge", "dispatch", "decide-extension", "callback", "archive"}
        if action in centre_actions:
            require_role(principal, *CENTRE)
            if not self._centre(principal):
                raise PermissionDenied("只有12345中心可以进行此操作", code="centre_only")
        else:
            require_role(principal, *DEPARTMENT)
        comment = (body.get("comment") or "").strip()
        if action in NEEDS_COMMENT and not comment:
            raise InvalidInput("请填写意见", code="comment_required", errors=[FieldError("comment", "必填")])
        t = await self._ticket(principal, ticket_id)
        if action not in centre_actions and t.get("lead_department") != self._dept(principal):
            raise PermissionDenied("只有主办部门可以进行此操作", code="not_lead_department")
        actor, name = _clerk(principal)
        version = body["version"]
        entry: dict[str, Any] = {"actor_name": name}
        extra: dict[str, Any] = {}
        now = now_ms()
        if action == "merge":
            target = await self.store.by_number(body.get("into") or "")
            if target is None or target["_id"] == t["_id"] or target["state"] in FINISHED:
                raise InvalidInput("请填写要并入的、正在办理的诉求编号", code="merge_target_invalid",
                                   errors=[FieldError("into", "没有这件正在办理的诉求")])
            extra["merged_into"] = target["number"]
            comment = comment or f"与 {target['number']} 为同一诉求，已合并办理"
        elif action == "dispatch":
            extra.update(self._dispatch(t, body, now))
            entry["departments"] = [extra["lead_department"], *extra["co_departments"]]
        elif action == "return":
            mine = sum(1 for r in t.get("returns", []) if r["department"] == self._dept(principal))
            if mine and "supervisor" not in (principal.claims.get("roles") or []):
                raise PermissionDenied("本部门已退回过一次；再次退单须由科长办理", code="second_return_needs_supervisor")
            extra["returns"] = [*t.get("returns", []), {"department": self._dept(principal), "at": now, "reason": comment}]
        elif action == "sign":
            extra["signed_at"] = now
        elif action == "extend":
            if (t.get("extension") or {}).get("pending"):
                raise Conflict("已有一项延期申请在等待审批", code="extension_pending")
            if not body.get("days"):
                raise InvalidInput("请填写延长的工作日数", code="extension_days_required",
                                   errors=[FieldError("days", "请填写 1-30 个工作日")])
            extra["extension"] = {"pending": True, "days": body["days"], "reason": comment, "asked_at": now,
                                  "by": name}
            entry.update(event="extension_asked", days=body["days"])
        elif action == "decide-extension":
            ext = t.get("extension") or {}
            if not ext.get("pending") or body.get("approve") is None:
                raise InvalidInput("没有待审批的延期申请，或未说明是否批准", code="no_pending_extension",
                                   errors=[FieldError("approve", "请选择批准或不批准")])
            decided = {**ext, "pending": False, "approved": body["approve"], "decided_at": now, "decided_by": name}
            extra["extension"] = decided
            extra["extensions"] = [*t.get("extensions", []), decided]
            if body["approve"]:
                extra["due_at"] = self.lifecycle.extended(t["due_at"], ext["days"])
                extra["escalations"] = {}
                entry.update(event="extension_approved", due_at=extra["due_at"])
            else:
                entry["event"] = "extension_refused"
        elif action == "answer":
            extra.update(answer=comment, answered_at=now, on_time=now <= (t.get("due_at") or now))
        elif action == "callback":
            if body.get("result") is None:
                raise InvalidInput("请选择回访结果", code="callback_result_required",
                                   errors=[FieldError("result", "满意、基本满意或不满意")])
            return await self.tickets.callback(None, t["_id"], version, body["result"], comment, staff=actor)
        elif action == "archive":
            extra["archived_at"] = now
        updated = await self.lifecycle.transition(t, action, version, actor, comment, extra, entry)
        return await self.view(principal, updated)

    def _dispatch(self, t: dict[str, Any], body: dict[str, Any], now: int) -> dict[str, Any]:
        lead = body.get("lead_department") or self.catalog.categories[t["category"]].department
        co = [d for d in dict.fromkeys(body.get("co_departments") or []) if d != lead]
        unknown = [d for d in [lead, *co] if self.catalog.department(d) is None]
        if unknown:
            raise InvalidInput("没有这个承办部门", code="department_unknown",
                               errors=[FieldError("lead_department" if lead in unknown else "co_departments",
                                                  f"没有部门：{'、'.join(unknown)}")])
        return {"lead_department": lead, "co_departments": co, "dispatched_at": now,
                "sign_due_at": self.lifecycle.sign_due_from(now), "due_at": self.lifecycle.due_from(t, now),
                "escalations": {}}

    # -- supervision (督办), run by a worker -------------------------------------------------------

    async def supervise(self, now: int | None = None) -> int:
        """Flag each open ticket once per step: signing late; past its due time (督办, the
        department told); past it by the escalation period (升级督办: the department's
        supervisor and the centre see it in their queues). Each step is on the timeline."""
        now = now_ms() if now is None else now
        n = 0
        for t in await self.store.in_states(["dispatched", "handling"]):
            esc = dict(t.get("escalations") or {})
            step = None
            if t["state"] == "dispatched" and t.get("sign_due_at") and now > t["sign_due_at"] and "sign_overdue" not in esc:
                step = ("sign_overdue", "超过签收时限，请尽快签收")
            elif t.get("due_at") and now > t["due_at"] and "supervised" not in esc:
                step = ("supervised", "已超过办理时限，请加快办理并说明原因")
            elif t.get("due_at") and now > self.lifecycle.escalate_at(t["due_at"]) and "escalated" not in esc:
                step = ("escalated", "超期未办结，已升级督办：部门负责人和12345中心跟踪")
            if step is None:
                continue
            esc[step[0]] = now
            try:
                await self.lifecycle.transition(t, "supervise", t["version"], Actor("system", "12345督办"), step[1],
                                                {"escalations": esc}, {"event": step[0]})
                n += 1
            except (Conflict, NotFound):
                continue  # changed meanwhile: the next round looks again
        return n

    # -- statistics ------------------------------------------------------------------------------

    async def stats(self, principal: Principal, days: int = 30) -> dict[str, Any]:
        require_role(principal, "dispatcher", "supervisor")
        now = now_ms()
        docs = await self.store.since(now - days * DAY_MS)
        if not self._centre(principal):
            docs = [t for t in docs if t.get("lead_department") == self._dept(principal)]
        name = lambda code: self.catalog.department(code).name if self.catalog.department(code) else code  # noqa: E731
        answered = [t for t in docs if t.get("answered_at")]
        rated = [t for t in docs if t.get("callback")]
        week = [t for t in docs if t["created_at"] >= now - 7 * DAY_MS]
        return {
            "total": len(docs),
            "by_kind": dict(Counter(self.catalog.kinds[t["kind"]].name for t in docs)),
            "by_category": dict(Counter(t["category_name"] for t in docs)),
            "by_department": dict(Counter(name(t["lead_department"]) for t in docs if t.get("lead_department"))),
            "by_region": dict(Counter(t.get("region_code") or "未知" for t in docs)),
            "on_time_rate": round(sum(1 for t in answered if t.get("on_time")) / len(answered), 3) if answered else None,
            "satisfaction_rate": round(sum(1 for t in rated if t["callback"]["result"] != "unsatisfied") / len(rated), 3)
            if rated else None,
            "enterprise_share": round(sum(1 for t in docs if t["submitter"]["kind"] == "enterprise") / len(docs), 3)
            if docs else None,
            "hot_categories_7d": [{"name": k, "count": v} for k, v in Counter(t["category_name"] for t in week).most_common(5)],
            "hot_locations_7d": [{"name": k, "count": v} for k, v in Counter(
                (t.get("location") or {}).get("address") or "未填写地点" for t in week).most_common(5)],
        }
