"""The resident's side of 12345: the catalog and the knowledge base, filing a ticket (as a
person, for an enterprise one acts for — 企业诉求 —, at a kiosk for the scanned holder, or
anonymously with a one-time query code for 举报), one's own tickets, closing a 咨询 with a
knowledge-base answer, and the callback (回访) that archives a ticket or has it redone once."""
from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from identity.codes.service import CodeService, ScanActor
from identity.facade import Directory
from matters.applying.service import ApplyingService
from matters.ratings.service import RatingService
from server.audit import Actor
from server.clock import now_ms
from server.errors import (Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, RateLimited,
                           Unauthenticated)
from server.idempotency import Idempotency
from server.pii import PiiCipher
from server.principal import Caller, Principal, enterprise_chain, person_chain, require_level
from server.storage.limits import Limits
from tickets.catalog import TicketCatalog
from tickets.lifecycle import FINISHED, OPEN, STATE_NAMES, TicketLifecycle
from tickets.storage import TicketStore

MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")
HOURLY, DAILY, ANON_HOURLY, LOOKUP_MISSES = 10, 30, 5, 10


class TicketService:
    def __init__(self, store: TicketStore, catalog: TicketCatalog, lifecycle: TicketLifecycle,
                 directory: Directory, applying: ApplyingService, ratings: RatingService, codes: CodeService,
                 idempotency: Idempotency, limits: Limits, pii: PiiCipher):
        self.store = store
        self.catalog = catalog
        self.lifecycle = lifecycle
        self.directory = directory
        self.applying = applying
        self.ratings = ratings
        self.codes = codes
        self.idempotency = idempotency
        self.limits = limits
        self.pii = pii

    # -- the catalog and the knowledge base ---------------------------------------------------

    def catalog_out(self) -> dict[str, Any]:
        c = self.catalog
        unit = {k: f"{v.limit_working_days} 个工作日" for k, v in c.kinds.items()}
        return {"kinds": [{"code": k.code, "name": k.name, "limit": unit[k.code]} for k in c.kinds.values()],
                "categories": [{"code": x.code, "name": x.name, "group": x.group, "kinds": list(x.kinds),
                                "department_name": c.departments[x.department].name,
                                "department": x.department, "limit": f"{c.URGENT_HOURS} 小时（紧急）" if x.urgent else None}
                               for x in c.categories.values()],
                "departments": [{"code": d.code, "name": d.name} for d in c.departments.values()]}

    def knowledge(self, q: str, category: str | None) -> list[dict[str, Any]]:
        return [{"id": a.id, "question": a.question, "answer": a.answer, "matter": a.matter, "score": s}
                for a, s in self.catalog.search(q, category)]

    # -- filing ----------------------------------------------------------------------------------

    def _check(self, body: dict[str, Any]) -> None:
        errors = []
        cat = self.catalog.categories.get(body["category"])
        if cat is None:
            errors.append(FieldError("category", "没有这个分类，请从列表中选择"))
        elif body["kind"] not in cat.kinds:
            names = "、".join(self.catalog.kinds[k].name for k in cat.kinds)
            errors.append(FieldError("kind", f"“{cat.name}”可提交：{names}"))
        for field in ("title", "content"):
            if MARKUP.search(body.get(field) or ""):
                errors.append(FieldError(field, "请用文字描述，不要包含网页标记"))
        if body.get("anonymous") and body["kind"] != "report":
            errors.append(FieldError("anonymous", "只有举报可以匿名提交"))
        if errors:
            raise InvalidInput("诉求内容需要修改", code="ticket_invalid", errors=errors)

    async def _limit(self, subject: str) -> None:
        hour = await self.limits.add_window("ticket-hour", subject, 3600)
        day = await self.limits.add_day("ticket-day", subject, self.lifecycle.day_of(now_ms()))
        if hour > HOURLY or day > DAILY:
            raise RateLimited("提交太频繁了，请稍后再提交；紧急情况请直接拨打 12345", code="ticket_too_frequent",
                              retry_after=3600)

    async def submit(self, principal: Principal | None, body: dict[str, Any], idem_key: str, caller: Caller,
                     holder: str | None = None, via: dict[str, str] | None = None) -> tuple[dict[str, Any], bool]:
        """File a ticket: ``principal`` None is an anonymous 举报; ``holder`` a kiosk's scanned holder."""
        self._check(body)
        if principal is None:
            if not (body["kind"] == "report" and body.get("anonymous")):
                raise Unauthenticated("请先登录；只有匿名举报可以不登录提交", code="token_missing")
            if body.get("attachments"):
                raise InvalidInput("匿名举报不能附带附件", code="ticket_invalid",
                                   errors=[FieldError("attachments", "匿名举报不能附带附件")])
            wait, _ = await self.limits.spend("ticket-anon", [caller.ip], ANON_HOURLY, 3600)
            if wait:
                raise RateLimited("匿名举报提交太频繁了，请稍后再试", code="ticket_too_frequent", retry_after=wait)
            submitter = {"kind": "anonymous"}
            key = f"anonymous:{hashlib.sha256(caller.ip.encode()).hexdigest()[:16]}"
        elif holder is not None:
            submitter = {"kind": "person", "person_id": holder.split(":", 1)[1], "via": via}
            key = holder
        else:
            require_level(principal, 1)
            if principal.acting is not None:
                ent = await self.directory.enterprise(principal.acting.enterprise_id)
                submitter = {"kind": "enterprise", "person_id": principal.subject,
                             "enterprise_id": principal.acting.enterprise_id, "enterprise_name": ent.name if ent else ""}
                key = f"enterprise:{principal.acting.enterprise_id}"
            else:
                submitter = {"kind": "person", "person_id": principal.subject}
                key = f"person:{principal.subject}"
            await self._limit(key)
            await self.applying.own_uploads(principal, body.get("attachments") or [])
            related = body.get("related") or {}
            if related.get("application_id"):
                await self.applying.get_mine(principal, related["application_id"])
            if related.get("rating_id"):
                body = {**body, "related": await self._on_rating(principal, body)}

        async def work(reserved: str, rerun: bool) -> dict[str, Any]:
            existing = await self.store.get("t" + reserved)
            if existing is not None:
                return self._created(existing, None)
            return await self._create("t" + reserved, body, submitter, key)

        return await self.idempotency.run(f"ticket:{key}", idem_key, body, work)

    async def _on_rating(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        """A 投诉 about a 差评 of the caller's own: it names the application and the rectification,
        which closes it; one open complaint per rating."""
        if body["kind"] != "complaint":
            raise InvalidInput("对差评的诉求请选择“投诉”", code="ticket_invalid",
                               errors=[FieldError("kind", "对差评的诉求请选择“投诉”")])
        bad = await self.ratings.bad_rating(principal, body["related"]["rating_id"])
        for t in await self.store.on_rating(bad.rating_id):
            if t["state"] not in FINISHED:
                raise Conflict(f"这条差评已转为投诉（{t['number']}），正在办理中", code="rating_already_raised",
                               extra={"ticket_id": t["_id"], "number": t["number"]})
        return {"rating_id": bad.rating_id, "application_id": bad.application_id,
                "application_number": bad.application_number, "rectification_id": bad.rectification_id}

    async def catch_up_rectifications(self) -> int:
        """Close complaints whose rectification closed while the port's call failed (the worker's round)."""
        open_ = await self.store.open_on_rectifications(None, list(OPEN))
        n = 0
        for r in await self.ratings.closed_rectifications(sorted({t["related"]["rectification_id"] for t in open_})):
            n += await self.lifecycle.rectified(r)
        return n

    async def _create(self, ticket_id: str, body: dict[str, Any], submitter: dict[str, Any], key: str) -> dict[str, Any]:
        now = now_ms()
        day = self.lifecycle.day_of(now)
        number = f"12345-{day}-{await self.store.next_number(day):06d}"
        cat = self.catalog.categories[body["category"]]
        query_code = secrets.token_hex(6).upper() if submitter["kind"] == "anonymous" else None
        chain = (enterprise_chain(submitter["enterprise_id"]) if submitter["kind"] == "enterprise"
                 else person_chain(submitter["person_id"]) if submitter.get("person_id") else None)
        actor = Actor("person", submitter["person_id"]) if submitter.get("person_id") else Actor("anonymous", "")
        location = body.get("location") or None
        doc = {
            "_id": ticket_id, "number": number, "kind": body["kind"], "category": cat.code, "category_name": cat.name,
            "title": body["title"], "content": body["content"], "location": location,
            "region_code": (location or {}).get("region_code") or self.catalog.departments[cat.department].region_code,
            "attachments": body.get("attachments") or [], "related": body.get("related") or None,
            "anonymous": bool(body.get("anonymous")), "contact_allowed": bool(body.get("contact_allowed", True))
            and not body.get("anonymous"), "submitter": submitter, "submitter_key": key, "submitter_chain": chain,
            "query_code_hash": self._code_hash(number, query_code) if query_code else None,
            "state": "submitted", "version": 1, "lead_department": None, "co_departments": [], "due_at": None,
            "sign_due_at": None, "dispatched_at": None, "extension": None, "extensions": [], "returns": [],
            "escalations": {}, "answer": None, "callback": None, "redo_count": 0, "watched": False,
            "timeline": [{"state": "submitted", "at": now, "actor": actor.as_dict(), "comment": "",
                          **({"via": submitter["via"]["name"]} if submitter.get("via") else {})}],
            "outbox_pending": True, "notified_upto": 0, "created_at": now, "updated_at": now,
        }
        await self.store.insert(doc)
        await self.lifecycle.flush(doc)
        return self._created(doc, query_code)

    async def create_for(self, body: dict[str, Any], submitter: dict[str, Any], key: str) -> dict[str, Any]:
        """A ticket another system files (an Open311 partner), checked like any other."""
        self._check(body)
        return await self._create("t" + secrets.token_hex(12), body, submitter, key)

    def _created(self, t: dict[str, Any], query_code: str | None) -> dict[str, Any]:
        suggestions = self.knowledge(f"{t['title']} {t['content']}", t["category"]) if t["kind"] == "consult" else []
        return {"id": t["_id"], "number": t["number"], "state": t["state"], "state_name": STATE_NAMES[t["state"]],
                "due_at": t.get("due_at"), "query_code": query_code, "suggestions": suggestions}

    def _code_hash(self, number: str, code: str) -> str:
        return self.pii.blind_index(f"{number}:{code}", "ticket_query")

    # -- the submitter's own tickets ----------------------------------------------------------

    def _key(self, principal: Principal) -> str:
        if principal.acting is not None:
            return f"enterprise:{principal.acting.enterprise_id}"
        return f"person:{principal.subject}"

    async def mine(self, principal: Principal) -> list[dict[str, Any]]:
        return [self.lifecycle.view(t) for t in await self.store.of_submitter(self._key(principal))]

    async def _own(self, principal: Principal, ticket_id: str) -> dict[str, Any]:
        t = await self.store.get(ticket_id)
        if t is None or t["submitter_key"] != self._key(principal):
            raise NotFound("未找到该诉求", code="ticket_not_found")
        return t

    async def get_mine(self, principal: Principal, ticket_id: str) -> dict[str, Any]:
        t = await self._own(principal, ticket_id)
        view = self.lifecycle.view(t)
        if t["kind"] == "consult" and t["state"] == "submitted":
            view["suggestions"] = self._created(t, None)["suggestions"]
        return view

    async def resolve(self, principal: Principal, ticket_id: str, version: int, answer_id: str) -> dict[str, Any]:
        """A 咨询 the knowledge base answered: closed on the spot as 直接答复."""
        t = await self._own(principal, ticket_id)
        answer = next((a for a in self.catalog.answers if a.id == answer_id), None)
        if answer is None:
            raise InvalidInput("没有这条知识库答复", code="answer_unknown",
                               errors=[FieldError("answer_id", "没有这条答复")])
        if t["kind"] != "consult":
            raise Conflict("只有咨询可以用知识库答复办结", code="not_resolvable")
        updated = await self.lifecycle.transition(
            t, "resolve", version, Actor("person", principal.subject), "", entry={"event": "resolved"},
            extra={"answer": answer.answer, "answered_at": now_ms(), "direct_answer": answer.id, "archived_at": now_ms()})
        return self.lifecycle.view(updated)

    async def callback(self, principal: Principal | None, ticket_id: str, version: int, result: str, comment: str,
                       staff: Actor | None = None) -> dict[str, Any]:
        """回访: 满意 / 基本满意 archive it; 不满意 has it redone once by the same department,
        with the centre watching; a second 不满意 is recorded and archived."""
        t = await self._own(principal, ticket_id) if principal is not None else await self.store.get(ticket_id)
        if t is None:
            raise NotFound("未找到该诉求", code="ticket_not_found")
        actor = staff or Actor("person", principal.subject if principal else "")
        record = {"result": result, "comment": comment, "at": now_ms(), "by": actor.as_dict()}
        if result == "unsatisfied" and t.get("redo_count", 0) == 0:
            now = now_ms()
            updated = await self.lifecycle.transition(
                t, "reopen", version, actor, comment or "不满意", entry={"event": "reopened"},
                extra={"callback": record, "redo_count": 1, "watched": True, "dispatched_at": now,
                       "due_at": self.lifecycle.due_from(t, now), "answer": None, "escalations": {}})
        else:
            updated = await self.lifecycle.transition(t, "callback", version, actor, comment,
                                                      extra={"callback": record, "archived_at": now_ms()})
        return self.lifecycle.view(updated)

    async def lookup(self, number: str, query_code: str, ip: str) -> dict[str, Any]:
        """An anonymous 举报's progress, by its number and one-time query code (guesses limited)."""
        wait, _ = await self.limits.spend("ticket-lookup", [ip], LOOKUP_MISSES, 600)
        if wait:
            raise RateLimited("查询太频繁了，请稍后再试", code="ticket_lookup_limited", retry_after=wait)
        t = await self.store.by_number(number)
        if t is None or not t.get("query_code_hash") or t["query_code_hash"] != self._code_hash(number, query_code):
            raise NotFound("编号或查询码不对", code="ticket_not_found")
        await self.limits.refund("ticket-lookup", [ip])
        view = self.lifecycle.view(t)
        return {k: view[k] for k in ("number", "kind_name", "category_name", "state", "state_name", "answer",
                                     "created_at")} | {"timeline": [{"name": e["name"], "at": e["at"]}
                                                                   for e in view["timeline"]]}

    async def for_kiosk(self, actor: ScanActor, scan_id: str) -> str:
        """Whose code the kiosk scanned (the holder the kiosk files for)."""
        scan = await self.codes.scan_of(actor, scan_id)
        if not str(scan.get("holder", "")).startswith("person:"):
            raise PermissionDenied("只能为个人服务码的持码人提交诉求", code="not_a_person_code")
        return scan["holder"]
