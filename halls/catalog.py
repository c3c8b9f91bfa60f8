"""The service-hall map (``config/catalog/halls.json``): halls, their opening hours by kind of
day (working days — 调休 make-up days included —, ordinary Saturdays and Sundays; closed on
statutory holidays unless the hall lists ``holiday`` hours, as a 24-hour self-service area
does), windows and the queues and matters each serves, appointment quotas per
period, and the rules (booking horizon, change deadline, check-in window, no-show limits,
the remote number-taking radius, 绿色通道 age). Validated at load against the matters
catalog: a hall naming an unknown matter or queue stops start-up."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from matters.catalog import MatterCatalog
from server.calendar import CHINA, day_kind
from server.config import ConfigError

WEEKEND = {5: "sat", 6: "sun"}


@dataclass(frozen=True)
class Rules:
    period_minutes: int = 30
    book_days_ahead: int = 7
    change_until_minutes_before: int = 60
    checkin_early_minutes: int = 30
    checkin_late_minutes: int = 15
    no_show_limit: int = 3
    no_show_window_days: int = 90
    block_days: int = 7
    remote_radius_m: int = 1000
    service_minutes_default: int = 8
    green_age: int = 65
    green_certificates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Queue:
    code: str
    name: str
    target: str  # person | enterprise | green


@dataclass(frozen=True)
class Window:
    number: int
    name: str
    queues: tuple[str, ...]
    matters: tuple[str, ...] | None  # None: every matter of the hall (综合窗口)


@dataclass(frozen=True)
class Hall:
    id: str
    name: str
    region_code: str
    address: str
    lat: float
    lng: float
    phone: str
    hours: dict[str, tuple[tuple[int, int], ...]]  # kind of day -> spans in minutes of the day (0-1440)
    accessibility: tuple[str, ...]
    quota: dict[str, int]
    windows: tuple[Window, ...]
    matters: tuple[str, ...]
    displays: tuple[str, ...] = field(default=())

    def window(self, number: int) -> Window | None:
        return next((w for w in self.windows if w.number == number), None)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine; good to a few metres within a city)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


class HallDirectory:
    def __init__(self, halls: list[Hall], queues: list[Queue], rules: Rules, matters: MatterCatalog):
        self.halls = {h.id: h for h in halls}
        self.queues = {q.code: q for q in queues}
        self.rules = rules
        self.matters = matters

    def get(self, hall_id: str) -> Hall | None:
        return self.halls.get(hall_id)

    # -- opening hours ------------------------------------------------------------------------

    def hours_on(self, hall: Hall, day: date) -> tuple[tuple[int, int], ...]:
        kind = day_kind(day)
        if kind != "workday" and kind != "weekend":
            return hall.hours.get("holiday", ())
        return hall.hours.get("workday" if kind == "workday" else WEEKEND[day.weekday()], ())

    def is_open(self, hall: Hall, at: datetime) -> bool:
        local = at.astimezone(CHINA)
        minute = local.hour * 60 + local.minute
        return any(a <= minute < b for a, b in self.hours_on(hall, local.date()))

    def periods(self, hall: Hall, day: date) -> list[tuple[datetime, datetime]]:
        """The appointment periods of a day: each opening span cut into ``period_minutes``."""
        step = self.rules.period_minutes
        midnight = datetime.combine(day, time(0), CHINA)
        out = []
        for a, b in self.hours_on(hall, day):
            m = a
            while m + step <= b:
                out.append((midnight + timedelta(minutes=m), midnight + timedelta(minutes=m + step)))
                m += step
        return out

    # -- queues and matters ----------------------------------------------------------------------

    def queue_of(self, matter_code: str) -> str:
        """The queue a matter's visitors wait in: 企业 matters in B, the rest in A."""
        matter = self.matters.get(matter_code)
        target = "enterprise" if matter is not None and matter.target == "enterprise" else "person"
        return next(q.code for q in self.queues.values() if q.target == target)

    def green_queue(self) -> str:
        return next(q.code for q in self.queues.values() if q.target == "green")

    def windows_for(self, hall: Hall, queue: str) -> list[Window]:
        return [w for w in hall.windows if queue in w.queues]

    def halls_for(self, matter_code: str) -> list[Hall]:
        return [h for h in self.halls.values() if matter_code in h.matters]


def minutes(hhmm: str) -> int:
    """"09:30" -> 570; "24:00" is the end of the day (1440)."""
    h, m = (int(x) for x in hhmm.split(":"))
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > 1440:
        raise ValueError(hhmm)
    return h * 60 + m


def hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _span(raw: list[str], where: str) -> tuple[int, int]:
    try:
        a, b = minutes(raw[0]), minutes(raw[1])
    except ValueError:
        raise ConfigError(f"{where}: opening times are HH:MM (00:00-24:00): {raw}") from None
    if not a < b:
        raise ConfigError(f"{where}: an opening span must end after it starts: {raw}")
    return a, b


def load_halls(path: Path, matters: MatterCatalog) -> HallDirectory:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    d = raw.get("defaults", {})
    rules = Rules(**{**d, "green_certificates": tuple(d.get("green_certificates", ()))})
    queues = [Queue(q["code"], q["name"], q["target"]) for q in raw["queues"]]
    codes = {q.code for q in queues}
    if {q.target for q in queues} != {"person", "enterprise", "green"}:
        raise ConfigError(f"{path}: the queues must cover person, enterprise and green")
    halls = []
    for h in raw["halls"]:
        where = f"{path}: hall {h['id']}"
        unknown = [m for m in h["matters"] if matters.get(m) is None]
        if unknown:
            raise ConfigError(f"{where}: unknown matters {unknown}")
        windows = []
        for w in h["windows"]:
            if not set(w["queues"]) <= codes:
                raise ConfigError(f"{where}: window {w['number']} serves an unknown queue")
            served = None if w["matters"] == "*" else tuple(w["matters"])
            if served is not None and not set(served) <= set(h["matters"]):
                raise ConfigError(f"{where}: window {w['number']} serves a matter the hall does not handle")
            windows.append(Window(int(w["number"]), w["name"], tuple(w["queues"]), served))
        unknown_days = set(h["hours"]) - {"workday", "sat", "sun", "holiday"}
        if unknown_days:
            raise ConfigError(f"{where}: hours are for workday, sat, sun and holiday, not {sorted(unknown_days)}")
        hours = {k: tuple(_span(s, where) for s in v) for k, v in h["hours"].items()}
        halls.append(Hall(id=h["id"], name=h["name"], region_code=h["region_code"], address=h["address"],
                          lat=float(h["lat"]), lng=float(h["lng"]), phone=h["phone"], hours=hours,
                          accessibility=tuple(h.get("accessibility", ())), quota=dict(h["quota"]),
                          windows=tuple(windows), matters=tuple(h["matters"]), displays=tuple(h.get("displays", ()))))
    return HallDirectory(halls, queues, rules, matters)
