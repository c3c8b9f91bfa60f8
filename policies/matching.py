"""Matching a holder against policies: the facts (read once per holder: identity's facade,
the enterprise's registration, the wallet's valid certificates) and, per policy,
``eligible`` | ``maybe`` (only the holder's own declarations are missing) | ``not_eligible``
(the rules that fail, by name). Pure functions: the bench runs them without storage."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from matters.applicant import Applicant
from matters.rules import evaluate, facts_of
from policies.catalog import Policy

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def holder_facts(applicant: Applicant, certs: dict[str, Any], today: date) -> dict[str, Any]:
    """What rules may look at for this holder (declared answers are added per request)."""
    facts: dict[str, Any] = {}
    p, e = applicant.person, applicant.enterprise
    if p is not None:
        facts["identity.level"] = p.level
        if p.verified:
            facts.update({"identity.id_number": p.id_number, "identity.gender": p.gender,
                          "identity.age": p.age(today)})
            if p.id_number and (p.id_type or "resident_id") == "resident_id":
                facts["identity.region"] = p.id_number[:6]
    if e is not None:
        facts.update({"enterprise.type": e.type, "enterprise.status": e.status, "enterprise.region": e.uscc[2:8],
                      "enterprise.established": e.established})
        try:
            facts["enterprise.age_days"] = (today - date.fromisoformat(e.established)).days
        except (TypeError, ValueError):
            pass
    for type_code, found in certs.items():
        facts[f"certificate.{type_code}"] = found is not None
        for f, v in (found or {}).get("fields", {}).items():
            facts[f"certificate.{type_code}.{f}"] = v
            if isinstance(v, str) and DATE.match(v):
                try:
                    facts[f"certificate.{type_code}.{f}.days_ago"] = (today - date.fromisoformat(v)).days
                except ValueError:
                    pass
    return facts


def with_form(facts: dict[str, Any], form: dict[str, Any] | None) -> dict[str, Any]:
    return {**facts, **{f"form.{k}": v for k, v in (form or {}).items()}} if form else facts


def match(policy: Policy, facts: dict[str, Any]) -> dict[str, Any]:
    """One policy against one holder's facts (declared answers as ``form.*``)."""
    failing: list[str] = []
    needs: list[str] = []
    for r in policy.rules:
        missing = [f[5:] for f in facts_of(r["rule"]) if f.startswith("form.") and facts.get(f) in (None, "")]
        if missing:
            needs += [m for m in missing if m not in needs]
            continue
        if not evaluate(r["rule"], facts):
            failing.append(r["name"])
    if failing:
        return {"status": "not_eligible", "failing": failing, "needs": []}
    if needs:
        return {"status": "maybe", "failing": [], "needs": needs}
    return {"status": "eligible", "failing": [], "needs": []}


def wanted_types(policies: list[Policy]) -> list[str]:
    return sorted(set().union(*(p.certificate_types for p in policies))) if policies else []
