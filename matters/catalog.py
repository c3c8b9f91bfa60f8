"""The matter catalog (实施清单): loaded from ``config/catalog/matters.json`` and validated
at start-up (forms are JSON Schemas; prefill sources and result mappings must name real
fields; certificate materials must name catalog types)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from card_wallet.catalog import Catalog
from matters.fees import check_charges
from matters.jurisdiction import check as check_jurisdiction
from matters.rules import RuleError, validate_rule
from server.config import ConfigError
from server.schema_errors import schema_validator

IDENTITY_SOURCES = {"identity.name", "identity.id_number", "identity.phone", "identity.gender", "identity.birth_date"}
ENTERPRISE_SOURCES = {"enterprise.name", "enterprise.uscc", "enterprise.legal_representative", "enterprise.address"}


@dataclass(frozen=True)
class Matter:
    code: str
    name: str
    department: str
    department_name: str
    target: str  # person / enterprise / both
    min_level: int
    raw: dict[str, Any]
    validator: Draft202012Validator = field(repr=False, compare=False, hash=False, default=None)  # type: ignore
    # 情形: per situation id, the form validator with that situation's fields (and without the
    # fields only other situations ask for)
    situation_validators: dict[str, Draft202012Validator] = field(repr=False, compare=False, hash=False,
                                                                  default_factory=dict)

    @property
    def materials(self) -> list[dict[str, Any]]:
        return self.raw["materials"]

    def material(self, material_id: str) -> dict[str, Any] | None:
        return next((m for m in self.materials if m["id"] == material_id), None)

    @property
    def situations(self) -> list[dict[str, Any]]:
        """情形 (首次申领 / 换领 / 补领 …): chosen before applying; each may add materials and fields."""
        return self.raw.get("situations", [])

    def situation(self, situation_id: str | None) -> dict[str, Any] | None:
        return next((s for s in self.situations if s["id"] == situation_id), None)

    def materials_for(self, situation_id: str | None) -> list[dict[str, Any]]:
        """The materials asked for in a situation (a material tagged with situations only in those)."""
        return [m for m in self.materials if "situations" not in m or situation_id in m["situations"]]

    def validator_for(self, situation_id: str | None) -> Draft202012Validator:
        return self.situation_validators.get(situation_id or "", self.validator)

    @property
    def promised_days(self) -> int:
        return self.raw["promised_limit_days"]

    @property
    def instant_rules(self) -> list[dict[str, Any]]:
        return self.raw.get("instant_approval", {}).get("rules", [])

    def allows(self, kind: str) -> bool:
        return self.target in (kind, "both")

    @property
    def jurisdiction(self) -> dict[str, Any] | None:
        """通办: where it may be applied for and who handles it (``matters.jurisdiction``)."""
        return self.raw.get("jurisdiction")

    @property
    def charges(self) -> dict[str, Any] | None:
        """收费: items in fen, when due, the collector and its waivers (``matters.fees``)."""
        return self.raw.get("charges")

    @property
    def tongban(self) -> str:
        return (self.jurisdiction or {}).get("tongban", "local")

    def searchable(self) -> str:
        return " ".join([self.code, self.name, self.department_name, *self.raw.get("conditions", []),
                         *(m["name"] for m in self.materials)])


class MatterCatalog:
    def __init__(self, matters: list[Matter], online_office: dict[str, str] | None = None):
        self.matters = {m.code: m for m in matters}
        # who receives online applications that another region handles (the city's 通办 desk)
        self.online_office = online_office or {"department": "gz-zwfw", "region": "440100",
                                               "department_name": "广州市政务服务和数据管理局（通办专窗）"}

    def get(self, code: str) -> Matter | None:
        return self.matters.get(code)

    def search(self, q: str = "", target: str | None = None, department: str | None = None,
               tongban: bool | None = None, cross_border: bool | None = None) -> list[Matter]:
        out = []
        for m in self.matters.values():
            if tongban is not None and (m.tongban != "local") != tongban:
                continue
            if cross_border is not None and bool(m.raw.get("cross_border")) != cross_border:
                continue
            if q and q not in m.searchable():
                continue
            if target and not m.allows(target):
                continue
            if department and department not in (m.department, m.department_name):
                continue
            out.append(m)
        return sorted(out, key=lambda m: m.code)


def _check_source(source: str, certificates: Catalog, form_fields: set[str], where: str) -> None:
    if source in IDENTITY_SOURCES or source in ENTERPRISE_SOURCES or source.startswith(("const:", "generated:")):
        return
    if source.startswith("form."):
        if source[5:] not in form_fields:
            raise ValueError(f"{where}: form field {source[5:]} does not exist")
        return
    if source.startswith("certificate:"):
        type_code, _, field_name = source[len("certificate:"):].partition(".")
        ctype = certificates.get(type_code)
        if ctype is None or field_name not in ctype.schema["properties"]:
            raise ValueError(f"{where}: {source} is not a certificate field")
        return
    raise ValueError(f"{where}: unknown source {source}")


def situation_validators(entry: dict[str, Any], fields: set[str]) -> dict[str, Draft202012Validator]:
    """One form validator per 情形: the base form, plus the situation's own fields as required,
    minus the fields that only other situations ask for."""
    situations = entry.get("situations", [])
    schema = entry["form"]["schema"]
    own = {s["id"]: set(s.get("fields", [])) for s in situations}
    if len(own) != len(situations) or any(not s.get("name") for s in situations):
        raise ValueError("each situation needs a unique id and a name")
    only_some = set().union(*own.values()) if own else set()
    if only_some - fields or only_some & set(schema.get("required", [])):
        raise ValueError("a situation's fields must be optional fields of the form")
    out = {}
    for sid, mine in own.items():
        properties = {k: v for k, v in schema["properties"].items() if k not in only_some - mine}
        out[sid] = schema_validator({**schema, "properties": properties,
                                     "required": [*schema.get("required", []), *sorted(mine)]})
    return out


def attach_translations(path: Path, matters: list[Matter]) -> None:
    """Optional translations of the catalog's texts (``matters.i18n.json`` beside ``path``):
    ``{code: {"zh-TW" | "en": {name, department_name, fees, legal_basis, conditions: [...],
    materials: {id: name}, situations: {id: {name, description}}, fields: {key: title},
    options: {value: label}}}}``, attached to each matter as ``raw["i18n"]`` (the guide carries
    it; the H5 falls back to the Chinese text, marked, where a translation is missing).
    Codes not in the catalog are ignored."""
    file = path.with_name("matters.i18n.json")
    if not file.exists():
        return
    try:
        texts = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError("matters", f"cannot read {file}: {e}") from None
    if not isinstance(texts, dict):
        raise ConfigError("matters", f"{file.name}: expected an object of matter codes")
    for m in matters:
        tr = texts.get(m.code)
        if isinstance(tr, dict):
            m.raw["i18n"] = {locale: t for locale, t in tr.items() if isinstance(t, dict)}


def load_matters(path: Path, certificates: Catalog) -> MatterCatalog:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        raw = doc["matters"]
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError("matters", f"cannot read {path}: {e}") from None
    out, seen = [], set()
    for entry in raw:
        code = entry.get("code", "?")
        try:
            if code in seen:
                raise ValueError("declared twice")
            seen.add(code)
            if entry["target"] not in ("person", "enterprise", "both") or entry["min_level"] not in (0, 1, 2, 3):
                raise ValueError("bad target or min_level")
            validator = schema_validator(entry["form"]["schema"])
            fields = set(entry["form"]["schema"]["properties"])
            situations = situation_validators(entry, fields)
            if "jurisdiction" in entry:
                check_jurisdiction(entry["jurisdiction"])
            ids = set()
            for m in entry["materials"]:
                if m["id"] in ids:
                    raise ValueError(f"material {m['id']} declared twice")
                ids.add(m["id"])
                if set(m.get("situations", [])) - set(situations):
                    raise ValueError(f"material {m['id']}: unknown situation")
                if "certificate_type" in m and certificates.get(m["certificate_type"]) is None:
                    raise ValueError(f"material {m['id']}: unknown certificate type {m['certificate_type']}")
            for form_field, source in entry.get("prefill", {}).items():
                if form_field not in fields:
                    raise ValueError(f"prefill: form field {form_field} does not exist")
                _check_source(source, certificates, fields, f"prefill.{form_field}")
            result = entry.get("result")
            if result:
                ctype = certificates.get(result["certificate_type"])
                if ctype is None:
                    raise ValueError(f"result: unknown certificate type {result['certificate_type']}")
                for f, source in result["fields"].items():
                    if f not in ctype.schema["properties"]:
                        raise ValueError(f"result: {f} is not a field of {ctype.name}")
                    _check_source(source, certificates, fields, f"result.{f}")
                result["type_name"] = ctype.name  # what the applicant is told lands in the wallet
            for i, r in enumerate(entry.get("instant_approval", {}).get("rules", [])):
                try:
                    if not isinstance(r.get("name"), str) or "rule" not in r:
                        raise RuleError("each rule needs a name and a rule")
                    validate_rule(r["rule"], fields, certificates)
                except RuleError as e:
                    raise ValueError(f"instant_approval rule {i + 1} ({r.get('name', '?')}): {e}") from None
            if "charges" in entry:
                check_charges(entry["charges"], fields, certificates, entry)
            if int(entry["promised_limit_days"]) > int(entry["legal_limit_days"]):
                raise ValueError("the promised time limit exceeds the legal one")
            entry.setdefault("complaint_phone", "12345")  # 监督投诉: the 12345 hotline unless the catalog says
            out.append(Matter(code, entry["name"], entry["department"], entry["department_name"], entry["target"],
                              entry["min_level"], entry, validator, situations))
        except (KeyError, TypeError, ValueError, SchemaError) as e:
            raise ConfigError("matters", f"matter {code} in {path.name}: {e}") from None
    attach_translations(path, out)
    return MatterCatalog(out, doc.get("online_office"))
