"""Chinese working days: weekends and statutory holidays are off, make-up days (调休) are
on. Sources, in order: ``data/holidays.json`` (a year the State Council has announced but
the ``chinesecalendar`` package does not know yet: commit the official dates there), the
maintained ``chinesecalendar`` package, and for an unknown year weekends alone (logged)."""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import chinese_calendar

log = logging.getLogger("superapp.calendar")
CHINA = timezone(timedelta(hours=8))
OFFICE_OPENS, OFFICE_CLOSES = time(9), time(18)  # the hours working-hour limits count
_warned: set[int] = set()
HOLIDAYS_FILE = Path(__file__).with_name("data") / "holidays.json"


def load_overrides(path: Path) -> dict[int, tuple[frozenset[date], frozenset[date]]]:
    """{year: (days off, make-up working days)}; a malformed file stops start-up."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for year, spec in raw.get("years", {}).items():
        off = frozenset(date.fromisoformat(d) for d in spec["off"])
        on = frozenset(date.fromisoformat(d) for d in spec["on"])
        if any(d.year != int(year) for d in off | on) or off & on:
            raise ValueError(f"{path}: year {year} lists a day of another year, or a day both off and on")
        out[int(year)] = (off, on)
    return out


OVERRIDES = load_overrides(HOLIDAYS_FILE)


def is_workday(day: date) -> bool:
    if day.year in OVERRIDES:
        off, on = OVERRIDES[day.year]
        return day in on or (day.weekday() < 5 and day not in off)
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("no holiday data for %s: counting weekends only (update chinesecalendar)", day.year)
        return day.weekday() < 5


def day_kind(day: date) -> str:
    """``workday`` (including a 调休 make-up weekend day), ``holiday`` (a statutory holiday,
    weekends inside its period included) or ``weekend`` (an ordinary Saturday or Sunday)."""
    if is_workday(day):
        return "workday"
    if day.year in OVERRIDES:
        return "holiday" if day in OVERRIDES[day.year][0] else "weekend"
    try:
        return "holiday" if chinese_calendar.get_holiday_detail(day)[1] is not None else "weekend"
    except NotImplementedError:
        return "weekend" if day.weekday() >= 5 else "workday"


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself does not count)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        return -working_days_between(end, start)
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        n += is_workday(day)
    return n


def end_of_working_day(day: date) -> datetime:
    """When a limit "by the n-th working day" ends: that day's office closing, Beijing time."""
    return datetime.combine(day, OFFICE_CLOSES, CHINA)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """``hours`` of office time (09:00-18:00 on working days, Beijing time) after ``start``."""
    t = start.astimezone(CHINA)
    left = timedelta(hours=hours)
    while True:
        if not is_workday(t.date()) or t.time() >= OFFICE_CLOSES:
            day = t.date() + timedelta(days=1)
            while not is_workday(day):
                day += timedelta(days=1)
            t = datetime.combine(day, OFFICE_OPENS, CHINA)
            continue
        if t.time() < OFFICE_OPENS:
            t = datetime.combine(t.date(), OFFICE_OPENS, CHINA)
        available = datetime.combine(t.date(), OFFICE_CLOSES, CHINA) - t
        if left <= available:
            return t + left
        left -= available
        t = datetime.combine(t.date(), OFFICE_CLOSES, CHINA)
