"""The policy catalog (``config/catalog/policies.json``), validated when it loads.

Each policy's eligibility rules are written in the 秒批 rule language (``matters.rules``:
the same operators and evaluation) over the facts a policy may name:

* ``identity.level``, ``identity.age``, ``identity.gender``, ``identity.id_number``,
  ``identity.region`` (the 6-digit area code of a resident ID number) — persons;
* ``enterprise.type``, ``enterprise.status``, ``enterprise.age_days`` (days since it was
  established), ``enterprise.region`` (the area code in its USCC), ``enterprise.established``;
* ``certificate.<type>`` (a valid one is in the wallet), ``certificate.<type>.<field>``, and
  ``certificate.<type>.<date field>.days_ago``;
* ``form.<name>`` for each fact the holder declares (the policy's ``declared`` list).

An unknown operator or fact stops loading with a message naming the policy and the rule.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from card_wallet.catalog import Catalog
from matters.rules import RuleError, check_shape, facts_of

PERSON_FACTS = {"identity.level", "identity.age", "identity.gender", "identity.id_number", "identity.region"}
ENTERPRISE_FACTS = {"enterprise.type", "enterprise.status", "enterprise.age_days", "enterprise.region",
                    "enterprise.established"}
MODES = {"auto": "免申即享", "confirm": "确认即享", "apply": "依申请办理"}
PERIODS = {"once": "一次性", "year": "每年度", "month": "每月"}
DECLARED_TYPES = {"boolean", "integer", "string"}


class PolicyCatalogError(ValueError):
    pass


@dataclass(frozen=True)
class Policy:
    code: str
    title: str
    kind: str
    department: str
    department_name: str
    target: str  # person / enterprise
    valid_from: date
    valid_until: date
    period: str
    mode: str
    benefit: dict[str, Any]
    rules: list[dict[str, Any]]
    declared: list[dict[str, Any]]
    publicity: bool
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)

    def open_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_until

    def period_of(self, day: date) -> str:
        return {"once": "once", "year": f"{day.year}", "month": f"{day:%Y-%m}"}[self.period]

    @property
    def certificate_types(self) -> set[str]:
        return {f.split(".")[1] for r in self.rules for f in facts_of(r["rule"]) if f.startswith("certificate.")}

    def amount_fen(self, form: dict[str, Any]) -> int:
        b = self.benefit
        yuan = b.get("amount_yuan", 0)
        if b["kind"] == "per_unit":
            units = form.get(b["unit"].split(".", 1)[1]) or 0
            yuan = min(yuan * max(int(units), 0), b.get("cap_yuan", yuan * max(int(units), 0)))
        return int(round(yuan * 100))


@dataclass(frozen=True)
class PolicyCatalog:
    policies: dict[str, Policy]

    def get(self, code: str) -> Policy | None:
        return self.policies.get(code)

    def of_target(self, target: str) -> list[Policy]:
        return [p for p in self.policies.values() if p.target == target]

    def of_department(self, department: str) -> list[Policy]:
        return [p for p in self.policies.values() if p.department == department]


def _check_rule(rule: Any, target: str, declared: set[str], certificates: Catalog) -> None:
    try:
        check_shape(rule)  # the same rule language as 秒批 (matters.rules)
    except RuleError as e:
        raise PolicyCatalogError(str(e)) from None
    known = PERSON_FACTS if target == "person" else ENTERPRISE_FACTS
    for fact in facts_of(rule):
        if fact in known or (fact.startswith("form.") and fact[5:] in declared):
            continue
        if fact.startswith("certificate."):
            type_code, _, rest = fact[len("certificate."):].partition(".")
            name, _, suffix = rest.partition(".")
            ctype = certificates.get(type_code)
            props = ctype.schema["properties"] if ctype is not None else {}
            if ctype is not None and ctype.holder_kind == target and (
                    not rest or (name in props and suffix in ("", "days_ago"))):
                continue
        raise PolicyCatalogError(f"unknown fact {fact!r}")


def parse_policy(raw: dict[str, Any], departments: dict[str, str], certificates: Catalog) -> Policy:
    code = raw.get("code", "?")
    try:
        if raw["target"] not in ("person", "enterprise"):
            raise PolicyCatalogError(f"target must be person or enterprise, not {raw['target']!r}")
        if raw["mode"] not in MODES or raw["period"] not in PERIODS:
            raise PolicyCatalogError(f"mode must be one of {sorted(MODES)} and period one of {sorted(PERIODS)}")
        if raw["department"] not in departments:
            raise PolicyCatalogError(f"unknown department {raw['department']!r}")
        declared = raw.get("declared", [])
        for d in declared:
            if d.get("type") not in DECLARED_TYPES or not d.get("name") or not d.get("label"):
                raise PolicyCatalogError(f"declared fact {d!r} needs name, label and a type of {sorted(DECLARED_TYPES)}")
        names = {d["name"] for d in declared}
        benefit = raw["benefit"]
        if benefit.get("kind") == "per_unit" and benefit.get("unit", "")[5:] not in names:
            raise PolicyCatalogError(f"benefit unit {benefit.get('unit')!r} is not a declared fact")
        if raw["mode"] == "auto" and declared:
            raise PolicyCatalogError("免申即享 (auto) policies cannot ask the holder to declare facts")
        if not raw["rules"]:
            raise PolicyCatalogError("a policy needs at least one rule")
        for r in raw["rules"]:
            try:
                _check_rule(r["rule"], raw["target"], names, certificates)
            except PolicyCatalogError as e:
                raise PolicyCatalogError(f"rule {r.get('name')!r}: {e}") from None
        valid_from, valid_until = date.fromisoformat(raw["valid_from"]), date.fromisoformat(raw["valid_until"])
        if valid_until < valid_from:
            raise PolicyCatalogError("valid_until is before valid_from")
        return Policy(code, raw["title"], raw.get("kind", raw["title"]), raw["department"],
                      departments[raw["department"]], raw["target"], valid_from, valid_until, raw["period"],
                      raw["mode"], benefit, raw["rules"], declared, bool(raw.get("publicity")), raw)
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, PolicyCatalogError):
            raise PolicyCatalogError(f"policy {code}: {e}") from None
        raise PolicyCatalogError(f"policy {code}: invalid or missing {e}") from None


def load_policies(path: str | Path, certificates: Catalog) -> PolicyCatalog:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    departments = data.get("departments", {})
    policies: dict[str, Policy] = {}
    for raw in data["items"]:
        p = parse_policy(raw, departments, certificates)
        if p.code in policies:
            raise PolicyCatalogError(f"policy {p.code}: code used twice")
        policies[p.code] = p
    return PolicyCatalog(policies)
