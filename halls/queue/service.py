"""Taking a number (取号): at a kiosk of the hall by scanning the person code (their booking
for today, if any, is checked in: a priority number) or by typing a booking's check-in code;
at the 导服台 by a clerk, for people without a phone or with a 绿色通道 mark; from the phone
within the hall's radius while it is open (线上取号). The holder's phone then shows the number,
how many are ahead and the estimated wait, live.

Queues: A 综合 (personal matters), B 企业, V 绿色通道 (people aged ``green_age`` or over —
from the verified birth date, never asked —, and those the clerk marks as disabled or
pregnant). Numbers run per hall, day and queue (A001, A002 …) from an atomic counter, so no
two people ever share one. Order within a queue (``rank``): 绿色通道, then bookings checked in
for their period, then walk-ins, each by the time the number was taken. One live number per
person per day: taking another gives back the one they have."""
from __future__ import annotations

import asyncio

import secrets
from typing import Any

from halls.booking.service import BookingService
from halls.catalog import Hall, HallDirectory, distance_m
from halls.live import QueueLive
from halls.service import HallService, now_local, spans
from halls.storage import HallStore
from identity.codes.service import CodeService, ScanActor
from identity.facade import Directory
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from server.masking import mask_name
from server.principal import Principal, person_chain, require_level, require_role

CLASS = {"green": 0, "appointment": 1, "walk_in": 2}
LIVE_STATES = ("waiting", "called", "serving")
HOLD_TRIES, HOLD_WAIT = 40, 0.025  # a concurrent take of the same person's number is waited for ~1 s
SPAN = 10**13  # ranks: class * SPAN + the time the number was taken (ms)
GREEN_MARKS = {"elderly": "老年人", "disabled": "残疾人", "pregnant": "孕妇"}


def rank(cls: str, at: int) -> int:
    return CLASS[cls] * SPAN + at


class QueueService:
    def __init__(self, halls: HallService, directory: HallDirectory, store: HallStore, booking: BookingService,
                 codes: CodeService, persons: Directory, live: QueueLive, audit: AuditTrail):
        self.halls = halls
        self.directory = directory
        self.store = store
        self.booking = booking
        self.codes = codes
        self.persons = persons
        self.live = live
        self.audit = audit

    # -- who may issue where -------------------------------------------------------------------------

    def hall_of_device(self, actor: ScanActor, hall_id: str | None = None) -> Hall:
        """The hall a kiosk or display belongs to (its department); 403 for another hall's."""
        hall = self.directory.get(actor.department)
        if hall is None or (hall_id is not None and hall.id != hall_id):
            raise PermissionDenied("本终端不属于这个服务大厅", code="device_not_in_hall")
        return hall

    def hall_of_staff(self, principal: Principal, hall_id: str, *roles: str) -> Hall:
        hall = self.halls.hall(hall_id)
        require_role(principal, *roles)
        if principal.claims.get("dept") != hall.id:
            raise PermissionDenied("您不是这个服务大厅的工作人员", code="not_hall_staff")
        return hall

    def _matter(self, hall: Hall, matter: str | None) -> str:
        if not matter:  # the hall's matters come with it, for the kiosk to offer
            named = {c: self.directory.matters.get(c) for c in hall.matters}
            choices = [{"code": c, "name": m.name if m else c} for c, m in named.items()]
            raise InvalidInput("请选择要办理的事项", code="matter_required", errors=[FieldError("matter", "请选择事项")],
                               extra={"matters": choices})
        if matter not in hall.matters:
            raise InvalidInput(f"{hall.name}不办理这项事项", code="matter_not_in_hall",
                               errors=[FieldError("matter", "该大厅不办理这项事项")])
        return matter

    def _open(self, hall: Hall) -> None:
        now = now_local()
        if not self.directory.is_open(hall, now):
            today = "、".join(spans(self.directory.hours_on(hall, now.date())))
            raise Conflict(f"{hall.name}现在不在开放时间（今天：{today or '闭厅'}）", code="hall_closed")

    # -- taking a number -------------------------------------------------------------------------------

    async def at_kiosk(self, actor: ScanActor, scan_id: str | None, code: str | None, matter: str | None
                       ) -> tuple[dict[str, Any], bool]:
        hall = self.hall_of_device(actor)
        self._open(hall)
        if code is not None:
            appt = await self.booking.for_checkin(hall, None, code)
            return await self._issue(hall, appt["matter"], f"person:{appt['person_id']}", "kiosk", appt, None)
        scan = await self.codes.scan_of(actor, scan_id or "")
        holder = scan["holder"]
        person = holder.split(":", 1)[1] if holder.startswith("person:") else None
        appt = await self.booking.for_checkin(hall, person, None) if person else None
        if appt is None:
            matter = self._matter(hall, matter)
        return await self._issue(hall, appt["matter"] if appt else matter, holder, "kiosk", appt, None)

    async def at_desk(self, principal: Principal, hall_id: str, matter: str | None, scan_id: str | None,
                      name: str, green: str | None) -> tuple[dict[str, Any], bool]:
        """The 导服台: for someone without a phone (a name only, optional), or a scanned holder;
        the clerk may mark 绿色通道 (disabled, pregnant, elderly)."""
        hall = self.hall_of_staff(principal, hall_id, "guide", "window", "supervisor")
        self._open(hall)
        matter = self._matter(hall, matter)
        holder = None
        if scan_id:
            actor = ScanActor("staff", principal.subject[len("staff:"):], principal.claims.get("name", ""),
                              principal.claims.get("dept_name", ""), hall.id)
            holder = (await self.codes.scan_of(actor, scan_id))["holder"]
        return await self._issue(hall, matter, holder, "desk", None, green, name=name)

    async def remote(self, principal: Principal, hall_id: str, matter: str, lat: float, lng: float
                     ) -> tuple[dict[str, Any], bool]:
        """线上取号 from the phone: only near the hall and while it is open."""
        require_level(principal, 1)
        hall = self.halls.hall(hall_id)
        self._open(hall)
        matter = self._matter(hall, matter)
        radius = self.directory.rules.remote_radius_m
        away = distance_m(lat, lng, hall.lat, hall.lng)
        if away > radius:
            raise Conflict(f"线上取号须在大厅 {radius} 米范围内（您距离约 {away / 1000:.1f} 公里）；也可预约或到现场取号",
                           code="too_far_from_hall", extra={"distance_m": round(away), "radius_m": radius})
        person = principal.subject
        appt = await self.booking.for_checkin(hall, person, None)
        if appt is not None and appt["matter"] != matter:
            appt = None
        return await self._issue(hall, matter, f"person:{person}", "remote", appt, None)

    async def _issue(self, hall: Hall, matter: str, holder: str | None, source: str, appt: dict[str, Any] | None,
                     green: str | None, name: str = "") -> tuple[dict[str, Any], bool]:
        now = now_local()
        day = now.date().isoformat()
        person = holder.split(":", 1)[1] if holder and holder.startswith("person:") else None
        facts = await self.persons.person(person) if person else None
        number_id = "n" + secrets.token_hex(12)
        if person:
            existing = await self._hold(person, f"number:{day}", number_id)
            if existing is not None:
                return await self.live.position(self.directory.get(existing["hall"]) or hall, existing), False
        if green is None and facts is not None and (facts.age(now.date()) or 0) >= self.directory.rules.green_age:
            green = "elderly"
        queue = self.directory.green_queue() if green else self.directory.queue_of(matter)
        cls = "green" if green else "appointment" if appt else "walk_in"
        seq = await self.store.next_seq(hall.id, day, queue)
        at = now_ms()
        m = self.directory.matters.get(matter)
        shown = (facts.name if facts and facts.name else name) or ""
        doc = {"_id": number_id, "hall": hall.id, "day": day, "queue": queue, "seq": seq, "label": f"{queue}{seq:03d}",
               "rank": rank(cls, at), "matter": matter, "matter_name": m.name if m else matter, "holder": holder,
               "person_id": person, "name_masked": mask_name(shown), "source": source,
               "appointment_id": appt["_id"] if appt else None, "green": green, "state": "waiting", "window": None,
               "transfer_to": 0, "clerk": "", "issued_at": at, "called_at": 0, "served_at": 0, "finished_at": 0,
               "service_seconds": 0, "skips": 0, "calls": 0, "version": 1}
        await self.store.insert_number(doc)
        if appt is not None:
            await self.booking.checked_in(appt, number_id)
        if person:
            where = {"kiosk": "自助终端", "desk": "导服台", "remote": "手机"}[source]
            await self.audit.record(person_chain(person), Actor("system", hall.name), "queue.number_taken",
                                    target={"type": "queue_number", "id": number_id}, channel=source,
                                    details={"hall": hall.name, "label": doc["label"], "matter": doc["matter_name"],
                                             "via": where})
        await self.live.progress(hall, day, queue)
        return await self.live.position(hall, doc), True

    async def _hold(self, person: str, key: str, number_id: str) -> dict[str, Any] | None:
        """One live number per person per day: hold the day's marker for ``number_id`` (None),
        or the person's live number (a double tap, or a second kiosk). A request that holds the
        marker but has not stored its number yet is waited for; a marker left by one that never
        will (or by a number already finished) is taken over."""
        for attempt in range(HOLD_TRIES):
            held = await self.store.claim_live(person, key, number_id)
            if not held:
                return None
            existing = await self.store.number(held)
            if existing is not None and existing["state"] in LIVE_STATES:
                return existing
            if existing is None and attempt < HOLD_TRIES - 1:
                await asyncio.sleep(HOLD_WAIT)
                continue
            if await self.store.move_live(person, key, held, number_id):
                return None
        raise Conflict("取号太频繁，请稍后再试", code="number_in_progress")

    # -- the holder's side ----------------------------------------------------------------------------

    async def mine(self, principal: Principal) -> list[dict[str, Any]]:
        day = now_local().date().isoformat()
        out = []
        for n in await self.store.numbers_of_holder(f"person:{principal.subject}", day):
            hall = self.directory.get(n["hall"])
            if hall is not None:
                out.append(await self.live.position(hall, n))
        return out

    async def _own(self, principal: Principal, number_id: str) -> tuple[Hall, dict[str, Any]]:
        n = await self.store.number(number_id)
        if n is None or n.get("person_id") != principal.subject:
            raise NotFound("没有找到这个排队号", code="number_not_found")
        return self.directory.get(n["hall"]) or self.halls.hall(n["hall"]), n

    async def get_mine(self, principal: Principal, number_id: str) -> dict[str, Any]:
        hall, n = await self._own(principal, number_id)
        return await self.live.position(hall, n)

    async def rejoin(self, principal: Principal, number_id: str) -> dict[str, Any]:
        """过号 once: back into the queue (behind those waiting now)."""
        hall, n = await self._own(principal, number_id)
        return await self.rejoin_number(hall, n)

    async def rejoin_number(self, hall: Hall, n: dict[str, Any]) -> dict[str, Any]:
        if n["state"] != "skipped" or n.get("skips", 0) > 1:
            raise Conflict("过号只能重新排队一次；请到导服台重新取号", code="rejoin_not_allowed",
                           extra={"state": n["state"]})
        updated = await self.store.update_number(n["_id"], ["skipped"], {
            "state": "waiting", "rank": rank("walk_in", now_ms()), "window": None, "transfer_to": 0})
        if updated is None:
            raise Conflict("排队号状态刚有变化，请刷新", code="stale_version")
        await self.live.progress(hall, n["day"], n["queue"])
        return await self.live.position(hall, updated)
