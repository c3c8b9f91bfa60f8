"""Calling at a window (叫号), the hall screen and the hall supervisor's statistics.

A clerk of the hall (role ``window``) opens a window (it is theirs until they close it; no
one else may call on it), then: call next — a number transferred to this window first, else
the waiting number of lowest rank in the queues the window serves (and, for a window that
handles only some matters, of those matters); recall; skip (过号: the holder may rejoin once,
a second skip ends the number); transfer to another window; serve; finish. Claiming the next
number is one atomic update, so two windows never call the same number. Each call is on the
hall screens and the holder's phone; every move updates the waiting holders' positions."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from halls.catalog import Hall, HallDirectory
from halls.live import QueueLive
from halls.queue.service import QueueService, rank
from halls.service import now_local
from halls.storage import HallStore
from identity.codes.service import ScanActor
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from server.principal import Principal

CLERK = ("window", "supervisor")


class CallingService:
    def __init__(self, directory: HallDirectory, store: HallStore, queue: QueueService, live: QueueLive):
        self.directory = directory
        self.store = store
        self.queue = queue
        self.live = live

    # -- windows ------------------------------------------------------------------------------------

    def _window(self, hall: Hall, number: int):
        w = hall.window(number)
        if w is None:
            raise NotFound(f"{hall.name}没有 {number} 号窗口", code="window_not_found")
        return w

    async def open(self, principal: Principal, hall_id: str, number: int) -> dict[str, Any]:
        hall = self.queue.hall_of_staff(principal, hall_id, *CLERK)
        self._window(hall, number)
        doc = await self.store.open_window(hall.id, number, principal.subject, principal.claims.get("name", ""), now_ms())
        if doc is None:
            raise Conflict(f"{number} 号窗口已由其他工作人员开启", code="window_taken")
        return await self.console(principal, hall.id, number)

    async def close(self, principal: Principal, hall_id: str, number: int) -> dict[str, Any]:
        hall = self.queue.hall_of_staff(principal, hall_id, *CLERK)
        await self._mine(principal, hall, number)
        await self.store.close_window(hall.id, number, principal.subject)
        return {"hall": hall.id, "window": number, "open": False}

    async def _mine(self, principal: Principal, hall: Hall, number: int):
        w = self._window(hall, number)
        doc = await self.store.window(hall.id, number)
        if doc is None or doc.get("clerk") != principal.subject:
            raise PermissionDenied(f"{number} 号窗口不是您开启的，请先开启窗口", code="window_not_yours")
        return w

    async def console(self, principal: Principal, hall_id: str, number: int) -> dict[str, Any]:
        """The clerk's view of the window: what it serves, the number at it, who waits."""
        hall = self.queue.hall_of_staff(principal, hall_id, *CLERK)
        w = self._window(hall, number)
        doc = await self.store.window(hall.id, number)
        day = now_local().date().isoformat()
        current = await self.store.at_window(hall.id, day, number)
        waiting = await self.store.waiting_counts(hall.id, day, list(w.queues))
        return {"hall": hall.id, "hall_name": hall.name, "window": number, "window_name": w.name,
                "queues": list(w.queues), "open": bool(doc and doc.get("clerk") == principal.subject),
                "current": [self._clerk_view(n) for n in current],
                "waiting": {q: waiting.get(q, 0) for q in w.queues},
                "windows": [{"number": x.number, "name": x.name} for x in hall.windows]}

    @staticmethod
    def _clerk_view(n: dict[str, Any]) -> dict[str, Any]:
        return {"id": n["_id"], "label": n["label"], "queue": n["queue"], "matter": n["matter"],
                "matter_name": n["matter_name"], "name": n.get("name_masked") or "", "state": n["state"],
                "green": n.get("green"), "appointment": bool(n.get("appointment_id")), "holder": n.get("holder"),
                "window": n.get("window"), "calls": n.get("calls", 0), "skips": n.get("skips", 0),
                "issued_at": n["issued_at"], "called_at": n.get("called_at") or None, "version": n["version"]}

    # -- calling ----------------------------------------------------------------------------------------

    async def call_next(self, principal: Principal, hall_id: str, number: int) -> dict[str, Any]:
        hall = self.queue.hall_of_staff(principal, hall_id, *CLERK)
        w = await self._mine(principal, hall, number)
        day = now_local().date().isoformat()
        busy = await self.store.at_window(hall.id, day, number)
        if busy:
            raise Conflict(f"{busy[0]['label']} 还在窗口办理，请先办结或过号", code="window_busy",
                           extra={"number_id": busy[0]["_id"]})
        set_ = {"state": "called", "window": number, "clerk": principal.subject, "called_at": now_ms(), "calls": 1}
        n = await self.store.claim_transferred(hall.id, day, number, set_)
        if n is None:
            n = await self.store.claim_next(hall.id, day, list(w.queues), set_,
                                            list(w.matters) if w.matters is not None else None)
        if n is None:
            raise NotFound("现在没有等候的号", code="queue_empty")
        await self.live.called(hall, n)
        await self.live.progress(hall, day, n["queue"])
        return self._clerk_view(n)

    async def _at_window(self, principal: Principal, hall_id: str, number: int, number_id: str, version: int,
                         states: tuple[str, ...]) -> tuple[Hall, dict[str, Any]]:
        hall = self.queue.hall_of_staff(principal, hall_id, *CLERK)
        await self._mine(principal, hall, number)
        n = await self.store.number(number_id)
        if n is None or n["hall"] != hall.id or n.get("window") != number:
            raise NotFound("这个号不在本窗口", code="number_not_at_window")
        if n["version"] != version:
            raise Conflict("这个号刚有变化，请刷新", code="stale_version", extra={"version": n["version"]})
        if n["state"] not in states:
            raise Conflict(f"这个号现在“{n['state']}”，不能这样操作", code="illegal_transition",
                           extra={"state": n["state"]})
        return hall, n

    async def _move(self, hall: Hall, n: dict[str, Any], states: tuple[str, ...], set_: dict[str, Any],
                    inc_calls: bool = False) -> dict[str, Any]:
        if inc_calls:
            set_ = {**set_, "calls": n.get("calls", 0) + 1}
        updated = await self.store.update_number(n["_id"], list(states), set_, version=n["version"])
        if updated is None:
            raise Conflict("这个号刚有变化，请刷新", code="stale_version")
        return updated

    async def recall(self, principal: Principal, hall_id: str, number: int, number_id: str, version: int
                     ) -> dict[str, Any]:
        hall, n = await self._at_window(principal, hall_id, number, number_id, version, ("called",))
        updated = await self._move(hall, n, ("called",), {"called_at": now_ms()}, inc_calls=True)
        await self.live.called(hall, updated)
        return self._clerk_view(updated)

    async def skip(self, principal: Principal, hall_id: str, number: int, number_id: str, version: int
                   ) -> dict[str, Any]:
        hall, n = await self._at_window(principal, hall_id, number, number_id, version, ("called",))
        skips = n.get("skips", 0) + 1
        # a second skip ends the number: the holder takes a new one
        updated = await self._move(hall, n, ("called",), {"state": "skipped" if skips <= 1 else "left", "skips": skips})
        if updated["state"] == "left":
            await self._release(updated)
        await self.live.progress(hall, n["day"], n["queue"])
        await self._tell(hall, updated)
        return self._clerk_view(updated)

    async def rejoin(self, principal: Principal, hall_id: str, number_id: str) -> dict[str, Any]:
        """The 导服台 puts a 过号 number back in the queue (once)."""
        hall = self.queue.hall_of_staff(principal, hall_id, "guide", *CLERK)
        n = await self.store.number(number_id)
        if n is None or n["hall"] != hall.id:
            raise NotFound("没有找到这个排队号", code="number_not_found")
        return await self.queue.rejoin_number(hall, n)

    async def transfer(self, principal: Principal, hall_id: str, number: int, number_id: str, version: int,
                       to: int) -> dict[str, Any]:
        hall, n = await self._at_window(principal, hall_id, number, number_id, version, ("called", "serving"))
        if to == number:
            raise InvalidInput("请选择另一个窗口", code="transfer_same_window", errors=[FieldError("to", "不能转到本窗口")])
        self._window(hall, to)
        updated = await self._move(hall, n, ("called", "serving"), {
            "state": "waiting", "transfer_to": to, "window": None, "rank": rank("green", 0)})
        await self.live.progress(hall, n["day"], n["queue"])
        await self._tell(hall, updated)
        return self._clerk_view(updated)

    async def serve(self, principal: Principal, hall_id: str, number: int, number_id: str, version: int
                    ) -> dict[str, Any]:
        hall, n = await self._at_window(principal, hall_id, number, number_id, version, ("called",))
        updated = await self._move(hall, n, ("called",), {"state": "serving", "served_at": now_ms()})
        await self._tell(hall, updated)
        return self._clerk_view(updated)

    async def finish(self, principal: Principal, hall_id: str, number: int, number_id: str, version: int
                     ) -> dict[str, Any]:
        hall, n = await self._at_window(principal, hall_id, number, number_id, version, ("serving",))
        now = now_ms()
        updated = await self._move(hall, n, ("serving",), {
            "state": "done", "finished_at": now, "service_seconds": max(1, (now - n["served_at"]) // 1000)})
        await self._release(updated)
        if updated.get("appointment_id"):
            await self.store.update_appointment(updated["appointment_id"], ["checked_in"], {"state": "done"})
        await self._tell(hall, updated)
        await self.live.progress(hall, n["day"], n["queue"])
        return self._clerk_view(updated)

    async def _release(self, n: dict[str, Any]) -> None:
        if n.get("person_id"):
            await self.store.release_live(n["person_id"], f"number:{n['day']}", n["_id"])

    async def _tell(self, hall: Hall, n: dict[str, Any]) -> None:
        if n.get("person_id"):
            position = await self.live.position(hall, n)
            await self.live.events.publish(f"person:{n['person_id']}", {"type": "queue.progress", "number_id": n["_id"],
                                                                        **{k: position[k] for k in (
                                                                            "label", "hall_name", "state", "ahead",
                                                                            "wait_minutes", "window_name")}})

    # -- the hall screen ----------------------------------------------------------------------------

    async def display(self, actor: ScanActor, hall_id: str) -> dict[str, Any]:
        hall = self.queue.hall_of_device(actor, hall_id)
        day = now_local().date().isoformat()
        waiting = await self.store.waiting_counts(hall.id, day, list(self.directory.queues))
        called = [n for n in await self.store.recently_called(hall.id, day) if n["state"] in ("called", "serving")]
        return {"hall": hall.id, "hall_name": hall.name, "open": self.directory.is_open(hall, now_local()),
                "called": [{"label": n["label"], "window": n["window"],
                            "window_name": (hall.window(n["window"]).name if hall.window(n["window"]) else ""),
                            "name": n.get("name_masked") or "", "at": n["called_at"]} for n in called],
                "waiting": [{"queue": q.code, "name": q.name, "count": waiting.get(q.code, 0)}
                            for q in self.directory.queues.values()]}

    # -- statistics -----------------------------------------------------------------------------------

    async def stats(self, principal: Principal, hall_id: str, day: str | None) -> dict[str, Any]:
        hall = self.queue.hall_of_staff(principal, hall_id, "supervisor")
        day = day or now_local().date().isoformat()
        numbers = await self.store.of_day(hall.id, day)
        appts = await self.store.of_hall_day(hall.id, day)

        def mean(xs: list[float]) -> float | None:
            return round(sum(xs) / len(xs), 1) if xs else None

        by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for n in numbers:
            by[(n["queue"], n["matter"])].append(n)
        rows = []
        for (queue, matter), ns in sorted(by.items()):
            called = [n for n in ns if n.get("called_at")]
            done = [n for n in ns if n["state"] == "done"]
            rows.append({"queue": queue, "matter": matter, "matter_name": ns[0]["matter_name"], "taken": len(ns),
                         "served": len(done), "waiting": sum(1 for n in ns if n["state"] == "waiting"),
                         "skipped": sum(1 for n in ns if n["state"] in ("skipped", "left")),
                         "wait_minutes": mean([(n["called_at"] - n["issued_at"]) / 60000 for n in called]),
                         "service_minutes": mean([n["service_seconds"] / 60 for n in done])})
        per_window = Counter(n["window"] for n in numbers if n["state"] == "done")
        return {"hall": hall.id, "hall_name": hall.name, "day": day, "rows": rows,
                "windows": [{"number": w.number, "name": w.name, "served": per_window.get(w.number, 0)}
                            for w in hall.windows],
                "appointments": {"booked": len(appts), "checked_in": sum(1 for a in appts if a["state"] in
                                                                        ("checked_in", "done")),
                                 "no_show": sum(1 for a in appts if a["state"] == "no_show"),
                                 "cancelled": sum(1 for a in appts if a["state"] == "cancelled")}}
