"""What a hall tells people as its queues move: each waiting holder's position and estimated
wait (``queue.progress`` on their events stream), the holder whose number is called
(``queue.called``, and a WeChat subscribe message or SMS through the notifications outbox),
and the hall's screens (``hall.called`` / ``hall.refresh`` to each display device of the
hall; names masked). Shared by taking numbers and calling them."""
from __future__ import annotations

import contextlib
import logging
from typing import Any

from halls.catalog import Hall, HallDirectory
from halls.storage import HallStore
from halls.waits import SAMPLE, service_minutes, wait_minutes
from notifications.service import Notifications
from server.events import EventHub

log = logging.getLogger("superapp.halls")
STATE_NAMES = {"waiting": "排队中", "called": "已叫号", "serving": "办理中", "done": "已办结", "skipped": "已过号",
               "left": "已离开"}


class QueueLive:
    def __init__(self, directory: HallDirectory, store: HallStore, events: EventHub, notifications: Notifications):
        self.directory = directory
        self.store = store
        self.events = events
        self.notifications = notifications

    async def per_number(self, hall: Hall, day: str, queue: str) -> float:
        done = await self.store.recent_done(hall.id, day, queue, SAMPLE)
        return service_minutes(done, self.directory.rules.service_minutes_default)

    async def position(self, hall: Hall, n: dict[str, Any]) -> dict[str, Any]:
        """A number as its holder sees it: state, and while waiting how many are ahead and how long."""
        ahead = wait = None
        if n["state"] == "waiting":
            ahead = await self.store.ahead_of(hall.id, n["day"], n["queue"], n["rank"])
            per = await self.per_number(hall, n["day"], n["queue"])
            wait = wait_minutes(ahead, per, len(self.directory.windows_for(hall, n["queue"])))
        window = hall.window(n["window"]) if n.get("window") else None
        return {"id": n["_id"], "hall": hall.id, "hall_name": hall.name, "label": n["label"], "queue": n["queue"],
                "queue_name": self.directory.queues[n["queue"]].name, "matter": n["matter"],
                "matter_name": n["matter_name"], "state": n["state"], "state_name": STATE_NAMES[n["state"]],
                "ahead": ahead, "wait_minutes": wait, "window": n.get("window"),
                "window_name": window.name if window else None, "green": n.get("green"),
                "appointment_id": n.get("appointment_id"), "issued_at": n["issued_at"], "version": n["version"],
                "can_rejoin": n["state"] == "skipped" and n.get("skips", 0) <= 1}

    async def progress(self, hall: Hall, day: str, queue: str) -> None:
        """Tell everyone waiting in the queue where they are now."""
        try:
            waiting = await self.store.waiting(hall.id, day, queue)
            per = await self.per_number(hall, day, queue)
            windows = len(self.directory.windows_for(hall, queue))
            for ahead, n in enumerate(waiting):
                if n.get("person_id"):
                    await self.events.publish(f"person:{n['person_id']}", {
                        "type": "queue.progress", "number_id": n["_id"], "label": n["label"], "hall_name": hall.name,
                        "state": "waiting", "ahead": ahead, "wait_minutes": wait_minutes(ahead, per, windows)})
            await self.screens(hall, {"type": "hall.refresh"})
        except Exception:  # noqa: BLE001 - the queue moved; the live view is a courtesy
            log.warning("queue progress of %s/%s not published", hall.id, queue, exc_info=True)

    async def called(self, hall: Hall, n: dict[str, Any]) -> None:
        window = hall.window(n["window"])
        where = window.name if window else f"{n['window']} 号窗口"
        if n.get("person_id"):
            with contextlib.suppress(Exception):
                await self.events.publish(f"person:{n['person_id']}", {
                    "type": "queue.called", "number_id": n["_id"], "label": n["label"], "hall_name": hall.name,
                    "window": n["window"], "window_name": where, "state": n["state"]})
            await self.notifications.enqueue([{
                "_id": f"{n['_id']}:called:{n.get('calls', 1)}", "person_id": n["person_id"], "about": "queue",
                "queue_id": n["_id"], "number": n["label"], "title": hall.name, "state": "called",
                "state_name": "请到窗口办理", "comment": f"请到{where}办理", "at": n["called_at"],
                "page": f"/halls/numbers/{n['_id']}"}])
        await self.screens(hall, {"type": "hall.called", "label": n["label"], "window": n["window"],
                                  "window_name": where, "name": n.get("name_masked") or ""})

    async def screens(self, hall: Hall, event: dict[str, Any]) -> None:
        for device in hall.displays:
            with contextlib.suppress(Exception):
                await self.events.publish(f"device:{device}", {**event, "hall": hall.id})
