"""Applying for government matters: the guide, prefill from identity and wallet (免证办),
uploads, idempotent submission (with 秒批 when the catalog says so), the applicant's own
actions (submit a draft, resubmit after 补正, withdraw) and the applicant's list."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matters.applicant import Applicant, Sources
from matters.catalog import Matter, MatterCatalog
from matters.jurisdiction import delivery, offices
from matters.lifecycle import FINISHED, Lifecycle, china_today
from matters.results import ResultIssuer
from matters.rules import evaluate
from matters.storage import ApplicationStore
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Unprocessable,
    UnsupportedMediaType,
)
from server.idempotency import Idempotency
from server.principal import Principal, require_level
from server.schema_errors import schema_errors

log = logging.getLogger("superapp.matters")
MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}
SYSTEM = Actor("system", "秒批")


def sniff(body: bytes) -> str | None:
    return next((t for magic, t in MAGIC.items() if body.startswith(magic)), None)


def submitted_by(via: dict[str, str] | None) -> str:
    """The first timeline entry's words when someone submitted for the applicant."""
    if not via:
        return ""
    if via["type"] == "proxy":
        return f"由{via.get('kind', '亲友')} {via['name']} 代办提交"
    return f"{'窗口帮办：' if via['type'] == 'staff' else ''}由{via['name']}代为提交"


# Where a matter is handled in person (the halls' port): hall, address, phone, opening hours.
Places = Callable[[str], list[dict[str, Any]]]


class ApplyingService:
    def __init__(self, catalog: MatterCatalog, store: ApplicationStore, lifecycle: Lifecycle, sources: Sources,
                 results: ResultIssuer, idempotency: Idempotency, audit: AuditTrail, upload_dir: Path,
                 places: Places = lambda code: []):
        self.catalog = catalog
        self.store = store
        self.lifecycle = lifecycle
        self.sources = sources
        self.results = results
        self.idempotency = idempotency
        self.audit = audit
        self.upload_dir = upload_dir
        self.places = places

    # ------------------------------------------------------------------------------------------
    # catalog and prefill
    # ------------------------------------------------------------------------------------------

    def matter(self, code: str) -> Matter:
        m = self.catalog.get(code)
        if m is None:
            raise NotFound("未找到该事项", code="matter_not_found")
        return m

    def guide(self, code: str) -> dict[str, Any]:
        """办事指南: the catalog entry with its 办理地点 and 办理时间 from the service halls."""
        matter = self.matter(code)
        return {**matter.raw, "places": self.places(code)}

    async def prefill_for(self, applicant: Applicant, matter: Matter) -> dict[str, Any]:
        """Form values from the applicant's identity and (usable) certificates."""
        values, _ = await self.sources.gather(applicant, matter)
        return self.sources.prefilled(matter, values)

    async def prefill(self, principal: Principal, code: str) -> dict[str, Any]:
        matter = self.matter(code)
        require_level(principal, matter.min_level)  # told before the form is filled, not after
        applicant = await self.sources.applicant(principal)
        values, certs = await self.sources.gather(applicant, matter)
        materials = []
        for m in matter.materials:
            found = certs.get(m["certificate_type"]) if "certificate_type" in m else None
            materials.append({"id": m["id"], "name": m["name"], "required": m["required"],
                              "certificate_type": m.get("certificate_type"),
                              "satisfied_by_wallet": found is not None,
                              "certificate_id": found["certificate_id"] if found else None,
                              "upload": m.get("upload"), "situations": m.get("situations")})
        return {"matter": code, "form": self.sources.prefilled(matter, values), "materials": materials}

    # ------------------------------------------------------------------------------------------
    # uploads
    # ------------------------------------------------------------------------------------------

    def _path(self, sha256: str) -> Path:
        return self.upload_dir / sha256[:2] / sha256

    async def upload(self, principal: Principal, declared_type: str, filename: str, body: bytes,
                     max_bytes: int) -> dict[str, Any]:
        applicant = await self.sources.applicant(principal)
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
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{upload_id}.tmp")
            await asyncio.to_thread(tmp.write_bytes, body)
            tmp.replace(path)
        doc = {"_id": upload_id, "owner": applicant.key, "uploaded_by": principal.subject, "sha256": digest,
               "size": len(body), "content_type": actual, "filename": filename[:120], "created_at": now_ms()}
        await self.store.insert_upload(doc)
        await self.audit.record(applicant.chain, Actor("person", principal.subject), "upload.created",
                                target={"type": "upload", "id": upload_id},
                                details={"size": len(body), "content_type": actual})
        return doc

    async def read_upload(self, principal: Principal, upload_id: str) -> tuple[dict[str, Any], bytes]:
        """Readable by its owner, and by a department an application of the owner's with it went to."""
        doc = await self.store.upload(upload_id)
        if doc is None:
            raise NotFound("未找到该文件", code="upload_not_found")
        if principal.channel == "staff":
            apps = await self.store.of_applicant_in(doc["owner"], principal.claims.get("dept", ""))
            if not any(m.get("upload_id") == upload_id for a in apps for m in a["materials"]):
                raise NotFound("未找到该文件", code="upload_not_found")
        else:
            applicant = await self.sources.applicant(principal)
            if doc["owner"] != applicant.key:
                raise NotFound("未找到该文件", code="upload_not_found")
        data = await asyncio.to_thread(self._path(doc["sha256"]).read_bytes)
        return doc, data

    # ------------------------------------------------------------------------------------------
    # submission (idempotent)
    # ------------------------------------------------------------------------------------------

    async def submit(self, principal: Principal, idem_key: str, body: dict[str, Any],
                     applicant: Applicant | None = None) -> tuple[dict[str, Any], bool]:
        """(application, created now?) — the same key and body always give the same application."""
        applicant = applicant or await self.sources.applicant(principal)
        made: list[dict[str, Any]] = []

        async def work(reserved: str, rerun: bool) -> dict[str, Any]:
            made.append(await self.create(principal, applicant, body, app_id="a" + reserved, rerun=rerun))
            return {"application_id": made[0]["_id"]}

        answer, created = await self.idempotency.run(f"{applicant.key}:{principal.subject}", idem_key, body, work)
        return (made[0], True) if created else (await self.store.get(answer["application_id"]), False)

    async def create(self, principal: Principal, applicant: Applicant, body: dict[str, Any],
                     parent: str | None = None, held: dict[str, Any] | None = None, app_id: str | None = None,
                     rerun: bool = False) -> dict[str, Any]:
        """A new application (``held``: the applicant's certificates if already read). On a
        ``rerun`` of an attempt that stopped half-way, the application it wrote is finished."""
        app_id = app_id or "a" + secrets.token_hex(12)
        if rerun:
            existing = await self.store.get(app_id)
            if existing is not None:
                return await self._finish(existing, self.matter(existing["matter"]), applicant, None, rerun=True)
        matter = self.matter(body["matter"])
        require_level(principal, matter.min_level)
        if not matter.allows(applicant.kind):
            raise PermissionDenied("该事项不面向" + ("企业" if applicant.kind == "enterprise" else "个人") + "办理",
                                   code="matter_target_mismatch")
        situation = self.situation(matter, body.get("situation"))
        form = body["form"]
        errors = schema_errors(matter.validator_for(situation and situation["id"]), form, "form")
        if errors:
            raise InvalidInput(f"申请表有 {len(errors)} 处需要修改", code="form_invalid", errors=errors)
        receiving, handling, forwarded = offices(matter, applicant, self.catalog.online_office)
        values, certs = await self.sources.gather(applicant, matter, held)
        materials = await self.check_materials(applicant, matter, body["materials"], certs,
                                               situation and situation["id"])
        now = now_ms()
        number = f"GZ{china_today():%Y%m%d}{await self.store.next_number('application'):06d}"
        state = "draft" if body.get("draft") else "submitted"
        via = applicant.via
        timeline = [{"state": state, "at": now, "actor": via or {"type": "person", "id": principal.subject},
                     "comment": submitted_by(via)}]
        instant = self._instant_check(matter, applicant, form, certs) if state == "submitted" else None
        if instant is not None and not instant["passed"]:
            failed = [r["name"] for r in instant["results"] if not r["passed"]]
            timeline.append({"state": "submitted", "event": "instant_approval_failed", "at": now,
                             "actor": SYSTEM.as_dict(), "comment": "未满足秒批条件，转人工审核：" + "；".join(failed)})
        doc = {
            "_id": app_id, "number": number, "matter": matter.code, "matter_name": matter.name,
            # 收受分离: the receiving office does 受理 and forwards; until then it is its application
            "department": receiving["department"] if forwarded else handling["department"],
            "department_name": receiving["department_name"] if forwarded else handling["department_name"],
            **({"receiving": receiving, "handling": handling, "forwarded": forwarded,
                "delivery": delivery(matter, body.get("delivery"), receiving)} if matter.jurisdiction else {}),
            "applicant_key": applicant.key,
            "applicant": {"kind": applicant.kind, "id": applicant.ident, "name": applicant.name,
                          "person_id": applicant.person_id},
            **({"situation": {"id": situation["id"], "name": situation["name"]}} if situation else {}),
            "form": form, "materials": materials, "state": state, "version": 1, "created_at": now,
            "submitted_at": now if state == "submitted" else None, "accepted_on": None, "paused_days": 0,
            "paused_since": None, "finished_on": None, "result": None, "supplement": None, "instant_approval": instant,
            "outbox_pending": True, "notified_upto": 0, "updated_at": now, "via": via, "timeline": timeline,
            **({"parent": parent} if parent else {}),
        }
        await self.store.insert(doc)
        return await self._finish(doc, matter, applicant, values)

    async def _finish(self, doc: dict[str, Any], matter: Matter, applicant: Applicant, values: dict[str, Any] | None,
                      rerun: bool = False) -> dict[str, Any]:
        """After the application is written: its outbox (audit, notifications) and, when every
        秒批 rule passed, the approval. Nothing here undoes the submission: what fails is left
        to the outbox sweep, or to the reviewer (an approval that could not be completed)."""
        await self.lifecycle.flush(doc, rerun=rerun)
        instant = doc.get("instant_approval") or {}
        if not instant.get("passed") or doc["state"] not in ("submitted", "in_review", "approved"):
            return doc
        try:
            if values is None:
                values, _ = await self.sources.gather(applicant, matter)
            return await self._approve_at_once(doc, matter, applicant, values)
        except Exception:  # noqa: BLE001 - the application stands; a reviewer can finish it
            log.warning("秒批 of %s could not be completed; left for review", doc["_id"], exc_info=True)
            return await self.store.get(doc["_id"]) or doc

    def _instant_check(self, matter: Matter, applicant: Applicant, form: dict[str, Any], certs: dict[str, Any]
                       ) -> dict[str, Any] | None:
        """秒批: the catalog's rules over the form and the applicant's verified facts (None: no rules)."""
        if not matter.instant_rules:
            return None
        facts = self.sources.rule_facts(applicant, form, certs, china_today())
        results = [{"name": r["name"], "passed": bool(evaluate(r["rule"], facts))} for r in matter.instant_rules]
        return {"passed": all(r["passed"] for r in results), "results": results, "at": now_ms()}

    async def _approve_at_once(self, app: dict[str, Any], matter: Matter, applicant: Applicant,
                               values: dict[str, Any]) -> dict[str, Any]:
        """Every rule passed: accepted, approved (the result certificate issued) and completed now
        by the system — resumed from where an earlier attempt stopped. (Had any rule failed, the
        application would wait in the queue with the failed rules for the reviewer.)"""
        if app["state"] == "submitted":
            app = await self.lifecycle.transition(app, "accept", app["version"], SYSTEM, "符合秒批条件，自动受理")
        if app["state"] == "in_review":
            result = await self.results.issue(app, matter, applicant, values)
            app = await self.lifecycle.transition(app, "approve", app["version"], SYSTEM,
                                                  "秒批：规则全部满足，自动批准", {"result": result})
        return await self.lifecycle.transition(app, "complete", app["version"], SYSTEM, "秒批办结")

    @staticmethod
    def situation(matter: Matter, chosen: str | None) -> dict[str, Any] | None:
        """The 情形 the applicant chose: required where the matter has situations, else none."""
        if not matter.situations:
            if chosen:
                raise InvalidInput("该事项不区分办理情形", code="situation_unknown",
                                   errors=[FieldError("situation", "该事项不区分办理情形，请不要选择")])
            return None
        found = matter.situation(chosen)
        if found is None:
            names = "、".join(s["name"] for s in matter.situations)
            raise InvalidInput("请先选择办理情形", code="situation_required" if not chosen else "situation_unknown",
                               errors=[FieldError("situation", f"请选择办理情形：{names}")])
        return found

    async def check_materials(self, applicant: Applicant, matter: Matter, given: list[dict[str, Any]],
                              certs: dict[str, Any], situation: str | None = None) -> list[dict[str, Any]]:
        """The materials as recorded on the application: each from the wallet (named, or 免证办
        automatically) or an upload of the applicant's; every problem named by material. Only the
        materials of the chosen 情形 are asked for (or accepted)."""
        asked = matter.materials_for(situation)
        by_id = {g["id"]: g for g in given}
        unknown = [g for g in by_id if not any(m["id"] == g for m in asked)]
        if unknown:
            raise InvalidInput("提交了该事项不需要的材料", code="material_unknown",
                               errors=[FieldError(f"materials.{u}", "该事项（所选情形）不需要这项材料") for u in unknown])
        uploads = await self.store.uploads_in(sorted({g["upload_id"] for g in given if g.get("upload_id")}))
        out, errors = [], []
        for m in asked:
            g = by_id.get(m["id"], {})
            entry = {"id": m["id"], "name": m["name"], "source": None}
            where = f"materials.{m['id']}"
            if g.get("certificate_id"):
                found = certs.get(m.get("certificate_type", ""))
                if "certificate_type" not in m:
                    errors.append(FieldError(where, "这项材料不能用电子证照提交"))
                elif found is None or found["certificate_id"] != g["certificate_id"]:
                    errors.append(FieldError(where, "该电子证照不在您的卡包中，或已失效"))
                else:
                    entry.update(source="certificate", certificate_id=found["certificate_id"])
            elif g.get("upload_id"):
                up = uploads.get(g["upload_id"])
                if up is None or up["owner"] != applicant.key:
                    errors.append(FieldError(where, "找不到您上传的这份文件"))
                elif up["content_type"] not in m.get("upload", {}).get("types", []) \
                        or up["size"] > m.get("upload", {}).get("max_bytes", 0):
                    errors.append(FieldError(where, "文件类型或大小不符合这项材料的要求"))
                else:
                    entry.update(source="upload", upload_id=up["_id"], content_type=up["content_type"],
                                 sha256=up["sha256"])
            elif "certificate_type" in m and certs.get(m["certificate_type"]):
                entry.update(source="certificate", certificate_id=certs[m["certificate_type"]]["certificate_id"],
                             auto=True)  # 免证办: the wallet holds it
            if entry["source"] is None and m["required"] and not any(e.field == where for e in errors):
                errors.append(FieldError(where, f"缺少必要材料：{m['name']}"))
            out.append(entry)
        if errors:
            code = "material_missing" if all("缺少" in e.message for e in errors) else "material_invalid"
            raise Unprocessable("申请材料不完整或不可用", code=code, errors=errors)
        return out

    # ------------------------------------------------------------------------------------------
    # the applicant's own applications
    # ------------------------------------------------------------------------------------------

    async def mine(self, principal: Principal) -> list[dict[str, Any]]:
        applicant = await self.sources.applicant(principal)
        return await self.lifecycle.views(await self.store.of_applicant(applicant.key))

    async def _own(self, principal: Principal, app_id: str) -> tuple[Applicant, dict[str, Any]]:
        applicant = await self.sources.applicant(principal)
        app = await self.store.get(app_id)
        if app is None or app["applicant_key"] != applicant.key:
            raise NotFound("未找到该申请", code="application_not_found")
        return applicant, app

    async def get_mine(self, principal: Principal, app_id: str) -> dict[str, Any]:
        _, app = await self._own(principal, app_id)
        return await self.lifecycle.present(app)

    async def applicant_action(self, principal: Principal, app_id: str, action: str, version: int,
                               comment: str = "", materials: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        applicant, app = await self._own(principal, app_id)
        extra: dict[str, Any] = {}
        if action == "resubmit":
            matter = self.matter(app["matter"])
            given = {m["id"]: {"id": m["id"], **({"certificate_id": m["certificate_id"]} if m.get("certificate_id")
                                                  else {"upload_id": m["upload_id"]} if m.get("upload_id") else {})}
                     for m in app["materials"]}
            given.update({m["id"]: m for m in materials or []})
            _, certs = await self.sources.gather(applicant, matter)
            extra["materials"] = await self.check_materials(applicant, matter, list(given.values()), certs,
                                                            (app.get("situation") or {}).get("id"))
        updated = await self.lifecycle.transition(app, action, version, Actor("person", principal.subject), comment,
                                                  extra)
        return await self.lifecycle.present(updated)

    # -- when an account closes (ports of identity's AccountClosure) ------------------------------

    async def open_obligations(self, person_id: str) -> list[dict[str, Any]]:
        """Applications of the person still in progress: to be withdrawn or finished first."""
        return [{"kind": "application", "title": f"办件“{a['matter_name']}”（{a['number']}）正在办理",
                 "detail": "请等待办结，或先撤回申请", "link": f"/applications/{a['_id']}"}
                for a in await self.store.unfinished_of_applicant(f"person:{person_id}", list(FINISHED))]

    async def forget_applicant(self, person_id: str, pseudonym: str) -> None:
        """The department's records stay; the applicant is shown by the pseudonym."""
        await self.store.rename_applicant(f"person:{person_id}", pseudonym)

    # -- uploads for other domains (a 12345 ticket's attachments) ---------------------------------

    async def own_uploads(self, principal: Principal, upload_ids: list[str]) -> list[dict[str, Any]]:
        """The caller's own uploads among ``upload_ids``; any other is 400 naming it."""
        if not upload_ids:
            return []
        applicant = await self.sources.applicant(principal)
        docs = await self.store.uploads_in(upload_ids)
        bad = [u for u in upload_ids if u not in docs or docs[u]["owner"] != applicant.key]
        if bad:
            raise InvalidInput("附件须是您本人上传的文件", code="attachment_not_yours",
                               errors=[FieldError("attachments", f"不是您上传的文件：{'、'.join(bad)}")])
        return [docs[u] for u in upload_ids]

    async def upload_bytes(self, upload_id: str) -> tuple[dict[str, Any], bytes]:
        """An upload's content, for a domain that has checked the reader may see it."""
        doc = await self.store.upload(upload_id)
        if doc is None:
            raise NotFound("未找到该文件", code="upload_not_found")
        return doc, await asyncio.to_thread(self._path(doc["sha256"]).read_bytes)
