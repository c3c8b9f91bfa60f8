"""Who acted, in words the person reading an audit trail understands: "本人" for the reader,
a masked name for anyone else (another agent of the enterprise, a clerk with their
department), the kiosk's name for a kiosk. Names are looked up when the trail is read, once
per actor on the page, and never shown in full."""
from __future__ import annotations

from typing import Any

from identity.accounts.storage import PersonStore
from identity.devices.storage import DeviceStore
from identity.phones import mask_any_phone
from identity.staff.storage import StaffStore
from server.audit import ActionNames
from server.masking import mask_name
from server.pii import PiiCipher

STAFF_PREFIX = "staff:"


class ActorNames:
    def __init__(self, persons: PersonStore, staff: StaffStore, devices: DeviceStore, pii: PiiCipher,
                 actions: ActionNames):
        self._persons = persons
        self._actions = actions
        self._staff = staff
        self._devices = devices
        self._pii = pii

    async def _person(self, person_id: str) -> str:
        doc = await self._persons.get(person_id)
        if doc and doc.get("realname"):
            return mask_name(doc["realname"]["name"])
        if doc and doc.get("phone_enc"):
            return f"用户 {mask_any_phone(self._pii.decrypt(doc['phone_enc'], 'phone'))}"
        return "其他用户"

    async def _clerk(self, actor_id: str) -> str:
        doc = await self._staff.get(actor_id.removeprefix(STAFF_PREFIX))
        if doc is None:
            return "工作人员"
        return f"{doc.get('department_name', '')}工作人员 {mask_name(doc['name'])}"

    async def _device(self, device_id: str) -> str:
        doc = await self._devices.get(device_id)
        return doc["name"] if doc else "自助终端"

    async def _proxy(self, person_id: str) -> str:
        return f"由 {await self._person(person_id)} 代办"

    async def label(self, entries: list[dict[str, Any]], reader: str) -> list[dict[str, Any]]:
        """The entries with ``actor.name`` and ``action_name`` filled in; ``reader`` is the person reading them."""
        lookups = {"person": self._person, "staff": self._clerk, "device": self._device, "proxy": self._proxy}
        names: dict[tuple[str, str], str] = {}
        for e in entries:
            a = e.get("actor") or {}
            key = (a.get("type", ""), a.get("id", ""))
            if key in names or key[0] not in lookups:
                continue
            names[key] = ("本人" if key == ("person", reader) else "本人代办" if key == ("proxy", reader)
                          else await lookups[key[0]](key[1]))
        out = []
        for e in entries:
            a = e.get("actor") or {}
            name = names.get((a.get("type", ""), a.get("id", "")))
            labelled = {**e, "action_name": self._actions.name(e.get("action", ""))}
            out.append({**labelled, "actor": {**a, "name": name}} if name else labelled)
        return out
