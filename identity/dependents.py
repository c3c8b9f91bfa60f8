"""Persons without a login of their own: a minor whose guardian acts for them (亲友代办). The
guardian's proof (the child's 出生医学证明 in the guardian's wallet) is checked by the proxies
domain; identity keeps the child's verified identity like any real-name record (encrypted,
blind-indexed), so certificates issued to the child land in the child's wallet."""
from __future__ import annotations

import secrets

from identity.accounts.storage import PersonStore
from identity.idnumber import parse_id_number
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import Conflict
from server.pii import PiiCipher
from server.principal import person_chain


class Dependents:
    def __init__(self, persons: PersonStore, pii: PiiCipher, audit: AuditTrail):
        self.persons = persons
        self.pii = pii
        self.audit = audit

    async def ensure(self, name: str, id_number: str, guardian_id: str) -> str:
        """The person with this ID number (created, verified by the guardian, if none has it yet).
        ``id_number`` must already be valid (``parse_id_number``)."""
        parsed = parse_id_number(id_number)
        key = self.pii.blind_index(parsed.value, "id_number")
        owner = await self.persons.bound_to("id", key)
        if owner is not None:
            doc = await self.persons.get(owner)
            if doc is None or (doc.get("realname") or {}).get("name") != name:
                raise Conflict("该身份号码已登记的姓名与填写的不一致", code="child_name_mismatch")
            return owner
        person_id = "p" + secrets.token_hex(12)
        if await self.persons.claim("id", key, person_id, now_ms()) != person_id:
            return await self.ensure(name, id_number, guardian_id)  # someone registered it meanwhile
        now = now_ms()
        await self.persons.insert({
            "_id": person_id, "kind": "dependent", "status": "active", "level": 2, "nickname": None,
            "elder_mode": False, "phone_enc": None, "phone_bidx": None, "wechat_bound": False,
            "realname": {"name": name, "id_enc": self.pii.encrypt(parsed.value, "id_number"), "id_bidx": key,
                         "document": parsed.document, "gender": parsed.gender,
                         "birth_date": parsed.birth_date.isoformat(), "verified_at": now, "verified_by": guardian_id},
            "face_verified_at": None, "created_at": now, "updated_at": now})
        await self.audit.record(person_chain(person_id), Actor("person", guardian_id), "account.created",
                                details={"via": "guardian", "id_number": parsed.masked})
        return person_id
