"""Storage of the service halls (MongoDB), shared by booking and queue: appointment slots
(a counter per hall, day, queue and period, taken only while below its quota), appointments
and the marker of each person's one live booking per matter, queue numbers (a counter per
hall, day and queue; one document per number, claimed by call-next in rank order), and which
clerk has opened which window.

"None" is stored as 0 (no window a number was transferred to) or "" (no clerk at a window),
never null: the embedded nx-27017 misses null equality in some compound queries."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from server.storage.mongo import CollectionSpec

SLOTS = CollectionSpec("hall_slots")
APPOINTMENTS = CollectionSpec("appointments", (
    IndexModel([("person_id", ASCENDING), ("start", DESCENDING)]),
    IndexModel([("hall", ASCENDING), ("code_idx", ASCENDING)]),
    IndexModel([("state", ASCENDING), ("end", ASCENDING)]),
))
LIVE = CollectionSpec("appointment_live")
NUMBERS = CollectionSpec("hall_numbers", (
    IndexModel([("hall", ASCENDING), ("day", ASCENDING), ("state", ASCENDING), ("rank", ASCENDING)]),
    IndexModel([("holder", ASCENDING), ("day", ASCENDING)]),
    IndexModel([("hall", ASCENDING), ("day", ASCENDING), ("queue", ASCENDING), ("state", ASCENDING),
                ("finished_at", DESCENDING)]),
))
COUNTERS = CollectionSpec("hall_counters")
WINDOWS = CollectionSpec("hall_windows")
COLLECTIONS = [SLOTS, APPOINTMENTS, LIVE, NUMBERS, COUNTERS, WINDOWS]


class HallStore:
    def __init__(self, db: AsyncDatabase):
        self._slots = db[SLOTS.name]
        self._appts = db[APPOINTMENTS.name]
        self._live = db[LIVE.name]
        self._numbers = db[NUMBERS.name]
        self._counters = db[COUNTERS.name]
        self._windows = db[WINDOWS.name]

    # -- slots ----------------------------------------------------------------------------------

    async def take_slot(self, slot_id: str, quota: int) -> bool:
        """One place of the slot, only while fewer than ``quota`` are taken (atomic)."""
        try:
            doc = await self._slots.find_one_and_update({"_id": slot_id, "booked": {"$lt": quota}},
                                                        {"$inc": {"booked": 1}}, upsert=True,
                                                        return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # the slot exists and is full: the upsert collided with it
            return False
        return doc is not None

    async def release_slot(self, slot_id: str) -> None:
        await self._slots.update_one({"_id": slot_id, "booked": {"$gt": 0}}, {"$inc": {"booked": -1}})

    async def slots_booked(self, slot_ids: list[str]) -> dict[str, int]:
        docs = await self._slots.find({"_id": {"$in": slot_ids}}).to_list() if slot_ids else []
        return {d["_id"]: int(d["booked"]) for d in docs}

    # -- appointments ------------------------------------------------------------------------------

    async def claim_live(self, person_id: str, matter: str, appt_id: str) -> str | None:
        """Mark ``appt_id`` as the person's live booking for the matter; the existing one if any."""
        try:
            await self._live.insert_one({"_id": f"{person_id}:{matter}", "appointment_id": appt_id})
            return None
        except DuplicateKeyError:
            doc = await self._live.find_one({"_id": f"{person_id}:{matter}"})
            return doc["appointment_id"] if doc else ""

    async def move_live(self, person_id: str, matter: str, old: str, new: str) -> bool:
        done = await self._live.update_one({"_id": f"{person_id}:{matter}", "appointment_id": old},
                                           {"$set": {"appointment_id": new}})
        return done.modified_count == 1

    async def release_live(self, person_id: str, matter: str, appt_id: str) -> None:
        await self._live.delete_one({"_id": f"{person_id}:{matter}", "appointment_id": appt_id})

    async def insert_appointment(self, doc: dict[str, Any]) -> None:
        await self._appts.insert_one(doc)

    async def appointment(self, appt_id: str) -> dict[str, Any] | None:
        return await self._appts.find_one({"_id": appt_id})

    async def appointment_by_code(self, hall: str, code_idx: str) -> dict[str, Any] | None:
        """The live booking at the hall with this check-in code."""
        return await self._appts.find_one({"hall": hall, "code_idx": code_idx, "state": "booked"})

    async def appointments_of(self, person_id: str, limit: int = 50) -> list[dict[str, Any]]:
        return await self._appts.find({"person_id": person_id}).sort("start", DESCENDING).limit(limit).to_list()

    async def update_appointment(self, appt_id: str, states: list[str], set_: dict[str, Any],
                                 version: int | None = None) -> dict[str, Any] | None:
        query: dict[str, Any] = {"_id": appt_id, "state": {"$in": states}}
        if version is not None:
            query["version"] = version
        return await self._appts.find_one_and_update(query, {"$set": set_, "$inc": {"version": 1}},
                                                     return_document=ReturnDocument.AFTER)

    async def no_shows_since(self, person_id: str, since_ms: int) -> list[dict[str, Any]]:
        return await self._appts.find({"person_id": person_id, "state": "no_show", "start": {"$gte": since_ms}}
                                      ).sort("start", DESCENDING).to_list()

    async def missed(self, before_ms: int, limit: int = 500) -> list[dict[str, Any]]:
        """Booked appointments whose check-in window has closed."""
        return await self._appts.find({"state": "booked", "end": {"$lt": before_ms}}).limit(limit).to_list()

    async def of_hall_day(self, hall: str, day: str) -> list[dict[str, Any]]:
        return await self._appts.find({"hall": hall, "day": day}).to_list()

    # -- numbers -----------------------------------------------------------------------------------

    async def next_seq(self, hall: str, day: str, queue: str) -> int:
        doc = await self._counters.find_one_and_update({"_id": f"{hall}:{day}:{queue}"}, {"$inc": {"n": 1}},
                                                       upsert=True, return_document=ReturnDocument.AFTER)
        return int(doc["n"])

    async def insert_number(self, doc: dict[str, Any]) -> None:
        await self._numbers.insert_one(doc)

    async def number(self, number_id: str) -> dict[str, Any] | None:
        return await self._numbers.find_one({"_id": number_id})

    async def live_number_of(self, holder: str, day: str) -> dict[str, Any] | None:
        return await self._numbers.find_one({"holder": holder, "day": day,
                                             "state": {"$in": ["waiting", "called", "serving"]}})

    async def numbers_of_holder(self, holder: str, day: str) -> list[dict[str, Any]]:
        return await self._numbers.find({"holder": holder, "day": day}).sort("issued_at", DESCENDING).to_list()

    async def claim_next(self, hall: str, day: str, queues: list[str], set_: dict[str, Any],
                         matters: list[str] | None = None) -> dict[str, Any] | None:
        """The waiting number of lowest rank in ``queues`` (of ``matters`` when given; not one
        transferred to a window), now the caller's: one caller wins."""
        query: dict[str, Any] = {"hall": hall, "day": day, "state": "waiting", "queue": {"$in": queues},
                                 "transfer_to": 0}
        if matters is not None:
            query["matter"] = {"$in": matters}
        return await self._numbers.find_one_and_update(query, {"$set": set_, "$inc": {"version": 1}},
                                                       sort=[("rank", ASCENDING)], return_document=ReturnDocument.AFTER)

    async def claim_transferred(self, hall: str, day: str, window: int, set_: dict[str, Any]) -> dict[str, Any] | None:
        return await self._numbers.find_one_and_update(
            {"hall": hall, "day": day, "state": "waiting", "transfer_to": window},
            {"$set": {**set_, "transfer_to": 0}, "$inc": {"version": 1}}, sort=[("rank", ASCENDING)],
            return_document=ReturnDocument.AFTER)

    async def update_number(self, number_id: str, states: list[str], set_: dict[str, Any],
                            version: int | None = None) -> dict[str, Any] | None:
        query: dict[str, Any] = {"_id": number_id, "state": {"$in": states}}
        if version is not None:
            query["version"] = version
        return await self._numbers.find_one_and_update(query, {"$set": set_, "$inc": {"version": 1}},
                                                       return_document=ReturnDocument.AFTER)

    async def waiting(self, hall: str, day: str, queue: str | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"hall": hall, "day": day, "state": "waiting"}
        if queue is not None:
            query["queue"] = queue
        return await self._numbers.find(query).sort("rank", ASCENDING).to_list()

    async def ahead_of(self, hall: str, day: str, queue: str, rank: int) -> int:
        return await self._numbers.count_documents({"hall": hall, "day": day, "state": "waiting", "queue": queue,
                                                    "rank": {"$lt": rank}})

    async def of_day(self, hall: str, day: str) -> list[dict[str, Any]]:
        """Every number of the day (statistics and the hall page only: the busy paths read less)."""
        return await self._numbers.find({"hall": hall, "day": day}).to_list()

    async def at_window(self, hall: str, day: str, window: int) -> list[dict[str, Any]]:
        """The numbers called to, or served at, a window now."""
        return await self._numbers.find({"hall": hall, "day": day, "state": {"$in": ["called", "serving"]},
                                         "window": window}).to_list()

    async def recent_done(self, hall: str, day: str, queue: str, limit: int) -> list[dict[str, Any]]:
        """The queue's last ``limit`` finished numbers (their service times estimate the waits)."""
        return await self._numbers.find({"hall": hall, "day": day, "queue": queue, "state": "done"}) \
            .sort("finished_at", DESCENDING).limit(limit).to_list()

    async def waiting_counts(self, hall: str, day: str, queues: list[str]) -> dict[str, int]:
        """People waiting per queue (a count each, on the index)."""
        return {q: await self._numbers.count_documents({"hall": hall, "day": day, "state": "waiting", "queue": q})
                for q in queues}

    async def recently_called(self, hall: str, day: str, limit: int = 8) -> list[dict[str, Any]]:
        return await self._numbers.find({"hall": hall, "day": day, "called_at": {"$gt": 0}}
                                        ).sort("called_at", DESCENDING).limit(limit).to_list()

    # -- windows -----------------------------------------------------------------------------------

    async def open_window(self, hall: str, window: int, clerk: str, clerk_name: str, at: int) -> dict[str, Any] | None:
        """The window is the clerk's (again) unless another clerk has it open."""
        key = f"{hall}:{window}"
        try:
            return await self._windows.find_one_and_update(
                {"_id": key, "clerk": {"$in": [clerk, ""]}},
                {"$set": {"hall": hall, "window": window, "clerk": clerk, "clerk_name": clerk_name, "opened_at": at}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            return None

    async def close_window(self, hall: str, window: int, clerk: str) -> bool:
        done = await self._windows.update_one({"_id": f"{hall}:{window}", "clerk": clerk}, {"$set": {"clerk": ""}})
        return done.modified_count == 1

    async def window(self, hall: str, window: int) -> dict[str, Any] | None:
        return await self._windows.find_one({"_id": f"{hall}:{window}"})

    async def windows_of(self, hall: str) -> list[dict[str, Any]]:
        return await self._windows.find({"hall": hall}).to_list()
