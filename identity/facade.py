"""What identity publishes to other domains: the verified facts of a person or an
enterprise, read once and decrypted here, so that no other domain reads identity's
documents or holds its keys.

Other domains (wallet, matters, notifications, …) receive a :class:`Directory` from the
composition root and ask it for :class:`PersonFacts` / :class:`EnterpriseFacts`; one
request reads a person once and passes the facts along.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from identity.accounts.storage import PersonStore
from identity.documents import type_of
from identity.enterprises.storage import EnterpriseStore
from server.pii import PiiCipher


@dataclass(frozen=True)
class PersonFacts:
    id: str
    status: str
    level: int
    phone: str | None
    name: str | None = None  # the verified name (L2+)
    id_number: str | None = None
    id_index: str | None = None  # blind index of the ID number: whose certificates are whose
    document: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    face_verified: bool = False
    id_type: str | None = None  # resident_id, hk_macao_permit, taiwan_permit, passport… (identity.documents)
    nationality: str | None = None  # ISO 3166 alpha-3 of the nationality or region, where kept

    @property
    def verified(self) -> bool:
        return self.id_number is not None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def age(self, on: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


@dataclass(frozen=True)
class EnterpriseFacts:
    id: str
    uscc: str
    uscc_index: str
    name: str
    type: str
    legal_representative: str
    address: str
    established: str
    status: str
    admin_person_id: str


@dataclass(frozen=True)
class Contact:
    """How to reach a person: the WeChat openid in our mini-program, else the phone; and the
    openid under our official account (paying in WeChat's browser), once they authorised it."""

    openid: str | None
    phone: str | None
    oa_openid: str | None = None
    oa_appid: str = ""


class Directory:
    def __init__(self, persons: PersonStore, enterprises: EnterpriseStore, pii: PiiCipher, wechat_appid: str,
                 oa_appid: str = ""):
        self._persons = persons
        self._enterprises = enterprises
        self._pii = pii
        self._appid = wechat_appid
        self._oa_appid = oa_appid

    def person_facts(self, doc: dict[str, Any]) -> PersonFacts:
        """Facts of a person document identity has already read."""
        phone = self._pii.decrypt(doc["phone_enc"], "phone") if doc.get("phone_enc") else None
        rn = doc.get("realname")
        if not rn:
            return PersonFacts(doc["_id"], doc.get("status", "active"), doc.get("level", 0), phone)
        return PersonFacts(
            doc["_id"], doc.get("status", "active"), doc.get("level", 0), phone, name=rn["name"],
            id_number=self._pii.decrypt(rn["id_enc"], "id_number"), id_index=rn["id_bidx"],
            document=rn.get("document"), gender=rn.get("gender"),
            birth_date=date.fromisoformat(rn["birth_date"]) if rn.get("birth_date") else None,
            face_verified=doc.get("face_verified_at") is not None,
            id_type=type_of(rn), nationality=rn.get("nationality"),
        )

    async def person(self, person_id: str) -> PersonFacts | None:
        doc = await self._persons.get(person_id)
        return self.person_facts(doc) if doc else None

    async def persons_born_on(self, day: date) -> list[str]:
        """Ids of the verified persons born on ``day`` (for birthdays that cross an age threshold)."""
        return await self._persons.born_on(day.isoformat())

    async def person_by_phone(self, phone: str) -> PersonFacts | None:
        """The account that logs in with this phone number (as the person registered it), if any."""
        owner = await self._persons.bound_to("phone", self._pii.blind_index(phone, "phone"))
        return await self.person(owner) if owner else None

    async def person_with_id_index(self, id_index: str) -> str | None:
        """The account verified with this ID number (its blind index), if any."""
        return await self._persons.bound_to("id", id_index)

    def id_index(self, id_number: str) -> str:
        return self._pii.blind_index(id_number, "id_number")

    def uscc_index(self, uscc: str) -> str:
        return self._pii.blind_index(uscc, "uscc")

    def enterprise_facts(self, doc: dict[str, Any]) -> EnterpriseFacts:
        return EnterpriseFacts(doc["_id"], doc["uscc"], self.uscc_index(doc["uscc"]), doc["name"], doc.get("type", ""),
                               doc.get("legal_rep_name", ""), doc.get("address", ""), doc.get("established", ""),
                               doc.get("status", ""), doc["admin_person_id"])

    async def enterprise(self, enterprise_id: str) -> EnterpriseFacts | None:
        doc = await self._enterprises.get(enterprise_id)
        return self.enterprise_facts(doc) if doc else None

    async def enterprise_by_uscc(self, uscc: str) -> EnterpriseFacts | None:
        doc = await self._enterprises.by_uscc(uscc)
        return self.enterprise_facts(doc) if doc else None

    async def contact(self, person_id: str) -> Contact:
        doc = await self._persons.get(person_id) or {}
        phone = self._pii.decrypt(doc["phone_enc"], "phone") if doc.get("phone_enc") else None
        bindings = [b for b in await self._persons.bindings_of("wechat", person_id)
                    if b["_id"].startswith(self._appid + ":")]
        payer = doc.get("oa_payer") or {}
        oa_openid = payer.get("openid") if self._oa_appid and payer.get("appid") == self._oa_appid else None
        return Contact(bindings[0]["_id"].split(":", 1)[1] if bindings else None, phone, oa_openid, self._oa_appid)
