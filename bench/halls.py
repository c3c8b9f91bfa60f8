"""Service halls: one hall's morning at 10x a busy hall's volume — take-a-number and call-next
against a bare Tornado JSON endpoint measured in the same run.

    .venv/bin/python bench/halls.py [--numbers 6000] [--points 4] [--segment 100] [--probe 10]
                                    [--segment-seconds 180] [--line 40] [--people 120]
    make bench-halls BENCH_ARGS="…"

A busy hall takes ~600 numbers in a 4-hour morning with 10 windows (2.5 a minute); 10x that
is 6000 numbers, 25 a minute (0.42 calls/s). What a number costs depends on how many the hall
has taken that day, so the bench plays the morning at ``--points`` places (0, 1/4, 1/2 and 3/4
of the 6000): the day is topped up with finished numbers of the earlier morning (written into
``hall_numbers`` as the queue writes them, their sequence numbers taken from the same
counters), then
  * probe: ``--probe`` numbers taken at the 导服台 one at a time, then called, served and
    finished one at a time at window 1 — each request's cost with nothing else going on;
  * segment: ``--segment`` numbers closed loop — two kiosks and the 导服台 keep ``--line``
    people waiting, all 10 windows call-next, serve, finish as fast as the answers come (a
    clerk facing an empty queue presses again 2 s later); it ends when they are all finished
    or after ``--segment-seconds``. Printed: calls/s, and how many times the 10x rate that is.
Arrivals in a segment: 55 % walk-ins (the phone shows the person code, the kiosk scans it and
takes a number), 30 % bookings (the phone books the next period, then the kiosk takes the
number by the typed check-in code, or one time in three by scanning the person code), 15 % at
the 导服台 (a name only; one in five 绿色通道 or an enterprise matter). A resident is back in
the pool once their number is finished. "take" is the POST that issues a number (kiosk or
desk), not the code or scan before it. Latencies are per request, client side.

Starts embedded MongoDB-wire and Redis servers (or uses MONGODB_URI / REDIS_URL), the app as
one web process (``SUPERAPP_PROCESS__ROLE=web``) and, once it is up, one worker (it sends the
"your number is called" notifications); a catalog override (a temp file,
``SUPERAPP_HALLS__CATALOG_FILE``) in which the Tianhe hall never closes and has 10 windows (1-2
绿色通道 + 综合, 3-8 综合, 9-10 企业 + 综合) and a quota no booking runs out of; and a bare
Tornado app as one process, driven by the same closed loop as ``bench/scan.py`` with as many
connections as the hall has clients (and with one, for the probes) before and after. Prepares
a clerk per window (staff records written by the demo loader, as ``config/demo/staff.json`` is:
one clerk, one window), ``--people`` residents (SMS login + real name, L2; one in twenty 65 or
over, so 绿色通道 by birth date), the demo kiosk kiosk-th-01 and the 导服台 th.daofu. At the end
it checks every queue of the day: sequence numbers 1..n, each once.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
# The project root goes before bench/ (this script's directory, where scale.py, scan.py and
# halls_morning.py are found), or this file would stand in for the ``halls`` package.
sys.path.insert(0, str(ROOT))

from halls_morning import (BUSY_MORNING, HALL, MORNING_HOURS, PERSON_MATTERS, WINDOWS, Morning,  # noqa: E402
                           integrity, pct, prefill)
from scale import cpu_seconds  # noqa: E402
from scan import BARE_APP, load  # noqa: E402

from server.calendar import CHINA  # noqa: E402
from server.embedded import EmbeddedMongo, EmbeddedRedis, free_port  # noqa: E402
from tests.fleet import wait_http  # noqa: E402
from tests.support import Api, kiosk_token, make_id_number, staff_token, verified_person  # noqa: E402


def catalog(path: Path) -> Path:
    """The demo halls with Tianhe never closed, 10 windows, quotas no booking runs out of."""
    raw = json.loads((ROOT / "config" / "catalog" / "halls.json").read_text(encoding="utf-8"))
    for hall in raw["halls"]:
        if hall["id"] == HALL:
            hall["hours"] = {k: [["00:00", "24:00"]] for k in ("workday", "sat", "sun", "holiday")}
            hall["quota"] = {"A": 5000, "B": 5000}
            queues = {1: ["V", "A"], 2: ["V", "A"], 9: ["B", "A"], 10: ["B", "A"]}
            hall["windows"] = [{"number": n, "name": f"{n} 号{'企业服务' if n >= 9 else '综合'}窗口",
                                "queues": queues.get(n, ["A"]), "matters": "*"} for n in range(1, WINDOWS + 1)]
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


async def prepare(mongo_uri: str, redis_url: str, env: dict[str, str], api: Api, people: int):
    """Clerks (one per window) and L2 residents."""
    import pyotp

    from server.config import load_settings
    from superapp.context import Clients
    from superapp.demo import DemoData, DemoResident, DemoStaff, load_demo

    settings = load_settings(environ=env)
    clients = Clients.make(settings, mongo_uri, redis_url)
    try:
        clerks = [DemoStaff(username=f"bench.ck{n:02d}", name=f"窗口{n}号", department=HALL,
                            department_name="天河区政务服务中心", roles=["window", "clerk"],
                            password="Bench@2026clerk", totp_secret=pyotp.random_base32())
                  for n in range(1, WINDOWS + 1)]
        residents = []
        for i in range(people):
            year = random.randint(1940, 1958) if i % 20 == 0 else random.randint(1965, 2004)
            idn = make_id_number(birth=f"{year}{random.randint(1, 12):02d}{random.randint(1, 28):02d}")
            name = "办事" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉戌亥"[i // 10 % 12]
            residents.append(DemoResident(name=name, id_number=idn, phone="139" + f"{random.randrange(10**8):08d}",
                                          gender="男" if int(idn[16]) % 2 else "女",
                                          address="广东省广州市天河区测试路 1 号",
                                          birth_date=f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}"))
        await load_demo(clients, DemoData(residents=residents, enterprises=[], staff=clerks, devices=[], issuers=[]))
    finally:
        await clients.close()
    persons = []
    for i in range(0, people, 8):
        persons += await asyncio.gather(*(verified_person(api, r) for r in residents[i:i + 8]))
    clerk_tokens = [await staff_token(api, c) for c in clerks]
    return clerk_tokens, [p["access_token"] for p in persons]


def summary(lat: dict[str, list[float]], kinds) -> tuple[int, float, float]:  # noqa: ANN001
    xs = [x for k, v in lat.items() if k in kinds or any(k.startswith(p) for p in kinds) for x in v]
    return len(xs), 1000 * pct(xs, 0.5), 1000 * pct(xs, 0.99)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=BUSY_MORNING * 10, help="numbers the whole morning takes")
    ap.add_argument("--points", type=int, default=4, help="stretches played, at 0, 1/n, 2/n … of the morning")
    ap.add_argument("--segment", type=int, default=100, help="numbers played closed loop at each point")
    ap.add_argument("--probe", type=int, default=10, help="numbers taken and called one at a time at each point")
    ap.add_argument("--segment-seconds", type=float, default=180, help="a stretch ends after this, finished or not")
    ap.add_argument("--line", type=int, default=40, help="people waiting the arrivals keep")
    ap.add_argument("--people", type=int, default=120, help="residents with a phone (reused once served)")
    ap.add_argument("--bare-seconds", type=float, default=5)
    ap.add_argument("--seed", type=int, default=20261206)
    args = ap.parse_args()
    random.seed(args.seed)

    tmp = Path(tempfile.mkdtemp(prefix="bench-halls-"))
    started = []
    mongo_uri, redis_url = os.environ.get("MONGODB_URI", ""), os.environ.get("REDIS_URL", "")
    if not mongo_uri:
        started.append(EmbeddedMongo(tmp))
        await started[-1].start()
        mongo_uri = started[-1].uri
    if not redis_url:
        started.append(EmbeddedRedis(tmp))
        await started[-1].start()
        redis_url = started[-1].uri
    app_port, bare_port = free_port(), free_port()
    database = "bench_halls"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")},
           "MONGODB_URI": mongo_uri, "REDIS_URL": redis_url, "SUPERAPP_HTTP__PORT": str(app_port),
           "SUPERAPP_MONGODB__DATABASE": database, "SUPERAPP_REDIS__KEY_PREFIX": "bhalls:",
           "SUPERAPP_HALLS__CATALOG_FILE": str(catalog(tmp / "halls.json")),
           "SUPERAPP_TOKENS__ACCESS_TTL_SECONDS": "3600",
           "SUPERAPP_SMS__HOURLY_SENDS_PER_IP": "10000", "SUPERAPP_SMS__VERIFIES_PER_IP_PER_MINUTE": "10000",
           "SUPERAPP_SMS__RESEND_INTERVAL_SECONDS": "1"}
    log = open(tmp / "app.log", "wb")
    devnull = subprocess.DEVNULL
    app = subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT, env={**env, "SUPERAPP_PROCESS__ROLE": "web"},
                           stdout=devnull, stderr=log)
    bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port)], stdout=devnull, stderr=devnull)
    worker = None
    results = []
    try:
        # The worker starts once the web process has loaded the demo data: two processes loading
        # it into a fresh database at once can trip over each other's demo certificates.
        wait_http(f"http://127.0.0.1:{app_port}/readyz", 120)
        worker = subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT,
                                  env={**env, "SUPERAPP_PROCESS__ROLE": "worker", "SUPERAPP_HTTP__PORT": "0"},
                                  stdout=devnull, stderr=log)
        wait_http(f"http://127.0.0.1:{bare_port}/bare", 60)
        api = Api(f"http://127.0.0.1:{app_port}")
        print(f"preparing {WINDOWS} clerks and {args.people} residents …", flush=True)
        clerks, people = await prepare(mongo_uri, redis_url, env, api, args.people)
        devices = {d["device_id"]: d for d in json.loads((ROOT / "config/demo/devices.json").read_text())["items"]}
        staff = {s["username"]: s for s in json.loads((ROOT / "config/demo/staff.json").read_text())["items"]}
        kiosk = await kiosk_token(api, SimpleNamespace(**{k: devices["kiosk-th-01"][k]
                                                          for k in ("device_id", "private_key_pem")}))
        guide = await staff_token(api, SimpleNamespace(**staff["th.daofu"]))
        resp = await api.get(f"/api/v1/halls/{HALL}/slots?matter={PERSON_MATTERS[0]}")
        slots = [{**s, "start": datetime.fromisoformat(f"{s['day']}T{s['time']}:00+08:00").timestamp()}
                 for s in resp.json()["items"]]
        api.close()
        day = datetime.fromtimestamp(time.time(), CHINA).date().isoformat()

        clients_n = WINDOWS + 5  # 10 clerks, 2 kiosks with the phones in front of them, the 导服台
        bare_body = iter(lambda: b'{"matter": "440100-GA-0012", "name": "bare"}', None)
        await load(bare_port, "/bare", bare_body, {}, 1, 4)  # warm-up
        bare_rounds = [await load(bare_port, "/bare", bare_body, {}, args.bare_seconds, clients_n)]
        bare_one = [await load(bare_port, "/bare", bare_body, {}, args.bare_seconds, 1)]

        pids = {"web": app.pid, "worker": worker.pid, "load generator": os.getpid()}
        pids.update({s.slug: s.proc.pid for s in started if getattr(s, "proc", None) is not None})
        hall = Morning(app_port, kiosk, guide, clerks, people, args.line, slots)
        await hall.open_windows()
        for i in range(args.points):
            at = await prefill(mongo_uri, database, day, args.numbers * i // args.points)
            print(f"the day at {at} numbers: {args.probe} one at a time, then {args.segment} closed loop …",
                  flush=True)
            await hall.probe(args.probe)
            probe = (dict(hall.lat), dict(hall.errors))
            cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
            elapsed = await hall.segment(args.segment, args.segment_seconds)
            cpu = {k: (cpu_seconds(p) - cpu0[k]) / elapsed for k, p in pids.items()}
            results.append({"at": at, "probe": probe[0], "probe_errors": probe[1], "lat": dict(hall.lat),
                            "errors": dict(hall.errors), "elapsed": elapsed, "timed_out": hall.timed_out,
                            "finished": hall.finished, "taken": hall.taken, "cpu": cpu, "empty": hall.empty_calls,
                            "calls": len(hall.lat["call-next"]),
                            "requests": sum(len(v) for v in hall.lat.values()) + hall.empty_calls})
        await hall.open_windows("close")
        hall.close()
        checked = await integrity(mongo_uri, database, day)
        bare_rounds.append(await load(bare_port, "/bare", bare_body, {}, args.bare_seconds, clients_n))
        bare_one.append(await load(bare_port, "/bare", bare_body, {}, args.bare_seconds, 1))
    finally:
        for proc in (app, worker, bare):
            if proc is None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for s in reversed(started):
            await s.stop()

    def med(rounds: list[dict], k: str) -> float:
        return statistics.median(r[k] for r in rounds)

    bare_rps, bare_p50, bare_p99 = med(bare_rounds, "rps"), med(bare_rounds, "p50_ms"), med(bare_rounds, "p99_ms")
    one_p50, one_p99 = med(bare_one, "p50_ms"), med(bare_one, "p99_ms")
    needed = BUSY_MORNING * 10 / (MORNING_HOURS * 3600)
    take = ("take",)
    print(f"\none hall's morning at 10x a busy hall: {args.numbers} numbers in {MORNING_HOURS} h "
          f"({needed:.2f} calls/s), {WINDOWS} windows; played at {args.points} points of the morning "
          f"(the day topped up with finished numbers), one web process + one worker, "
          f"{os.cpu_count()} CPUs shared by everything\n")
    print(f"bare Tornado JSON, {clients_n} connections closed loop (before/after): "
          + ", ".join(f"{r['rps']:.0f} req/s p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms" for r in bare_rounds))
    print("bare Tornado JSON, 1 connection (before/after): "
          + ", ".join(f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms" for r in bare_one))
    print(f"\none at a time ({args.probe} numbers at the 导服台, called at one window; ratio to the bare "
          f"endpoint on 1 connection)")
    print(f"{'day at':>8}{'take p50':>10}{'take p99':>10}{'call p50':>10}{'call p99':>10}"
          f"{'take/bare':>11}{'call/bare':>11}")
    for r in results:
        _, t50, t99 = summary(r["probe"], take)
        _, c50, c99 = summary(r["probe"], ("call-next",))
        print(f"{r['at']:>8}{t50:>10.1f}{t99:>10.1f}{c50:>10.1f}{c99:>10.1f}{t50 / one_p50:>10.0f}x"
              f"{c50 / one_p50:>10.0f}x")
    print(f"\nclosed loop ({args.segment} numbers; two kiosks and the 导服台 keep a line of ~{args.line}, "
          f"{WINDOWS} windows call-next, serve, finish; ratios to the bare endpoint on {clients_n} connections)")
    print(f"{'day at':>8}{'calls/s':>9}{'x 10x':>8}{'req/s':>7}{'calls/bare':>11}{'take p50':>10}{'take p99':>10}"
          f"{'call p50':>10}{'call p99':>10}{'take/bare p50,p99':>19}{'call/bare p50,p99':>19}")
    for r in results:
        n, t50, t99 = summary(r["lat"], take)
        _, c50, c99 = summary(r["lat"], ("call-next",))
        cps = r["calls"] / r["elapsed"]
        print(f"{r['at']:>8}{cps:>9.2f}{cps / needed:>7.1f}x{r['requests'] / r['elapsed']:>7.0f}"
              f"{cps / bare_rps:>11.2%}{t50:>10.0f}{t99:>10.0f}{c50:>10.0f}{c99:>10.0f}"
              f"{t50 / bare_p50:>10.0f}x,{t99 / bare_p99:>6.0f}x{c50 / bare_p50:>11.0f}x,{c99 / bare_p99:>6.0f}x")
    for r in results:
        rest = ", ".join(f"{k} {1000 * pct(v, 0.5):.0f}/{1000 * pct(v, 0.99):.0f}" for k, v in sorted(r["lat"].items())
                         if not k.startswith("take") and k != "call-next")
        errors = {**r["probe_errors"], **r["errors"]}
        print(f"\nday at {r['at']}: other requests p50/p99 ms: {rest}; call-next on an empty queue {r['empty']}; "
              f"errors {errors or '-'}")
        print("  CPU (cores busy): " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["cpu"].items(),
                                                                                  key=lambda kv: -kv[1])))
    print(f"\nnumbers of the day per queue: " + "; ".join(f"{q}: {v}" for q, v in checked.items()))


if __name__ == "__main__":
    asyncio.run(main())
