"""Capacity: the same mixed resident workload against one, then two web processes behind nginx.

    .venv/bin/python bench/scale.py [--users 48] [--seconds 15] [--rounds 2]

Starts embedded MongoDB-wire and Redis servers (or uses MONGODB_URI / REDIS_URL), two web
processes and one worker (``SUPERAPP_PROCESS__ROLE``), and nginx with the shipped proxy
rules (``tests/fleet.py``). Prepares ``--users`` residents (SMS login, real name, an ID
card in the wallet). Each user is a closed loop on its own keep-alive connection through
nginx doing, per iteration: refresh its session, show its service code, have a kiosk scan
it, open the wallet, and one in five iterations submit an application (upload + submit,
with an Idempotency-Key). nginx lists one web process, then both (alternating, ``--rounds``
times); printed: operations/s, p50/p99 per operation kind, and each process's CPU share,
which shows what limits the figure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.embedded import EmbeddedMongo, EmbeddedRedis  # noqa: E402
from tests.fleet import Fleet  # noqa: E402
from tests.journeys import RESIDENCE, id_card_for  # noqa: E402
from tests.support import (Api, Backends, bearer, kiosk_token, new_resident, start_app, stop_app,  # noqa: E402
                           verified_person)


class Conn:
    """One keep-alive HTTP/1.1 connection (Content-Length or chunked answers)."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                      ctype: str = "application/json") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n{head}"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size + 2)
                data = data[:-2]
        else:
            data = await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def prepare_users(seed, api: Api, n: int) -> list[dict]:
    users = []
    shim = SimpleNamespace(ctx=seed.ctx, api=api)

    async def one(i: int) -> None:
        r = await new_resident(seed.ctx, name="压测" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉戌亥"[i // 10 % 12])
        person = await verified_person(api, r)
        await id_card_for(shim, r)
        prefill = (await api.get(f"/api/v1/matters/{RESIDENCE}/prefill",
                                 headers=bearer(person["access_token"]))).json()
        users.append({"access": person["access_token"], "refresh": person["refresh_token"],
                      "form": {**prefill["form"], "residence_since": "2025-06-01", "reason": "就业"}})

    for i in range(0, n, 8):
        await asyncio.gather(*(one(j) for j in range(i, min(n, i + 8))))
    return users


async def workload(port: int, users: list[dict], kiosk: str, seconds: float) -> dict:
    lat: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    stop_at = time.perf_counter() + seconds

    async def timed(conn: Conn, kind: str, *args, ok=(200, 201), **kw) -> bytes | None:
        t0 = time.perf_counter()
        status, body = await conn.request(*args, **kw)
        if status in ok:
            lat[kind].append(time.perf_counter() - t0)
            return body
        errors[f"{kind} {status}"] += 1
        return None

    async def user_loop(u: dict) -> None:
        conn = Conn(port)
        i = 0
        try:
            while time.perf_counter() < stop_at:
                i += 1
                body = await timed(conn, "refresh", "POST", "/api/v1/auth/refresh",
                                   json.dumps({"refresh_token": u["refresh"]}).encode())
                if body:
                    pair = json.loads(body)
                    u["access"], u["refresh"] = pair["access_token"], pair["refresh_token"]
                h = {"Authorization": f"Bearer {u['access']}"}
                body = await timed(conn, "code", "GET", "/api/v1/codes/person", headers=h)
                if body:
                    await timed(conn, "scan", "POST", "/api/v1/scans",
                                json.dumps({"code": json.loads(body)["code"]}).encode(),
                                headers={"Authorization": f"Bearer {kiosk}"})
                await timed(conn, "wallet", "GET", "/api/v1/wallet", headers=h)
                if i % 5 == 0:
                    up = await timed(conn, "upload", "POST", "/api/v1/uploads?filename=proof.pdf",
                                     b"%PDF-1.4\n%%EOF\n", headers=h, ctype="application/pdf")
                    if up:
                        await timed(conn, "application", "POST", "/api/v1/applications", json.dumps({
                            "matter": RESIDENCE, "form": u["form"],
                            "materials": [{"id": "residence_proof", "upload_id": json.loads(up)["id"]}]}).encode(),
                            headers={**h, "Idempotency-Key": uuid.uuid4().hex})
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(user_loop(u) for u in users))
    elapsed = time.perf_counter() - t0
    total = sum(len(v) for v in lat.values())
    every = sorted(x for v in lat.values() for x in v)
    return {"ops": total / elapsed, "p50": every[len(every) // 2] if every else 0,
            "p99": every[int(len(every) * 0.99)] if every else 0, "elapsed": elapsed,
            "by_kind": {k: (len(v) / elapsed, sorted(v)[len(v) // 2], sorted(v)[int(len(v) * 0.99)])
                        for k, v in lat.items()}, "errors": dict(errors)}


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def nginx_pids(master: int) -> list[int]:
    out = [master]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        out.append(int(d))
            except OSError:
                pass
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
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
    shared = {"SUPERAPP_MONGODB__DATABASE": "bench_scale", "SUPERAPP_REDIS__KEY_PREFIX": "bscale:",
              "SUPERAPP_SMS__HOURLY_SENDS_PER_IP": "10000", "SUPERAPP_SMS__VERIFIES_PER_IP_PER_MINUTE": "10000",
              "SUPERAPP_SMS__RESEND_INTERVAL_SECONDS": "1"}
    seed = await start_app(Backends(mongo_uri, redis_url), environ={**shared, "SUPERAPP_PROCESS__ROLE": "web"})
    fleet = Fleet(tmp, {"MONGODB_URI": mongo_uri, "REDIS_URL": redis_url, "SUPERAPP_HTTP__XHEADERS": "true",
                        **shared})
    try:
        fleet.start_web("web1")
        fleet.start_web("web2")
        worker = fleet.start_worker()
        await asyncio.to_thread(fleet.wait_ready)
        fleet.start_nginx()
        api = Api(fleet.url)
        print(f"preparing {args.users} residents …", flush=True)
        users = await prepare_users(seed, api, args.users)
        kiosk = await kiosk_token(api, seed.ctx.demo.devices[0])
        api.close()
        fleet.stop_nginx()
        procs = {"web1": fleet.webs[0].popen.pid, "web2": fleet.webs[1].popen.pid, "worker": worker.popen.pid}
        procs.update({s.slug: s.proc.pid for s in started if s.proc is not None})
        procs["load generator"] = os.getpid()
        results: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for n in (1, 2):
                fleet.start_nginx(webs=fleet.webs[:n])
                await workload(fleet.nginx_port, users[:4], kiosk, 2)  # warm-up
                nginx = nginx_pids(fleet.nginx.pid)
                before = {k: cpu_seconds(p) for k, p in procs.items()}
                ngx0 = sum(cpu_seconds(p) for p in nginx)
                r = await workload(fleet.nginx_port, users, kiosk, args.seconds)
                after = {k: cpu_seconds(p) for k, p in procs.items()}
                r["cpu"] = {k: (after[k] - before[k]) / r["elapsed"] for k in procs}
                r["cpu"]["nginx"] = (sum(cpu_seconds(p) for p in nginx) - ngx0) / r["elapsed"]
                results[n].append(r)
                fleet.stop_nginx()
        print(f"\n{args.users} users, closed loop through nginx, {args.rounds} rounds of {args.seconds:.0f} s "
              f"(medians), {os.cpu_count()} CPUs shared by everything\n")
        print(f"{'web processes':<16}{'ops/s':>8}{'p50 ms':>9}{'p99 ms':>9}   errors")
        med = {}
        for n in (1, 2):
            med[n] = {k: statistics.median(r[k] for r in results[n]) for k in ("ops", "p50", "p99")}
            errs = defaultdict(int)
            for r in results[n]:
                for k, v in r["errors"].items():
                    errs[k] += v
            print(f"{n:<16}{med[n]['ops']:>8.0f}{med[n]['p50'] * 1000:>9.1f}{med[n]['p99'] * 1000:>9.1f}   "
                  f"{dict(errs) or '-'}")
        print(f"\nthroughput with two web processes = {med[2]['ops'] / med[1]['ops']:.2f} x one")
        for n in (1, 2):
            last = results[n][-1]
            print(f"\nper operation, {n} web process{'es' if n > 1 else ''} (last round): "
                  + ", ".join(f"{k} {v[0]:.0f}/s p99 {v[2] * 1000:.0f} ms" for k, v in sorted(last["by_kind"].items())))
            print("CPU (cores busy): " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(last["cpu"].items(),
                                                                                   key=lambda kv: -kv[1])))
    finally:
        fleet.stop()
        await stop_app(seed)
        for s in reversed(started):
            await s.stop()


if __name__ == "__main__":
    asyncio.run(main())
