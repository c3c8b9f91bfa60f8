"""Applications for government matters: the catalog's guide, prefill from identity and
wallet (免证办), uploads, idempotent submission, the one lifecycle, department queues and
working-day deadlines, and result certificates issued through the issuer path.

The lifecycle is enforced here and only here (``TRANSITIONS``): every change names the
states it may start from and the version it expects, so an illegal step is a 409 naming
the current state and two staff acting at once leave one winner and one 409.
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import rfc8785

from card_wallet.issuer_client import IssuerClient
from card_wallet.service import WalletService
from identity.enterprises import enterprise_chain, require_scope
from identity.service import person_chain, require_level
from identity.sessions import Principal
from identity.staff import require_role
from identity.storage import EnterpriseStore, PersonStore
from server.audit import Actor, AuditTrail
from server.clock import DAY_MS, now_ms
from server.errors import (Conflict, FieldError, InvalidInput, NotFound, PayloadTooLarge, PermissionDenied,
                           Unprocessable, UnsupportedMediaType)
from server.matters.calendar import add_working_days, working_days_between
from server.matters.catalog import Matter, MatterCatalog
from server.matters.rules import evaluate, facts_of
from server.matters.storage import MatterStore
from server.pii import PiiCipher
from server.schema_errors import schema_errors

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
MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}
IDEMPOTENCY_TTL_MS = DAY_MS


def china_today() -> date:
    return datetime.now(CHINA).date()


def sniff(body: bytes) -> str | None:
    return next((t for magic, t in MAGIC.items() if body.startswith(magic)), None)


@dataclass(frozen=True)
class Applicant:
    kind: str  # person / enterprise
    ident: str
    name: str
    person_id: str  # who acts (the person, or the agent for an enterprise)
    # Which wallet certificate types may be used (None: the whole wallet). A kiosk applying
    # for the holder may use only the certificates the holder consented to.
    certificates: frozenset[str] | None = None
    via: dict[str, str] | None = None  # the kiosk or window that submitted for the applicant

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ident}"

    @property
    def chain(self) -> str:
        return person_chain(self.ident) if self.kind == "person" else enterprise_chain(self.ident)


class MatterService:
    def __init__(self, catalog: MatterCatalog, store: MatterStore, persons: PersonStore, enterprises: EnterpriseStore,
                 wallet: WalletService, audit: AuditTrail, pii: PiiCipher, upload_dir: Path,
                 hosted_issuers: dict[str, IssuerClient]):
        self.catalog = catalog
        self.store = store
        self.persons = persons
        self.enterprises = enterprises
        self.wallet = wallet
        self.audit = audit
        self.pii = pii
        self.upload_dir = upload_dir
        self.hosted_issuers = hosted_issuers  # department -> client with the department's issuer key
        self.notifier: Any = None  # set at start-up: turns the outbox into notifications at once

    async def _notify(self, app: dict[str, Any]) -> None:
        if self.notifier is not None:
            try:
                await self.notifier.enqueue_application(app)
            except Exception:  # noqa: BLE001 - the sweep finishes it; the state change stands
                pass

    # ------------------------------------------------------------------------------------------
    # catalog and prefill
    # ------------------------------------------------------------------------------------------

    def matter(self, code: str) -> Matter:
        m = self.catalog.get(code)
        if m is None:
            raise NotFound("未找到该事项", code="matter_not_found")
        return m

    async def applicant(self, principal: Principal) -> Applicant:
        if principal.acting is not None:
            acting = require_scope(principal, "matters")
            e = await self.enterprises.get(acting.enterprise_id)
            return Applicant("enterprise", e["_id"], e["name"], principal.subject)
        person = await self.persons.get(principal.subject) or {}
        name = (person.get("realname") or {}).get("name", "")
        return Applicant("person", principal.subject, name, principal.subject)

    async def _sources(self, applicant: Applicant, matter: Matter) -> tuple[dict[str, Any], dict[str, Any]]:
        """(values by source name, wallet certificates by type) for prefill and results."""
        values: dict[str, Any] = {}
        if applicant.kind == "person":
            person = await self.persons.get(applicant.ident) or {}
            rn = person.get("realname") or {}
            if rn:
                values.update({"identity.name": rn["name"],
                               "identity.id_number": self.pii.decrypt(rn["id_enc"], "id_number"),
                               "identity.gender": rn["gender"], "identity.birth_date": rn["birth_date"]})
            if person.get("phone_enc"):
                values["identity.phone"] = self.pii.decrypt(person["phone_enc"], "phone")
            holder_bidx = rn.get("id_bidx")
        else:
            e = await self.enterprises.get(applicant.ident) or {}
            values.update({"enterprise.name": e.get("name"), "enterprise.uscc": e.get("uscc"),
                           "enterprise.legal_representative": e.get("legal_rep_name"),
                           "enterprise.address": e.get("address")})
            holder_bidx = self.pii.blind_index(e["uscc"], "uscc") if e else None
        wanted = {m["certificate_type"] for m in matter.materials if "certificate_type" in m}
        wanted |= {s.split(":", 1)[1].split(".")[0] for s in matter.raw.get("prefill", {}).values()
                   if s.startswith("certificate:")}
        usable = wanted if applicant.certificates is None else wanted & applicant.certificates
        certs = dict.fromkeys(wanted)
        if holder_bidx and usable:
            certs.update(await self.wallet.satisfies(applicant.kind, holder_bidx, sorted(usable)))
        for type_code, found in certs.items():
            for f, v in (found or {}).get("fields", {}).items():
                values[f"certificate:{type_code}.{f}"] = v
        return values, certs

    async def prefill_for(self, applicant: Applicant, matter: Matter) -> dict[str, Any]:
        """Form values from the applicant's identity and (usable) certificates."""
        values, _ = await self._sources(applicant, matter)
        return self._prefilled(matter, values)

    @staticmethod
    def _prefilled(matter: Matter, values: dict[str, Any]) -> dict[str, Any]:
        return {f: values[src] for f, src in matter.raw.get("prefill", {}).items() if values.get(src) is not None}

    async def prefill(self, principal: Principal, code: str) -> dict[str, Any]:
        matter = self.matter(code)
        applicant = await self.applicant(principal)
        values, certs = await self._sources(applicant, matter)
        form = self._prefilled(matter, values)
        materials = []
        for m in matter.materials:
            found = certs.get(m["certificate_type"]) if "certificate_type" in m else None
            materials.append({"id": m["id"], "name": m["name"], "required": m["required"],
                              "certificate_type": m.get("certificate_type"),
                              "satisfied_by_wallet": found is not None,
                              "certificate_id": found["certificate_id"] if found else None,
                              "upload": m.get("upload")})
        return {"matter": code, "form": form, "materials": materials}

    # ------------------------------------------------------------------------------------------
    # uploads
    # ------------------------------------------------------------------------------------------

    async def upload(self, principal: Principal, declared_type: str, filename: str, body: bytes,
                     max_bytes: int) -> dict[str, Any]:
        applicant = await self.applicant(principal)
        if not body:
            raise InvalidInput("上传内容为空", code="upload_empty")
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"文件不能超过 {max_bytes // 1024 // 1024} MB", extra={"limit": max_bytes})
        actual = sniff(body)
        if actual is None or actual != declared_type.split(";")[0].strip().lower():
            raise UnsupportedMediaType("只接受 JPEG、PNG 图片或 PDF 文件，且声明的类型须与内容一致",
                                       code="upload_type_not_allowed")
        digest = hashlib.sha256(body).hexdigest()
        upload_id = "f" + secrets.token_hex(12)
        path = self.upload_dir / digest[:2] / digest
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{upload_id}.tmp")
            await asyncio.to_thread(tmp.write_bytes, body)
            tmp.replace(path)
        doc = {"_id": upload_id, "owner": applicant.key, "uploaded_by": principal.subject, "sha256": digest,
               "size": len(body), "content_type": actual, "filename": filename[:120], "created_at": now_ms(),
               "departments": []}
        await self.store.insert_upload(doc)
        await self.audit.record(applicant.chain, Actor("person", principal.subject), "upload.created",
                                target={"type": "upload", "id": upload_id},
                                details={"size": len(body), "content_type": actual})
        return doc

    async def read_upload(self, principal: Principal, upload_id: str) -> tuple[dict[str, Any], bytes]:
        doc = await self.store.upload(upload_id)
        if doc is None:
            raise NotFound("未找到该文件", code="upload_not_found")
        if principal.channel == "staff":
            if principal.claims.get("dept") not in doc.get("departments", []):
                raise NotFound("未找到该文件", code="upload_not_found")
        else:
            applicant = await self.applicant(principal)
            if doc["owner"] != applicant.key:
                raise NotFound("未找到该文件", code="upload_not_found")
        data = await asyncio.to_thread((self.upload_dir / doc["sha256"][:2] / doc["sha256"]).read_bytes)
        return doc, data

    # ------------------------------------------------------------------------------------------
    # submission (idempotent)
    # ------------------------------------------------------------------------------------------

    async def submit(self, principal: Principal, idem_key: str, body: dict[str, Any],
                     applicant: Applicant | None = None) -> tuple[dict[str, Any], bool]:
        """(application, created now?) — the same key and body always give the same application."""
        applicant = applicant or await self.applicant(principal)
        key = f"{applicant.key}:{principal.subject}:{idem_key}"
        body_hash = hashlib.sha256(rfc8785.dumps(body)).hexdigest()
        earlier = await self.store.claim_key(key, body_hash, now_ms())
        if earlier is not None:
            return await self._replay(key, earlier, body_hash), False
        try:
            app = await self._create(principal, applicant, body)
        except BaseException:
            await self.store.release_key(key)
            raise
        await self.store.finish_key(key, {"application_id": app["_id"]})
        return app, True

    async def prune_idempotency_keys(self) -> int:
        """Keys older than 24 h are forgotten (a retry after that creates a new application)."""
        return await self.store.prune_keys(now_ms() - IDEMPOTENCY_TTL_MS)

    async def _replay(self, key: str, record: dict[str, Any], body_hash: str) -> dict[str, Any]:
        response = await self.await_response(key, record, body_hash)
        return await self.store.get(response["application_id"])

    async def await_response(self, key: str, record: dict[str, Any], body_hash: str) -> dict[str, Any]:
        """The first response under this key (waiting for it if that request still runs)."""
        if record["body_hash"] != body_hash:
            raise Unprocessable("该 Idempotency-Key 已用于另一份不同的申请", code="idempotency_key_reused")
        for _ in range(100):  # the first request may still be running
            if record and record.get("response"):
                return record["response"]
            await asyncio.sleep(0.05)
            record = await self.store.key_record(key)
            if record is None:
                raise Conflict("相同 Idempotency-Key 的请求失败了，请重新提交", code="idempotency_retry")
        raise Conflict("相同 Idempotency-Key 的申请仍在处理中，请稍后重试", code="idempotency_in_progress")

    async def _create(self, principal: Principal, applicant: Applicant, body: dict[str, Any]) -> dict[str, Any]:
        matter = self.matter(body["matter"])
        require_level(principal, matter.min_level)
        if not matter.allows(applicant.kind):
            raise PermissionDenied("该事项不面向" + ("企业" if applicant.kind == "enterprise" else "个人") + "办理",
                                   code="matter_target_mismatch")
        form = body["form"]
        errors = schema_errors(matter.validator, form, "form")
        if errors:
            raise InvalidInput(f"申请表有 {len(errors)} 处需要修改", code="form_invalid", errors=errors)
        materials = await self._materials(applicant, matter, body["materials"])
        now = now_ms()
        number = f"GZ{china_today():%Y%m%d}{await self.store.next_number('application'):06d}"
        state = "draft" if body.get("draft") else "submitted"
        doc = {
            "_id": "a" + secrets.token_hex(12), "number": number, "matter": matter.code, "matter_name": matter.name,
            "department": matter.department, "department_name": matter.department_name,
            "applicant_key": applicant.key,
            "applicant": {"kind": applicant.kind, "id": applicant.ident, "name": applicant.name,
                          "person_id": applicant.person_id},
            "form": form, "materials": materials, "state": state, "version": 1, "created_at": now,
            "submitted_at": now if state == "submitted" else None, "accepted_on": None, "paused_days": 0,
            "paused_since": None, "finished_on": None, "result": None, "supplement": None, "instant_approval": None,
            "outbox_pending": True, "notified_upto": 0, "updated_at": now, "via": applicant.via,
            "timeline": [{"state": state, "at": now, "actor": applicant.via or {"type": "person", "id": principal.subject},
                          "comment": f"由{applicant.via['name']}代为提交" if applicant.via else ""}],
        }
        await self.store.insert(doc)
        for m in materials:
            if m.get("upload_id"):
                await self.store.uploads.update_one({"_id": m["upload_id"]},
                                                    {"$addToSet": {"departments": matter.department}})
        actor = Actor(applicant.via["type"], applicant.via["id"]) if applicant.via else Actor("person", principal.subject)
        await self.audit.record(applicant.chain, actor, f"application.{state}",
                                target={"type": "application", "id": doc["_id"]},
                                details={"matter": matter.code, "number": number,
                                         **({"via": applicant.via["name"]} if applicant.via else {})})
        if state == "submitted" and matter.instant_rules:
            doc = await self._instant_approval(doc, matter, applicant, principal)
        await self._notify(doc)
        return doc

    async def _facts(self, applicant: Applicant, matter: Matter, form: dict[str, Any], principal: Principal
                     ) -> dict[str, Any]:
        values, certs = await self._sources(applicant, matter)
        wanted = {f.split(".")[1] for r in matter.instant_rules for f in facts_of(r["rule"])
                  if f.startswith("certificate.")}
        missing = sorted(t for t in wanted if t not in certs
                         and (applicant.certificates is None or t in applicant.certificates))
        if missing:
            person = await self.persons.get(principal.subject) or {}
            bidx = (person.get("realname") or {}).get("id_bidx")
            certs.update(await self.wallet.satisfies("person", bidx, missing) if bidx else dict.fromkeys(missing))
        facts: dict[str, Any] = {f"form.{k}": v for k, v in form.items()}
        person = await self.persons.get(principal.subject) or {}
        rn = person.get("realname") or {}
        facts["identity.level"] = person.get("level", 0)
        if rn:
            id_number = self.pii.decrypt(rn["id_enc"], "id_number")
            born = date.fromisoformat(rn["birth_date"])
            today = china_today()
            facts.update({"identity.name": rn["name"], "identity.id_number": id_number, "identity.gender": rn["gender"],
                          "identity.age": today.year - born.year - ((today.month, today.day) < (born.month, born.day))})
        for type_code, found in certs.items():
            facts[f"certificate.{type_code}"] = found is not None
            for f, v in (found or {}).get("fields", {}).items():
                facts[f"certificate.{type_code}.{f}"] = v
        return facts

    async def _instant_approval(self, app: dict[str, Any], matter: Matter, applicant: Applicant,
                                principal: Principal) -> dict[str, Any]:
        """秒批: every rule passes -> accepted, approved and completed now by the system;
        otherwise the application waits in the queue with the failed rules for the reviewer."""
        facts = await self._facts(applicant, matter, app["form"], principal)
        results = [{"name": r["name"], "passed": bool(evaluate(r["rule"], facts))} for r in matter.instant_rules]
        passed = all(r["passed"] for r in results)
        record = {"passed": passed, "results": results, "at": now_ms()}
        system = Actor("system", "秒批")
        if not passed:
            failed = [r["name"] for r in results if not r["passed"]]
            updated = await self.store.transition(app["_id"], app["version"], ["submitted"],
                                                  {"instant_approval": record, "outbox_pending": True},
                                                  app["timeline"] + [{"state": "submitted", "at": now_ms(),
                                                                      "actor": system.as_dict(),
                                                                      "comment": "未满足秒批条件，转人工审核：" + "；".join(failed)}])
            return updated or app
        app = await self._transition(app, "accept", app["version"], system, "符合秒批条件，自动受理",
                                     {"instant_approval": record})
        result = await self._issue_result(app)
        app = await self._transition(app, "approve", app["version"], system, "秒批：规则全部满足，自动批准",
                                     {"result": result})
        return await self._transition(app, "complete", app["version"], system, "秒批办结")

    async def _materials(self, applicant: Applicant, matter: Matter, given: list[dict[str, Any]]
                         ) -> list[dict[str, Any]]:
        by_id = {g["id"]: g for g in given}
        unknown = [g for g in by_id if matter.material(g) is None]
        if unknown:
            raise InvalidInput("提交了该事项不需要的材料", code="material_unknown",
                               errors=[FieldError(f"materials.{u}", "该事项没有这项材料") for u in unknown])
        _, certs = await self._sources(applicant, matter)
        out, errors = [], []
        for m in matter.materials:
            g = by_id.get(m["id"], {})
            entry = {"id": m["id"], "name": m["name"], "source": None}
            if g.get("certificate_id"):
                found = certs.get(m.get("certificate_type", ""))
                if "certificate_type" not in m:
                    errors.append(FieldError(f"materials.{m['id']}", "这项材料不能用电子证照提交"))
                elif found is None or found["certificate_id"] != g["certificate_id"]:
                    errors.append(FieldError(f"materials.{m['id']}", "该电子证照不在您的卡包中，或已失效"))
                else:
                    entry.update(source="certificate", certificate_id=found["certificate_id"])
            elif g.get("upload_id"):
                up = await self.store.upload(g["upload_id"])
                if up is None or up["owner"] != applicant.key:
                    errors.append(FieldError(f"materials.{m['id']}", "找不到您上传的这份文件"))
                elif up["content_type"] not in m.get("upload", {}).get("types", []) \
                        or up["size"] > m.get("upload", {}).get("max_bytes", 0):
                    errors.append(FieldError(f"materials.{m['id']}", "文件类型或大小不符合这项材料的要求"))
                else:
                    entry.update(source="upload", upload_id=up["_id"], content_type=up["content_type"],
                                 sha256=up["sha256"])
            elif "certificate_type" in m and certs.get(m["certificate_type"]):
                entry.update(source="certificate", certificate_id=certs[m["certificate_type"]]["certificate_id"],
                             auto=True)  # 免证办: the wallet holds it
            if entry["source"] is None and m["required"] and not any(e.field == f"materials.{m['id']}"
                                                                      for e in errors):
                errors.append(FieldError(f"materials.{m['id']}", f"缺少必要材料：{m['name']}"))
            out.append(entry)
        if errors:
            code = "material_missing" if all("缺少" in e.message for e in errors) else "material_invalid"
            raise Unprocessable("申请材料不完整或不可用", code=code, errors=errors)
        return out

    # ------------------------------------------------------------------------------------------
    # reading
    # ------------------------------------------------------------------------------------------

    def view(self, app: dict[str, Any], today: date | None = None) -> dict[str, Any]:
        day = today or china_today()
        deadline, remaining, overdue = None, None, False
        if app.get("accepted_on"):
            dl = self.deadline(app, day)
            deadline = dl.isoformat()
            end = date.fromisoformat(app["finished_on"]) if app.get("finished_on") else day
            remaining = working_days_between(end, dl)
            overdue = app["state"] not in FINISHED and remaining < 0
        return {**app, "id": app["_id"], "state_name": STATE_NAMES.get(app["state"], app["state"]),
                "deadline": deadline, "remaining_working_days": remaining, "overdue": overdue,
                "clock_paused": app.get("paused_since") is not None}

    def deadline(self, app: dict[str, Any], today: date) -> date:
        matter = self.catalog.get(app["matter"])
        paused = app.get("paused_days", 0)
        if app.get("paused_since"):
            paused += max(0, working_days_between(date.fromisoformat(app["paused_since"]), today))
        promised = matter.promised_days if matter else 0
        return add_working_days(date.fromisoformat(app["accepted_on"]), promised + paused)

    async def mine(self, principal: Principal) -> list[dict[str, Any]]:
        applicant = await self.applicant(principal)
        return [self.view(a) for a in await self.store.of_applicant(applicant.key)]

    async def get_mine(self, principal: Principal, app_id: str) -> dict[str, Any]:
        applicant = await self.applicant(principal)
        app = await self.store.get(app_id)
        if app is None or app["applicant_key"] != applicant.key:
            raise NotFound("未找到该申请", code="application_not_found")
        return self.view(app)

    # ------------------------------------------------------------------------------------------
    # the lifecycle
    # ------------------------------------------------------------------------------------------

    async def _transition(self, app: dict[str, Any], action: str, version: int, actor: Actor, comment: str,
                          extra: dict[str, Any] | None = None) -> dict[str, Any]:
        allowed, to, _ = TRANSITIONS[action]
        today = china_today()
        now = now_ms()
        set_: dict[str, Any] = {"state": to, "outbox_pending": True, "updated_at": now_ms(), **(extra or {})}
        events = [{"state": to, "at": now, "actor": actor.as_dict(), "comment": comment}]
        if action == "accept":
            set_["accepted_on"] = today.isoformat()
            events = [{"state": "accepted", "at": now, "actor": actor.as_dict(), "comment": comment},
                      {"state": "in_review", "at": now, "actor": actor.as_dict(), "comment": ""}]
        if action == "request-supplement":
            set_["paused_since"] = today.isoformat()
        if action == "resubmit" and app.get("paused_since"):
            set_["paused_days"] = app.get("paused_days", 0) + max(
                0, working_days_between(date.fromisoformat(app["paused_since"]), today))
            set_["paused_since"] = None
        if to in FINISHED:
            set_["finished_on"] = today.isoformat()
            if app.get("paused_since"):
                set_["paused_days"] = app.get("paused_days", 0) + max(
                    0, working_days_between(date.fromisoformat(app["paused_since"]), today))
                set_["paused_since"] = None
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
        kind, ident = app["applicant_key"].split(":", 1)
        chain = person_chain(ident) if kind == "person" else enterprise_chain(ident)
        await self.audit.record(chain, actor, f"application.{to}", target={"type": "application", "id": app["_id"]},
                                details={"number": app["number"], "comment": comment})
        await self._notify(updated)
        return updated

    async def applicant_action(self, principal: Principal, app_id: str, action: str, version: int,
                               comment: str = "", materials: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        app = await self.store.get(app_id)
        applicant = await self.applicant(principal)
        if app is None or app["applicant_key"] != applicant.key:
            raise NotFound("未找到该申请", code="application_not_found")
        extra: dict[str, Any] = {}
        if action == "resubmit":
            matter = self.matter(app["matter"])
            given = {m["id"]: {"id": m["id"], **({"certificate_id": m["certificate_id"]} if m.get("certificate_id")
                                                  else {"upload_id": m["upload_id"]} if m.get("upload_id") else {})}
                     for m in app["materials"]}
            given.update({m["id"]: m for m in materials or []})
            extra["materials"] = await self._materials(applicant, matter, list(given.values()))
            for m in extra["materials"]:
                if m.get("upload_id"):
                    await self.store.uploads.update_one({"_id": m["upload_id"]},
                                                        {"$addToSet": {"departments": app["department"]}})
        updated = await self._transition(app, action, version, Actor("person", principal.subject), comment, extra)
        return self.view(updated)

    # -- staff ---------------------------------------------------------------------------------

    async def _staff_app(self, principal: Principal, app_id: str) -> dict[str, Any]:
        app = await self.store.get(app_id)
        if app is None or app["department"] != principal.claims.get("dept"):
            raise NotFound("未找到该申请（或不属于本部门）", code="application_not_found")
        return app

    async def staff_get(self, principal: Principal, app_id: str) -> dict[str, Any]:
        app = await self._staff_app(principal, app_id)
        view = self.view(app)
        checks = []
        for m in app["materials"]:
            if m.get("certificate_id"):
                cert = await self.wallet.store.certificate(m["certificate_id"])
                checks.append({"material": m["id"], **(await self.wallet.verify(cert) if cert else {"valid": False})})
        return {**view, "material_checks": checks}

    async def queue(self, principal: Principal, state: str | None, overdue: bool | None, matter: str | None
                    ) -> list[dict[str, Any]]:
        states = [state] if state else None
        apps = [self.view(a) for a in await self.store.of_department(principal.claims.get("dept", ""), states, matter)]
        if overdue is not None:
            apps = [a for a in apps if a["overdue"] == overdue]
        return apps

    async def staff_action(self, principal: Principal, app_id: str, action: str, version: int, comment: str,
                           items: list[str] | None = None) -> dict[str, Any]:
        _, _, roles = TRANSITIONS[action]
        require_role(principal, *roles)
        if action in NEEDS_COMMENT and not comment.strip():
            raise InvalidInput("请填写理由或需要补正的内容", code="comment_required",
                               errors=[FieldError("comment", "必填")])
        app = await self._staff_app(principal, app_id)
        actor = Actor("staff", principal.subject)
        extra: dict[str, Any] = {}
        if action == "request-supplement":
            extra["supplement"] = {"comment": comment, "items": items or [], "at": now_ms()}
        if action == "approve":
            # allowed from here? check before issuing anything
            if app["state"] not in TRANSITIONS["approve"][0] or app["version"] != version:
                await self._transition(app, action, version, actor, comment)  # raises the right 409
            extra["result"] = await self._issue_result(app)
        updated = await self._transition(app, action, version, actor, comment, extra)
        return self.view(updated)

    async def _issue_result(self, app: dict[str, Any]) -> dict[str, Any] | None:
        """Approval's result as an e-certificate, issued through the issuer API path."""
        matter = self.matter(app["matter"])
        spec = matter.raw.get("result")
        if not spec:
            return None
        client = self.hosted_issuers.get(matter.department)
        if client is None:
            return {"certificate_id": None, "note": "该部门未托管签发密钥，结果证照由部门系统签发"}
        kind, ident = app["applicant_key"].split(":", 1)
        applicant = Applicant(kind, ident, app["applicant"]["name"], app["applicant"]["person_id"])
        values, _ = await self._sources(applicant, matter)
        fields: dict[str, Any] = {}
        for f, source in spec["fields"].items():
            if source.startswith("form."):
                fields[f] = app["form"].get(source[5:])
            elif source.startswith("const:"):
                fields[f] = source[6:]
            elif source.startswith("generated:"):
                fields[f] = source[10:] + f"{secrets.randbelow(10**14):014d}"
            else:
                fields[f] = values.get(source)
        if kind == "person":
            holder = {"kind": "person", "id_number": values["identity.id_number"], "name": values["identity.name"]}
        else:
            holder = {"kind": "enterprise", "uscc": values["enterprise.uscc"], "name": values["enterprise.name"]}
        today = china_today()
        until = today.replace(year=today.year + spec["valid_years"]) - timedelta(days=1) if spec.get("valid_years") \
            else None
        body = client.issue_body(f"app-{app['_id']}", spec["certificate_type"], holder,
                                 {k: v for k, v in fields.items() if v is not None}, today.isoformat(),
                                 until.isoformat() if until else None)
        issuer_principal = Principal(f"issuer:{client.code}", "issuer", 0, "", 0)
        issued = await self.wallet.issue(issuer_principal, body)
        return {"certificate_id": issued["id"], "type": spec["certificate_type"]}

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
                dl = self.deadline(a, today)
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

