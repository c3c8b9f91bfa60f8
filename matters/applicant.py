"""Who applies, and what the platform already knows about them.

An :class:`Applicant` carries the verified facts of the person (or enterprise) it stands
for, read once per request through identity's facade; :class:`Sources` turns them and the
applicant's usable wallet certificates (read once, verified in one batch) into the values
that fill forms (prefill), prove materials (免证办), feed 秒批 rules and fill result
certificates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from card_wallet.holding.service import HoldingService
from identity.facade import Directory, EnterpriseFacts, PersonFacts
from matters.catalog import Matter
from matters.rules import facts_of
from server.errors import NotFound
from server.principal import Principal, holder_chain, require_scope


@dataclass(frozen=True)
class Applicant:
    kind: str  # person / enterprise
    ident: str
    name: str
    person_id: str  # who acts (the person, or the agent for an enterprise)
    person: PersonFacts | None = None  # the applicant's facts, when the applicant is a person
    enterprise: EnterpriseFacts | None = None
    # Which wallet certificate types may be used (None: the whole wallet). A kiosk applying
    # for the holder may use only the certificates the holder consented to.
    certificates: frozenset[str] | None = None
    via: dict[str, str] | None = None  # the kiosk or window that submitted for the applicant

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ident}"

    @property
    def chain(self) -> str:
        return holder_chain(self.key)

    @property
    def holder_index(self) -> str | None:
        """The blind index the applicant's certificates are held under."""
        if self.person is not None:
            return self.person.id_index
        return self.enterprise.uscc_index if self.enterprise is not None else None


def wanted_types(matter: Matter) -> set[str]:
    """Certificate types a matter may use: materials, prefill sources and 秒批 rules."""
    wanted = {m["certificate_type"] for m in matter.materials if "certificate_type" in m}
    wanted |= {s.split(":", 1)[1].split(".")[0] for s in matter.raw.get("prefill", {}).values()
               if s.startswith("certificate:")}
    wanted |= {s.split(":", 1)[1].split(".")[0] for s in matter.raw.get("result", {}).get("fields", {}).values()
               if s.startswith("certificate:")}
    wanted |= {f.split(".")[1] for r in matter.instant_rules for f in facts_of(r["rule"]) if f.startswith("certificate.")}
    wanted |= {f.split(".")[1] for w in (matter.charges or {}).get("waivers", []) for f in facts_of(w["rule"])
               if f.startswith("certificate.")}
    return wanted


class Sources:
    def __init__(self, directory: Directory, wallet: HoldingService):
        self.directory = directory
        self.wallet = wallet

    async def applicant(self, principal: Principal) -> Applicant:
        """The caller as applicant: the person, or the enterprise it acts for (needs ``matters``)."""
        if principal.acting is not None:
            acting = require_scope(principal, "matters")
            e = await self.directory.enterprise(acting.enterprise_id)
            if e is None:
                raise NotFound("未找到该企业", code="enterprise_not_found")
            return Applicant("enterprise", e.id, e.name, principal.subject, enterprise=e)
        if principal.proxy is not None:  # 亲友代办: the person's own application, filed by the proxy
            p = principal.proxy
            return await self.person_applicant(principal.subject, via={
                "type": "proxy", "id": p.proxy_id, "name": p.proxy_name,
                "kind": "监护人" if p.kind == "guardian" else "亲友"})
        return await self.person_applicant(principal.subject)

    async def person_applicant(self, person_id: str, certificates: frozenset[str] | None = None,
                               via: dict[str, str] | None = None) -> Applicant:
        person = await self.directory.person(person_id)
        return Applicant("person", person_id, (person.name if person else None) or "", person_id, person=person,
                         certificates=certificates, via=via)

    async def of_application(self, app: dict[str, Any]) -> Applicant:
        """The applicant of an existing application (e.g. to issue its result)."""
        return await self.of_key(app["applicant_key"], app["applicant"]["name"], app["applicant"]["person_id"])

    async def of_key(self, applicant_key: str, name: str, person_id: str) -> Applicant:
        """An applicant by its key (``person:<id>`` / ``enterprise:<id>``) and who acts for it."""
        kind, ident = applicant_key.split(":", 1)
        if kind == "person":
            return await self.person_applicant(ident)
        e = await self.directory.enterprise(ident)
        return Applicant("enterprise", ident, name, person_id, enterprise=e)

    async def certificates(self, applicant: Applicant, matters: list[Matter]) -> dict[str, Any]:
        """The applicant's usable, valid wallet certificates for the types these matters may use
        (type -> certificate or None) — one wallet read for all of them."""
        wanted = set().union(*(wanted_types(m) for m in matters))
        usable = wanted if applicant.certificates is None else wanted & applicant.certificates
        certs: dict[str, Any] = dict.fromkeys(wanted)
        if applicant.holder_index and usable:
            certs.update(await self.wallet.satisfies(applicant.kind, applicant.holder_index, sorted(usable)))
        return certs

    async def gather(self, applicant: Applicant, matter: Matter, held: dict[str, Any] | None = None
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(values by source name, usable wallet certificates by type) — one wallet read, none
        if ``held`` (from :meth:`certificates`) is given."""
        values: dict[str, Any] = {}
        p, e = applicant.person, applicant.enterprise
        if p is not None:
            if p.verified:
                values.update({"identity.name": p.name, "identity.id_number": p.id_number,
                               "identity.gender": p.gender,
                               "identity.birth_date": p.birth_date.isoformat() if p.birth_date else None})
            if p.phone:
                values["identity.phone"] = p.phone
        if e is not None:
            values.update({"enterprise.name": e.name, "enterprise.uscc": e.uscc,
                           "enterprise.legal_representative": e.legal_representative, "enterprise.address": e.address})
        if held is None:
            held = await self.certificates(applicant, [matter])
        certs = {t: held.get(t) for t in wanted_types(matter)}
        for type_code, found in certs.items():
            for f, v in (found or {}).get("fields", {}).items():
                values[f"certificate:{type_code}.{f}"] = v
        return values, certs

    @staticmethod
    def prefilled(matter: Matter, values: dict[str, Any]) -> dict[str, Any]:
        return {f: values[src] for f, src in matter.raw.get("prefill", {}).items() if values.get(src) is not None}

    @staticmethod
    def rule_facts(applicant: Applicant, form: dict[str, Any], certs: dict[str, Any], today: date) -> dict[str, Any]:
        """What 秒批 rules may look at: the form, the applicant's verified identity, certificates."""
        facts: dict[str, Any] = {f"form.{k}": v for k, v in form.items()}
        p = applicant.person
        facts["identity.level"] = p.level if p else 0
        if p is not None and p.verified:
            facts.update({"identity.name": p.name, "identity.id_number": p.id_number, "identity.gender": p.gender,
                          "identity.age": p.age(today)})
        for type_code, found in certs.items():
            facts[f"certificate.{type_code}"] = found is not None
            for f, v in (found or {}).get("fields", {}).items():
                facts[f"certificate.{type_code}.{f}"] = v
        return facts
