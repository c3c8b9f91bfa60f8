"""一件事一次办: several matters, one merged form, one (idempotent) submission.

The merged form keeps one field per key when every matter using that key means the same
thing (same title and type); otherwise each keeps its own field as ``<matter>:<key>``.
Materials backed by the same certificate type are asked for once. Submission validates
every child first (errors name the matter and the field or material), then creates a
parent and one child application per matter, each in its own department's queue. The
parent's progress is read from its children: completed when all are, and a denied child
shows on the parent.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matters.applying.service import ApplyingService
from matters.bundles.storage import BundleStore
from matters.catalog import Matter, MatterCatalog
from matters.lifecycle import STATE_NAMES, Lifecycle
from matters.storage import ApplicationStore
from server.clock import now_ms
from server.config import ConfigError
from server.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unprocessable,
)
from server.idempotency import Idempotency
from server.principal import Principal
from server.schema_errors import schema_errors, schema_validator


@dataclass(frozen=True)
class Bundle:
    code: str
    name: str
    target: str
    description: str
    matters: list[Matter]


def load_bundles(path: Path, matters: MatterCatalog) -> dict[str, Bundle]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))["bundles"]
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError("bundles", f"cannot read {path}: {e}") from None
    out = {}
    for b in raw:
        ms = [matters.get(c) for c in b.get("matters", [])]
        if len(ms) < 2 or any(m is None for m in ms):
            raise ConfigError("bundles", f"bundle {b.get('code')}: needs two or more known matters")
        if any(not m.allows(b["target"]) for m in ms):
            raise ConfigError("bundles", f"bundle {b['code']}: a matter does not serve {b['target']}")
        if any(m.situations for m in ms):  # one merged form: no room for a 情形 chosen per matter
            raise ConfigError("bundles", f"bundle {b['code']}: a matter with situations (情形) cannot be bundled")
        out[b["code"]] = Bundle(b["code"], b["name"], b["target"], b.get("description", ""), ms)
    return out


def _signature(spec: dict[str, Any]) -> tuple[str, str]:
    return spec.get("title", ""), spec.get("type", "")


def merged_form(bundle: Bundle) -> dict[str, Any]:
    """The merged schema, where each merged field comes from, and the reduction in fields."""
    users: dict[str, list[Matter]] = {}
    for m in bundle.matters:
        for key in m.raw["form"]["schema"]["properties"]:
            users.setdefault(key, []).append(m)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    sources: dict[str, list[tuple[str, str]]] = {}  # merged key -> [(matter, key)]
    for key, ms in users.items():
        specs = [m.raw["form"]["schema"]["properties"][key] for m in ms]
        same = len({_signature(s) for s in specs}) == 1
        for m, spec in zip(ms, specs):
            merged_key = key if same else f"{m.code}:{key}"
            properties.setdefault(merged_key, spec)
            sources.setdefault(merged_key, []).append((m.code, key))
            if key in m.raw["form"]["schema"].get("required", []):
                required.add(merged_key)
    separate = sum(len(m.raw["form"]["schema"]["properties"]) for m in bundle.matters)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": properties,
              "required": sorted(required), "additionalProperties": False}
    return {"schema": schema, "sources": sources, "fields_separately": separate, "fields_merged": len(properties),
            "reduction": round(1 - len(properties) / separate, 3) if separate else 0.0}


def merged_materials(bundle: Bundle) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    by_cert: dict[str, dict[str, Any]] = {}
    for m in bundle.matters:
        for mat in m.materials:
            if "certificate_type" in mat and mat["certificate_type"] in by_cert:
                entry = by_cert[mat["certificate_type"]]
                entry["used_by"].append([m.code, mat["id"]])
                entry["required"] = entry["required"] or mat["required"]
                continue
            mid = mat["certificate_type"] if "certificate_type" in mat else f"{m.code}:{mat['id']}"
            entry = {"id": mid, "name": mat["name"], "required": mat["required"],
                     "certificate_type": mat.get("certificate_type"), "upload": mat.get("upload"),
                     "used_by": [[m.code, mat["id"]]]}
            if "certificate_type" in mat:
                by_cert[mat["certificate_type"]] = entry
            out.append(entry)
    return out


class BundleService:
    def __init__(self, bundles: dict[str, Bundle], store: BundleStore, applications: ApplicationStore,
                 applying: ApplyingService, lifecycle: Lifecycle, idempotency: Idempotency):
        self.bundles = bundles
        self.store = store
        self.applications = applications
        self.applying = applying
        self.lifecycle = lifecycle
        self.idempotency = idempotency

    def bundle(self, code: str) -> Bundle:
        b = self.bundles.get(code)
        if b is None:
            raise NotFound("未找到该“一件事”", code="bundle_not_found")
        return b

    def describe(self, code: str) -> dict[str, Any]:
        b = self.bundle(code)
        form = merged_form(b)
        return {"code": b.code, "name": b.name, "target": b.target, "description": b.description,
                "matters": [{"code": m.code, "name": m.name, "department_name": m.department_name,
                             "promised_limit_days": m.promised_days} for m in b.matters],
                "form": form["schema"], "fields_separately": form["fields_separately"],
                "fields_merged": form["fields_merged"], "field_reduction": form["reduction"],
                "materials": merged_materials(b)}

    async def submit(self, principal: Principal, idem_key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        b = self.bundle(body["bundle"])
        applicant = await self.applying.sources.applicant(principal)
        if applicant.kind != b.target:
            raise PermissionDenied("该“一件事”不面向" + ("企业" if applicant.kind == "enterprise" else "个人") + "办理",
                                   code="matter_target_mismatch")
        made: list[dict[str, Any]] = []

        async def work(reserved: str, rerun: bool) -> dict[str, Any]:
            made.append(await self._create(principal, applicant, b, body, reserved, rerun))
            return {"application_id": made[0]["_id"]}

        answer, created = await self.idempotency.run(f"{applicant.key}:{principal.subject}:bundle", idem_key, body,
                                                     work)
        return (made[0], True) if created else (await self.store.get(answer["application_id"]), False)

    async def _create(self, principal: Principal, applicant: Any, b: Bundle, body: dict[str, Any], reserved: str,
                      rerun: bool) -> dict[str, Any]:
        """The parent and its children, with ids derived from the reservation, so finishing an
        attempt that stopped half-way adds nothing twice."""
        parent_id = "a" + reserved
        if rerun and (done := await self.store.get(parent_id)) is not None:
            return done
        form = merged_form(b)
        errors = schema_errors(schema_validator(form["schema"]), body["form"], "form")
        if errors:
            raise InvalidInput(f"合并申请表有 {len(errors)} 处需要修改", code="form_invalid", errors=errors)
        given = {g["id"]: g for g in body["materials"]}
        materials = merged_materials(b)
        children_bodies = []
        problems: list[FieldError] = []
        held = await self.applying.sources.certificates(applicant, b.matters)
        for m in b.matters:
            child_form = {key: body["form"][mk] for mk, uses in form["sources"].items() for code, key in uses
                          if code == m.code and mk in body["form"]}
            child_materials = []
            for entry in materials:
                for code, mid in entry["used_by"]:
                    if code == m.code and entry["id"] in given:
                        g = given[entry["id"]]
                        child_materials.append({"id": mid, **{k: g[k] for k in ("certificate_id", "upload_id")
                                                              if g.get(k)}})
            try:
                _, certs = await self.applying.sources.gather(applicant, m, held)
                await self.applying.check_materials(applicant, m, child_materials, certs)
            except Unprocessable as e:
                problems += [FieldError(f"{m.code}.{err.field}", f"{m.name}：{err.message}") for err in e.errors]
            children_bodies.append({"matter": m.code, "form": child_form, "materials": child_materials})
        if problems:
            raise Unprocessable("部分事项的材料不完整或不可用", code="material_missing", errors=problems)
        now = now_ms()
        parent = {"_id": parent_id, "kind": "bundle", "bundle": b.code, "bundle_name": b.name,
                  "applicant_key": applicant.key, "number": f"YJS{now}", "children": [], "created_at": now,
                  "state": "submitted", "version": 1}
        for child_body in children_bodies:
            child_id = "a" + hashlib.sha256(f"{reserved}:{child_body['matter']}".encode()).hexdigest()[:24]
            child = await self.applying.create(principal, applicant, child_body, parent=parent_id, held=held,
                                               app_id=child_id, rerun=rerun)
            parent["children"].append(child["_id"])
        await self.store.insert(parent)
        return parent

    async def view(self, principal: Principal, parent_id: str) -> dict[str, Any]:
        applicant = await self.applying.sources.applicant(principal)
        parent = await self.store.get(parent_id)
        if parent is None or parent["applicant_key"] != applicant.key:
            raise NotFound("未找到该“一件事”申请", code="application_not_found")
        return await self.progress_of(parent)

    async def progress_of(self, parent: dict[str, Any]) -> dict[str, Any]:
        return self.progress(parent, await self.applications.many(parent["children"]))

    def progress(self, parent: dict[str, Any], apps: list[dict[str, Any]]) -> dict[str, Any]:
        children = [self.lifecycle.view(a) for a in apps]
        states = [c["state"] for c in children]
        if all(s == "completed" for s in states):
            state = "completed"
        elif any(s in ("denied", "not_accepted") for s in states):
            state = "partially_denied"
        elif any(s == "supplement_requested" for s in states):
            state = "supplement_requested"
        else:
            state = "in_progress"
        done = sum(s in ("completed", "approved") for s in states)
        return {"id": parent["_id"], "number": parent["number"], "bundle": parent["bundle"],
                "bundle_name": parent["bundle_name"], "state": state,
                "progress": {"done": done, "total": len(children)},
                "children": [{"id": c["id"], "number": c["number"], "matter": c["matter"],
                              "matter_name": c["matter_name"], "department_name": c["department_name"],
                              "state": c["state"], "state_name": STATE_NAMES.get(c["state"], c["state"]),
                              "deadline": c["deadline"], "version": c["version"]} for c in children]}
