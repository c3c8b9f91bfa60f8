"""The hall map: halls near a place (by distance), those that handle a matter or lie in a
region, one hall with today's hours, its windows and the current wait per matter; the
places a matter's guide lists (办理地点 and 办理时间)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from halls.catalog import Hall, HallDirectory, distance_m, hhmm
from halls.storage import HallStore
from halls.waits import service_minutes, wait_minutes
from server.calendar import CHINA
from server.clock import now_ms
from server.errors import NotFound

WEEK_NAMES = {"workday": "工作日", "sat": "周六", "sun": "周日", "holiday": "节假日"}


def now_local() -> datetime:
    return datetime.fromtimestamp(now_ms() / 1000, CHINA)


def spans(hours: tuple) -> list[str]:
    return [f"{hhmm(a)}-{hhmm(b)}" for a, b in hours]


def in_region(hall: Hall, region: str) -> bool:
    """A province (440000) holds its cities and districts, a city (440100) its districts."""
    if region.endswith("0000"):
        return hall.region_code[:2] == region[:2]
    if region.endswith("00"):
        return hall.region_code[:4] == region[:4]
    return hall.region_code == region


class HallService:
    def __init__(self, directory: HallDirectory, store: HallStore):
        self.directory = directory
        self.store = store

    def hall(self, hall_id: str) -> Hall:
        hall = self.directory.get(hall_id)
        if hall is None:
            raise NotFound("没有这个服务大厅", code="hall_not_found")
        return hall

    def _summary(self, hall: Hall, now: datetime, waiting: int, near: tuple[float, float] | None) -> dict[str, Any]:
        return {"id": hall.id, "name": hall.name, "region_code": hall.region_code, "address": hall.address,
                "lat": hall.lat, "lng": hall.lng, "phone": hall.phone,
                "distance_m": round(distance_m(near[0], near[1], hall.lat, hall.lng)) if near else None,
                "open_now": self.directory.is_open(hall, now),
                "today_hours": spans(self.directory.hours_on(hall, now.date())), "waiting": waiting,
                "accessibility": list(hall.accessibility)}

    async def list(self, near: tuple[float, float] | None, matter: str | None, region: str | None
                   ) -> list[dict[str, Any]]:
        now = now_local()
        halls = [h for h in self.directory.halls.values()
                 if (matter is None or matter in h.matters) and (region is None or in_region(h, region))]
        out = []
        for h in halls:
            waiting = len(await self.store.waiting(h.id, now.date().isoformat()))
            out.append(self._summary(h, now, waiting, near))
        return sorted(out, key=lambda x: (x["distance_m"] if x["distance_m"] is not None else 0, x["name"]))

    async def detail(self, hall_id: str) -> dict[str, Any]:
        hall = self.hall(hall_id)
        now = now_local()
        day = now.date().isoformat()
        waiting = await self.store.waiting(hall.id, day)
        numbers = await self.store.of_day(hall.id, day)
        opened = {w["window"] for w in await self.store.windows_of(hall.id) if w.get("clerk")}
        per_matter = Counter(n["matter"] for n in waiting)
        matters = []
        for code in hall.matters:
            m = self.directory.matters.get(code)
            queue = self.directory.queue_of(code)
            minutes = service_minutes([n for n in numbers if n["queue"] == queue], self.directory.rules.service_minutes_default)
            ahead = sum(1 for n in waiting if n["queue"] == queue)
            matters.append({"code": code, "name": m.name if m else code, "queue": queue, "waiting": per_matter[code],
                            "wait_minutes": wait_minutes(ahead, minutes, len(self.directory.windows_for(hall, queue)))})
        return {**self._summary(hall, now, len(waiting), None),
                "week_hours": {k: spans(v) for k, v in hall.hours.items()},
                "windows": [{"number": w.number, "name": w.name, "queues": list(w.queues),
                             "matters": list(w.matters) if w.matters is not None else None, "open": w.number in opened}
                            for w in hall.windows],
                "matters": matters, "queues": {q.code: q.name for q in self.directory.queues.values()},
                "remote_radius_m": self.directory.rules.remote_radius_m}

    def places(self, matter_code: str) -> list[dict[str, Any]]:
        """Where and when a matter is handled in person (for its guide)."""
        out = []
        for h in self.directory.halls_for(matter_code):
            hours = "；".join(f"{WEEK_NAMES[k]} {'、'.join(spans(v))}" for k, v in h.hours.items() if v)
            out.append({"hall_id": h.id, "name": h.name, "address": h.address, "phone": h.phone,
                        "hours": hours if "holiday" in h.hours else f"{hours}（法定节假日除外）"})
        return out
