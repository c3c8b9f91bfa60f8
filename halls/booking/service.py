"""Appointments (预约) at a hall: the slots of a matter's queue (one per ``period_minutes`` of
opening time, each with the hall's quota), a booking (L2, idempotent) with a check-in code,
one live booking per person and matter, cancel and reschedule until ``change_until`` before
the period, and no-shows: a booking not checked in by the end of its check-in window is
marked by a worker; ``no_show_limit`` of them within ``no_show_window_days`` block booking
for ``block_days`` from the last one (the person sees until when).

The quota is taken atomically (a guarded increment per slot), so simultaneous bookings never
exceed it; the live-booking marker is claimed before the slot and released if the slot is full."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from halls.catalog import Hall, HallDirectory
from halls.service import HallService, now_local
from halls.storage import HallStore
from server.audit import Actor, AuditTrail
from server.calendar import CHINA
from server.clock import DAY_MS, now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from server.idempotency import Idempotency
from server.pii import PiiCipher
from server.principal import Caller, Principal, person_chain, require_level

STATE_NAMES = {"booked": "已预约", "checked_in": "已取号", "cancelled": "已取消", "no_show": "已爽约", "done": "已办理"}
LIVE = ["booked", "checked_in"]


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def hhmm(ms_: int) -> str:
    return datetime.fromtimestamp(ms_ / 1000, CHINA).strftime("%H:%M")


class BookingService:
    def __init__(self, halls: HallService, directory: HallDirectory, store: HallStore, idempotency: Idempotency,
                 audit: AuditTrail, pii: PiiCipher):
        self.halls = halls
        self.directory = directory
        self.store = store
        self.idempotency = idempotency
        self.audit = audit
        self.pii = pii

    # -- slots ------------------------------------------------------------------------------------

    def _slot_id(self, hall: Hall, queue: str, start: datetime) -> str:
        return f"{hall.id}:{start:%Y-%m-%d}:{queue}:{start:%H%M}"

    def _matter(self, hall: Hall, matter: str) -> str:
        if matter not in hall.matters:
            raise InvalidInput(f"{hall.name}不办理这项事项，请换一个大厅", code="matter_not_in_hall",
                               errors=[FieldError("matter", "该大厅不办理这项事项")])
        return self.directory.queue_of(matter)

    async def slots(self, hall_id: str, matter: str, start: date | None, end: date | None) -> dict[str, Any]:
        hall = self.halls.hall(hall_id)
        queue = self._matter(hall, matter)
        now = now_local()
        first = max(start or now.date(), now.date())
        last = min(end or first + timedelta(days=self.directory.rules.book_days_ahead),
                   now.date() + timedelta(days=self.directory.rules.book_days_ahead))
        periods = []
        day = first
        while day <= last:
            periods += self.directory.periods(hall, day)
            day += timedelta(days=1)
        booked = await self.store.slots_booked([self._slot_id(hall, queue, a) for a, _ in periods])
        quota = hall.quota.get(queue, 0)
        items = [{"day": a.date().isoformat(), "time": f"{a:%H:%M}", "end": f"{b:%H:%M}",
                  "left": max(0, quota - booked.get(self._slot_id(hall, queue, a), 0)), "quota": quota}
                 for a, b in periods if a > now]
        return {"hall": hall.id, "matter": matter, "queue": queue, "items": items}

    def _period(self, hall: Hall, day: date, at: str) -> tuple[datetime, datetime]:
        for a, b in self.directory.periods(hall, day):
            if f"{a:%H:%M}" == at:
                return a, b
        raise InvalidInput("没有这个预约时段，请从可预约时段中选择", code="slot_unknown",
                           errors=[FieldError("time", "没有这个时段")])

    def _check_slot(self, hall: Hall, day: date, at: str) -> tuple[datetime, datetime]:
        now = now_local()
        if day > now.date() + timedelta(days=self.directory.rules.book_days_ahead):
            raise InvalidInput(f"只能预约 {self.directory.rules.book_days_ahead} 天内的时段", code="slot_too_far",
                               errors=[FieldError("day", "超出可预约范围")])
        a, b = self._period(hall, day, at)
        if a <= now:
            raise Conflict("这个时段已经开始或已过去，请选择之后的时段", code="slot_past")
        return a, b

    # -- booking ----------------------------------------------------------------------------------

    async def blocked_until(self, person_id: str) -> str | None:
        """The last day booking is blocked (no-shows), or None."""
        r = self.directory.rules
        missed = await self.store.no_shows_since(person_id, now_ms() - r.no_show_window_days * DAY_MS)
        if len(missed) < r.no_show_limit:
            return None
        until = datetime.fromtimestamp(missed[0]["start"] / 1000, CHINA).date() + timedelta(days=r.block_days)
        return until.isoformat() if until >= now_local().date() else None

    async def book(self, principal: Principal, body: dict[str, Any], idem_key: str, caller: Caller
                   ) -> tuple[dict[str, Any], bool]:
        require_level(principal, 2)
        hall = self.halls.hall(body["hall"])
        queue = self._matter(hall, body["matter"])
        a, b = self._check_slot(hall, body["day"], body["time"])
        until = await self.blocked_until(principal.subject)
        if until:
            raise PermissionDenied(f"近 {self.directory.rules.no_show_window_days} 天内爽约 "
                                   f"{self.directory.rules.no_show_limit} 次，{until} 前不能预约；可直接到大厅取号",
                                   code="booking_blocked", extra={"until": until})

        async def work(reserved: str, rerun: bool) -> dict[str, Any]:
            appt_id = "p" + reserved
            existing = await self.store.appointment(appt_id)
            if existing is not None:
                return self.view(existing)
            held = await self.store.claim_live(principal.subject, body["matter"], appt_id)
            if held:
                raise Conflict("这项事项您已有一个预约，可改期或取消后再约", code="already_booked",
                               extra={"appointment_id": held})
            slot = self._slot_id(hall, queue, a)
            if not await self.store.take_slot(slot, hall.quota.get(queue, 0)):
                await self.store.release_live(principal.subject, body["matter"], appt_id)
                raise Conflict("这个时段已约满，请选择其他时段", code="slot_full")
            code = await self._new_code(hall)
            matter = self.directory.matters.get(body["matter"])
            doc = {"_id": appt_id, "person_id": principal.subject, "hall": hall.id, "hall_name": hall.name,
                   "matter": body["matter"], "matter_name": matter.name if matter else body["matter"], "queue": queue,
                   "day": a.date().isoformat(), "start": ms(a), "end": ms(b), "slot": slot,
                   "code": code, "code_idx": self._code_idx(code), "state": "booked", "version": 1,
                   "number_id": None, "created_at": now_ms()}
            await self.store.insert_appointment(doc)
            await self._record(principal.subject, "appointment.booked", caller, doc)
            return self.view(doc)

        return await self.idempotency.run(f"appointment:{principal.subject}", idem_key,
                                          {**body, "day": body["day"].isoformat()}, work)

    async def _new_code(self, hall: Hall) -> str:
        """An 8-digit check-in code no live booking at the hall has."""
        while True:
            code = f"{secrets.randbelow(10**8):08d}"
            if await self.store.appointment_by_code(hall.id, self._code_idx(code)) is None:
                return code

    def _code_idx(self, code: str) -> str:
        return self.pii.blind_index(code, "checkin_code")

    async def _own(self, principal: Principal, appt_id: str) -> dict[str, Any]:
        doc = await self.store.appointment(appt_id)
        if doc is None or doc["person_id"] != principal.subject:
            raise NotFound("没有找到这个预约", code="appointment_not_found")
        return doc

    def _changeable(self, doc: dict[str, Any]) -> None:
        if doc["state"] != "booked":
            raise Conflict(f"预约当前为“{STATE_NAMES[doc['state']]}”，不能再改", code="illegal_transition",
                           extra={"state": doc["state"]})
        minutes = self.directory.rules.change_until_minutes_before
        if now_ms() > doc["start"] - minutes * 60_000:
            raise Conflict(f"距预约时段不足 {minutes} 分钟，不能取消或改期；如不能前来，无需操作", code="change_too_late")

    async def cancel(self, principal: Principal, appt_id: str, version: int, caller: Caller) -> dict[str, Any]:
        doc = await self._own(principal, appt_id)
        self._changeable(doc)
        updated = await self.store.update_appointment(appt_id, ["booked"], {"state": "cancelled",
                                                                             "cancelled_at": now_ms()}, version)
        if updated is None:
            raise Conflict("预约刚被改过，请刷新后重试", code="stale_version")
        await self.store.release_slot(doc["slot"])
        await self.store.release_live(doc["person_id"], doc["matter"], appt_id)
        await self._record(principal.subject, "appointment.cancelled", caller, updated)
        return self.view(updated)

    async def reschedule(self, principal: Principal, appt_id: str, version: int, day: date, at: str,
                         caller: Caller) -> dict[str, Any]:
        doc = await self._own(principal, appt_id)
        self._changeable(doc)
        hall = self.halls.hall(doc["hall"])
        a, b = self._check_slot(hall, day, at)
        slot = self._slot_id(hall, doc["queue"], a)
        if slot == doc["slot"]:
            return self.view(doc)
        if not await self.store.take_slot(slot, hall.quota.get(doc["queue"], 0)):
            raise Conflict("这个时段已约满，请选择其他时段", code="slot_full")
        updated = await self.store.update_appointment(appt_id, ["booked"], {
            "day": a.date().isoformat(), "start": ms(a), "end": ms(b), "slot": slot}, version)
        if updated is None:
            await self.store.release_slot(slot)
            raise Conflict("预约刚被改过，请刷新后重试", code="stale_version")
        await self.store.release_slot(doc["slot"])
        await self._record(principal.subject, "appointment.rescheduled", caller, updated)
        return self.view(updated)

    async def mine(self, principal: Principal) -> dict[str, Any]:
        docs = await self.store.appointments_of(principal.subject)
        return {"items": [self.view(d) for d in docs], "blocked_until": await self.blocked_until(principal.subject)}

    async def get_mine(self, principal: Principal, appt_id: str) -> dict[str, Any]:
        return self.view(await self._own(principal, appt_id))

    def view(self, d: dict[str, Any]) -> dict[str, Any]:
        return {"id": d["_id"], "hall": d["hall"], "hall_name": d["hall_name"], "matter": d["matter"],
                "matter_name": d["matter_name"], "queue": d["queue"], "day": d["day"], "time": hhmm(d["start"]),
                "end": hhmm(d["end"]), "state": d["state"], "state_name": STATE_NAMES[d["state"]],
                "code": d["code"] if d["state"] == "booked" else None, "version": d["version"],
                "number_id": d.get("number_id")}

    # -- check-in (the queue calls this when a number is taken) -------------------------------------

    def checkin_window(self, doc: dict[str, Any]) -> tuple[int, int]:
        r = self.directory.rules
        return doc["start"] - r.checkin_early_minutes * 60_000, doc["end"] + r.checkin_late_minutes * 60_000

    async def for_checkin(self, hall: Hall, person_id: str | None, code: str | None) -> dict[str, Any] | None:
        """The booking a number is taken for: by the holder (today's live booking at this hall,
        if any) or by its check-in code (404 when unknown). Refused, with the rule, at another
        hall or outside the check-in window."""
        now = now_ms()
        if code is not None:
            doc = await self.store.appointment_by_code(hall.id, self._code_idx(code))
            if doc is None:
                raise NotFound(f"{hall.name}没有这个预约码（或已取号、已取消）；请核对预约的大厅和预约码",
                               code="checkin_code_unknown")
        else:
            today = now_local().date().isoformat()
            docs = [d for d in await self.store.appointments_of(person_id or "")
                    if d["state"] == "booked" and d["day"] == today]
            if not docs:
                return None
            here = [d for d in docs if d["hall"] == hall.id]
            if not here:
                raise Conflict(f"您今天预约的是{docs[0]['hall_name']}，请到该大厅取号", code="checkin_wrong_hall",
                               extra={"hall": docs[0]["hall"]})
            doc = min(here, key=lambda d: abs(d["start"] - now))
        if doc["hall"] != hall.id:
            raise Conflict(f"该预约在{doc['hall_name']}，请到该大厅取号", code="checkin_wrong_hall",
                           extra={"hall": doc["hall"]})
        opens, closes = self.checkin_window(doc)
        if not opens <= now <= closes:
            r = self.directory.rules
            raise Conflict(f"预约时段 {hhmm(doc['start'])}-{hhmm(doc['end'])}：请在开始前 {r.checkin_early_minutes} "
                           f"分钟至结束后 {r.checkin_late_minutes} 分钟内取号", code="checkin_outside_period",
                           extra={"opens": opens, "closes": closes})
        return doc

    async def checked_in(self, doc: dict[str, Any], number_id: str) -> bool:
        updated = await self.store.update_appointment(doc["_id"], ["booked"], {"state": "checked_in",
                                                                               "number_id": number_id})
        if updated is not None:
            await self.store.release_live(doc["person_id"], doc["matter"], doc["_id"])
        return updated is not None

    # -- the worker: no-shows ----------------------------------------------------------------------------

    async def mark_no_shows(self) -> int:
        late = self.directory.rules.checkin_late_minutes * 60_000
        n = 0
        for doc in await self.store.missed(now_ms() - late):
            updated = await self.store.update_appointment(doc["_id"], ["booked"], {"state": "no_show"})
            if updated is None:
                continue
            await self.store.release_live(doc["person_id"], doc["matter"], doc["_id"])
            await self._record(doc["person_id"], "appointment.no_show", Caller("system", ""), updated,
                               actor=Actor("system", "预约管理"))
            n += 1
        return n

    async def _record(self, person_id: str, action: str, caller: Caller, doc: dict[str, Any],
                      actor: Actor | None = None) -> None:
        await self.audit.record(person_chain(person_id), actor or Actor("person", person_id), action,
                                target={"type": "appointment", "id": doc["_id"]}, channel=caller.channel,
                                ip=caller.ip, details={"hall": doc["hall_name"], "matter": doc["matter_name"],
                                                       "day": doc["day"], "time": hhmm(doc["start"])})
