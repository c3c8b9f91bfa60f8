"""The hall's clients for ``bench/halls.py``: two kiosks (each with the phone of whoever
stands at it), the 导服台 and a clerk per window, on keep-alive connections; a stretch of the
morning played closed loop, or one number at a time; the day topped up with finished numbers;
the day's sequence numbers checked. See ``bench/halls.py`` for what is measured."""
from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import defaultdict
from datetime import datetime

from scale import Conn

HALL = "gz-hall-tianhe"
PERSON_MATTERS = ["440100-GA-0012", "440100-RS-0033", "440100-GJJ-0011", "440100-GA-0031", "440100-SJ-0101",
                  "440100-MZ-0005", "440100-GA-0041"]
ENTERPRISE_MATTERS = ["440100-SJ-0207", "440100-RS-0052"]
BUSY_MORNING = 600  # numbers a busy hall takes in a morning
MORNING_HOURS = 4
WINDOWS = 10


class HallConn(Conn):
    """A keep-alive connection that reconnects after the server closed it (status 0)."""

    async def request(self, *args, **kw) -> tuple[int, bytes]:  # noqa: ANN002, ANN003
        try:
            return await super().request(*args, **kw)
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.close()
            self.writer = None
            return 0, b""


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


class Morning:
    """The hall's clients: two kiosks (each with the phone of whoever stands at it), the 导服台
    and a clerk per window; ``segment`` plays a stretch of the morning, closed loop."""

    def __init__(self, port: int, kiosk: str, guide: str, clerks: list[str], people: list[str], line: int,
                 slots: list[dict]):
        self.port, self.kiosk, self.guide, self.clerks = port, kiosk, guide, clerks
        self.free = list(range(len(people)))
        random.shuffle(self.free)
        self.people, self.line, self.slots = people, line, slots
        self.owner: dict[str, int] = {}  # number id -> person index (back to the pool when finished)
        self.person_freed = asyncio.Event()
        self.conns = {"kiosks": [(HallConn(port), HallConn(port)) for _ in range(2)], "desk": HallConn(port),
                      "windows": [HallConn(port) for _ in clerks]}
        self.reset(0)

    def reset(self, target: int, seconds: float = 0) -> None:
        self.target = target
        self.deadline = time.perf_counter() + seconds if seconds else float("inf")
        self.timed_out = False
        self.issued = self.taken = self.called = self.finished = 0  # arrivals started, numbers issued
        self.arrived = False  # every arrival of the segment has been through
        self.lat: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.empty_calls = 0

    def close(self) -> None:
        for k, phone in self.conns["kiosks"]:
            k.close()
            phone.close()
        self.conns["desk"].close()
        for c in self.conns["windows"]:
            c.close()

    async def timed(self, conn: Conn, kind: str, method: str, path: str, body: dict | None, token: str,
                    ok=(200, 201), headers: dict[str, str] | None = None) -> tuple[int, dict | None]:
        t0 = time.perf_counter()
        status, raw = await conn.request(method, path, json.dumps(body).encode() if body is not None else b"",
                                         headers={"Authorization": f"Bearer {token}", **(headers or {})})
        dt = time.perf_counter() - t0
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        if status in ok:
            self.lat[kind].append(dt)
        elif not (kind == "call-next" and answer.get("code") == "queue_empty"):
            self.errors[f"{kind} {status} {answer.get('code', '')}".strip()] += 1
        return status, answer

    async def person(self) -> int:
        while not self.free:
            self.person_freed.clear()
            await self.person_freed.wait()
        return self.free.pop()

    def took(self, number: dict, who: int | None) -> None:
        self.taken += 1
        if who is not None:
            self.owner[number["id"]] = who

    # -- arrivals -----------------------------------------------------------------------------------

    async def by_code(self, kiosk: Conn, phone: Conn, who: int, body: dict) -> tuple[int, dict | None]:
        """The phone shows the person code, the kiosk scans it and takes the number."""
        _, code = await self.timed(phone, "person code", "GET", "/api/v1/codes/person", None, self.people[who])
        if not code.get("code"):
            return 0, None
        _, scan = await self.timed(kiosk, "scan", "POST", "/api/v1/scans", {"code": code["code"]}, self.kiosk)
        if not scan.get("scan_id"):
            return 0, None
        return await self.timed(kiosk, "take: kiosk, person code", "POST", "/api/v1/kiosk/numbers",
                                {"scan_id": scan["scan_id"], **body}, self.kiosk, ok=(201,))

    async def walk_in(self, kiosk: Conn, phone: Conn) -> None:
        who = await self.person()
        status, number = await self.by_code(kiosk, phone, who, {"matter": random.choice(PERSON_MATTERS)})
        if status == 201:
            self.took(number, who)
        else:
            self.free.append(who)

    async def booked(self, kiosk: Conn, phone: Conn) -> None:
        who = await self.person()
        now = time.time()
        slot = next(s for s in self.slots if s["start"] > now)  # the next period: check-in opens 30 min before
        status, appt = await self.timed(phone, "book", "POST", "/api/v1/appointments",
                                        {"hall": HALL, "matter": random.choice(PERSON_MATTERS), "day": slot["day"],
                                         "time": slot["time"]}, self.people[who], ok=(201,),
                                        headers={"Idempotency-Key": uuid.uuid4().hex})
        if status != 201:
            self.free.append(who)
            return
        if random.random() < 2 / 3:
            status, number = await self.timed(kiosk, "take: kiosk, check-in code", "POST", "/api/v1/kiosk/numbers",
                                              {"checkin_code": appt["code"]}, self.kiosk, ok=(201,))
        else:
            status, number = await self.by_code(kiosk, phone, who, {})
        if status == 201 and number["appointment_id"] == appt["id"]:
            self.took(number, who)
        else:
            self.errors["booking not checked in"] += 1
            self.free.append(who)

    async def at_desk(self, desk: Conn) -> None:
        r = random.random()
        body = {"matter": random.choice(ENTERPRISE_MATTERS if r < 0.1 else PERSON_MATTERS),
                "name": random.choice("李王张刘陈杨黄赵周吴") + "先生"}
        if 0.1 <= r < 0.2:
            body["green"] = random.choice(["disabled", "pregnant", "elderly"])
        status, number = await self.timed(desk, "take: 导服台", "POST", f"/api/v1/staff/halls/{HALL}/numbers", body,
                                          self.guide, ok=(201,))
        if status == 201:
            self.took(number, None)

    async def arrivals(self) -> None:
        kiosks: asyncio.Queue = asyncio.Queue()
        for pair in self.conns["kiosks"]:
            kiosks.put_nowait(pair)
        desk = asyncio.Lock()
        running: set[asyncio.Task] = set()

        async def at_kiosk(kind: str) -> None:
            k, phone = await kiosks.get()
            try:
                await (self.walk_in(k, phone) if kind == "walk_in" else self.booked(k, phone))
            finally:
                kiosks.put_nowait((k, phone))

        async def at_the_desk() -> None:
            async with desk:
                await self.at_desk(self.conns["desk"])

        while self.issued < self.target and time.perf_counter() < self.deadline:
            if self.taken + len(running) - self.called >= self.line or len(running) >= 3:
                await asyncio.sleep(0.01)
                continue
            self.issued += 1
            r = random.random()
            job = at_kiosk("walk_in") if r < 0.55 else at_kiosk("booked") if r < 0.85 else at_the_desk()
            task = asyncio.ensure_future(job)
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)
        self.arrived = True

    # -- the windows --------------------------------------------------------------------------------

    def base(self, n: int) -> str:
        return f"/api/v1/staff/halls/{HALL}/windows/{n}"

    async def open_windows(self, action: str = "open") -> None:
        for n, (token, conn) in enumerate(zip(self.clerks, self.conns["windows"]), 1):
            status, answer = await self.timed(conn, f"{action} window", "POST", f"{self.base(n)}/{action}", None, token)
            assert status == 200, f"window {n} did not {action}: {answer}"

    async def call_one(self, n: int) -> bool:
        """Call-next, serve, finish at window ``n``; False when the queue is empty."""
        token, conn, base = self.clerks[n - 1], self.conns["windows"][n - 1], self.base(n)
        status, called = await self.timed(conn, "call-next", "POST", f"{base}/call-next", None, token, ok=(200,))
        if status != 200:
            if called.get("code") == "queue_empty":
                self.empty_calls += 1
            return False  # empty, or failed (counted in the errors)
        self.called += 1
        number = called
        for _ in range(10):  # serve, finish; after a failed answer, the console says where it stands
            if number["state"] not in ("called", "serving"):
                break
            action = "serve" if number["state"] == "called" else "finish"
            status, answer = await self.timed(conn, action, "POST", f"{base}/numbers/{number['id']}/{action}",
                                              {"version": number["version"]}, token)
            if status == 200:
                number = answer
                continue
            await asyncio.sleep(0.5)
            status, console = await self.timed(conn, "console", "GET", base, None, token)
            if status == 200:
                number = next((c for c in console["current"] if c["id"] == number["id"]), {"state": "done"})
        else:
            self.errors["number left at a window"] += 1
        self.finished += 1
        who = self.owner.pop(called["id"], None)
        if who is not None:
            self.free.append(who)
            self.person_freed.set()
        return True

    async def window(self, n: int) -> None:
        while not (self.arrived and self.finished >= self.taken):
            if time.perf_counter() > self.deadline:
                self.timed_out = True
                return
            if not await self.call_one(n):
                await asyncio.sleep(2)  # nobody waiting (or it failed): the clerk presses again a little later

    async def segment(self, numbers: int, seconds: float) -> float:
        """``numbers`` arrivals keeping the line, every window calling, until all are finished
        (or ``seconds`` have gone by)."""
        self.reset(numbers, seconds)
        t0 = time.perf_counter()
        await asyncio.gather(self.arrivals(), *(self.window(n) for n in range(1, len(self.clerks) + 1)))
        return time.perf_counter() - t0

    async def probe(self, numbers: int) -> None:
        """Latency with nothing else going on: one number at a time at the 导服台, then window 1
        calls it (what each request costs at this size of the day, without queueing)."""
        self.reset(numbers)
        for _ in range(numbers):
            await self.at_desk(self.conns["desk"])
        for _ in range(numbers):
            await self.call_one(1)


async def prefill(mongo_uri: str, database: str, day: str, to: int) -> int:
    """Top the day up to ``to`` numbers with finished ones (the earlier part of the morning),
    shaped as the queue writes them; their sequence numbers come from the same counters."""
    from pymongo import AsyncMongoClient, ReturnDocument

    client = AsyncMongoClient(mongo_uri)
    try:
        db = client[database]
        have = await db.hall_numbers.count_documents({"hall": HALL, "day": day})
        need = to - have
        if need <= 0:
            return have
        per_queue = {"A": 0, "B": 0, "V": 0}
        for _ in range(need):
            r = random.random()
            per_queue["B" if r < 0.05 else "V" if r < 0.1 else "A"] += 1
        midnight = datetime.fromisoformat(f"{day}T09:00:00+08:00").timestamp() * 1000
        docs = []
        for queue, k in per_queue.items():
            if not k:
                continue
            top = (await db.hall_counters.find_one_and_update({"_id": f"{HALL}:{day}:{queue}"}, {"$inc": {"n": k}},
                                                              upsert=True, return_document=ReturnDocument.AFTER))["n"]
            for seq in range(top - k + 1, top + 1):
                issued = int(midnight + random.random() * 3 * 3600_000)
                called, service = issued + random.randint(60, 1800) * 1000, random.randint(120, 900)
                matter = random.choice(ENTERPRISE_MATTERS if queue == "B" else PERSON_MATTERS)
                docs.append({"_id": "n" + uuid.uuid4().hex[:24], "hall": HALL, "day": day, "queue": queue, "seq": seq,
                             "label": f"{queue}{seq:03d}", "rank": 2 * 10**13 + issued, "matter": matter,
                             "matter_name": matter, "holder": None, "person_id": None, "name_masked": "李*",
                             "source": "desk", "appointment_id": None, "green": "elderly" if queue == "V" else None,
                             "state": "done", "window": random.randint(1, WINDOWS), "transfer_to": 0,
                             "clerk": "staff:bench", "issued_at": issued, "called_at": called,
                             "served_at": called + 30_000, "finished_at": called + 30_000 + service * 1000,
                             "service_seconds": service, "skips": 0, "calls": 1, "version": 4})
        for i in range(0, len(docs), 500):
            await db.hall_numbers.insert_many(docs[i:i + 500], ordered=False)
        return to
    finally:
        await client.close()


async def integrity(mongo_uri: str, database: str, day: str) -> dict[str, str]:
    """Per queue: the sequence numbers of the day are 1..n, each once."""
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_uri)
    try:
        out = {}
        seqs: dict[str, list[int]] = defaultdict(list)
        async for d in client[database].hall_numbers.find({"hall": HALL, "day": day}, {"queue": 1, "seq": 1}):
            seqs[d["queue"]].append(d["seq"])
        for q, v in sorted(seqs.items()):
            dup, gaps = len(v) - len(set(v)), len(set(range(1, max(v) + 1)) - set(v))
            out[q] = f"{len(v)} numbers, {dup} duplicates, {gaps} gaps"
        return out
    finally:
        await client.close()
