"""Scan throughput: POST /api/v1/scans against a bare Tornado JSON endpoint, same run.

    .venv/bin/python bench/scan.py [--seconds 5] [--rounds 3] [--connections 32] [--codes 60000]

Starts embedded MongoDB-wire and Redis servers (or uses MONGODB_URI / REDIS_URL), the
app as one web process (``SUPERAPP_PROCESS__ROLE=web python -m superapp``) plus one worker
process that records the scans, and a bare Tornado app as one process; issues
enough one-use codes; then drives each server with the same asyncio load generator
(keep-alive connections, one request in flight per connection) and prints requests/s,
p50 and p99 latency, and the ratio of scan throughput to the bare endpoint's.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.embedded import EmbeddedMongo, EmbeddedRedis, free_port  # noqa: E402

BARE_APP = textwrap.dedent("""
    import asyncio, json, sys
    import tornado.web, tornado.httpserver, tornado.netutil
    class Bare(tornado.web.RequestHandler):
        def post(self):
            body = json.loads(self.request.body)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps({"ok": True, "n": len(body)}))
    async def main():
        app = tornado.web.Application([(r"/bare", Bare)])
        server = tornado.httpserver.HTTPServer(app)
        server.listen(int(sys.argv[1]), "127.0.0.1")
        await asyncio.Event().wait()
    asyncio.run(main())
""")


def wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError as e:
            if getattr(e, "code", None):  # an HTTP error status means it is up
                return
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def load(port: int, path: str, bodies, headers: dict[str, str], seconds: float, connections: int):
    """Closed-loop load: each connection sends, reads the whole response, repeats."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop_at = time.perf_counter() + seconds
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                body = next(bodies, None)
                if body is None:  # every issued code used: stop (the rate is over the time actually run)
                    break
                req = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       f"{head}Content-Length: {len(body)}\r\n\r\n").encode() + body
                t0 = time.perf_counter()
                writer.write(req)
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                code = int(status_line.split()[1])
                statuses[code] = statuses.get(code, 0) + 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    if elapsed < seconds * 0.9:
        print(f"note: codes ran out after {elapsed:.1f} s of {seconds:.0f} s (raise --codes)", file=sys.stderr)
    lat = sorted(latencies)
    return {
        "requests": len(lat),
        "rps": len(lat) / elapsed,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
        "statuses": statuses,
    }


def _sum_statuses(results) -> dict[int, int]:  # noqa: ANN001
    total: dict[int, int] = {}
    for r in results:
        for code, n in r["statuses"].items():
            total[code] = total.get(code, 0) + n
    return total


async def measured(pid: int, run):  # noqa: ANN001, ANN201
    """Also report the server process's CPU time per request (user + system)."""
    import psutil

    proc = psutil.Process(pid)
    before = proc.cpu_times()
    result = await run
    after = proc.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    result["cpu_us_per_req"] = 1e6 * cpu / max(1, result["requests"])
    return result


async def issue_codes(mongo_uri: str, redis_url: str, n: int, database: str, prefix: str) -> list[bytes]:
    """Codes for a real, L2 holder, stored in Redis as the app would store them."""
    import os as _os

    from identity.codes.codec import PERSON, CodeKeys, CodePayload
    from identity.codes.service import REF_RETENTION_MS
    from identity.codes.storage import CodeStore
    from server.config import load_settings
    from superapp.context import Clients

    settings = load_settings(environ={"MONGODB_URI": mongo_uri, "REDIS_URL": redis_url,
                                      "SUPERAPP_MONGODB__DATABASE": database, "SUPERAPP_REDIS__KEY_PREFIX": prefix})
    clients = Clients.make(settings, mongo_uri, redis_url)
    try:
        keys = CodeKeys.load([settings.path(f) for f in settings.codes.signing_key_files])
        store = CodeStore(clients.redis, clients.keys, clients.db)
        exp = int(time.time()) + 3600
        bodies = []
        record = {"holder": "person:pbench", "notify": "pbench", "iat": str(int(time.time() * 1000)),
                  "exp": str(exp), "name": "李**", "level": "L2", "type": "person", "items": "[]"}
        for _ in range(n):
            ref = _os.urandom(16)
            text = keys.sign(CodePayload(PERSON, keys.signing_kid, exp, ref))
            await store.put_code(ref.hex(), record, REF_RETENTION_MS, None, 0, int(time.time() * 1000))
            bodies.append(json.dumps({"code": text}).encode())
        return bodies
    finally:
        await clients.close()


def kiosk_token(port: int) -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.support import device_assertion

    device = json.loads((ROOT / "config/demo/devices.json").read_text())["items"][0]
    body = json.dumps({"assertion": device_assertion(device["device_id"], device["private_key_pem"])}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/devices/token", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())["access_token"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--codes", type=int, default=60000)
    ap.add_argument("--profile", metavar="FILE", help="py-spy (if installed) samples the web process during "
                                                       "the scan rounds into FILE (speedscope JSON)")
    args = ap.parse_args()

    async def run() -> None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-scan-"))
        started = []
        mongo_uri, redis_url = os.environ.get("MONGODB_URI", ""), os.environ.get("REDIS_URL", "")
        if not mongo_uri:
            m = EmbeddedMongo(tmp)
            await m.start()
            started.append(m)
            mongo_uri = m.uri
        if not redis_url:
            r = EmbeddedRedis(tmp)
            await r.start()
            started.append(r)
            redis_url = r.uri
        app_port, bare_port = free_port(), free_port()
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")},
               "MONGODB_URI": mongo_uri, "REDIS_URL": redis_url, "SUPERAPP_HTTP__PORT": str(app_port),
               "SUPERAPP_MONGODB__DATABASE": "bench", "SUPERAPP_REDIS__KEY_PREFIX": "bench:"}
        devnull = subprocess.DEVNULL
        app_log = open(tmp / "app.log", "wb")
        # One web process handles the scans; a worker process records them (as in production).
        app = subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT, env={**env, "SUPERAPP_PROCESS__ROLE": "web"},
                               stdout=devnull, stderr=app_log)
        worker = subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT,
                                  env={**env, "SUPERAPP_PROCESS__ROLE": "worker", "SUPERAPP_HTTP__PORT": "0"},
                                  stdout=devnull, stderr=app_log)
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port)], stdout=devnull, stderr=devnull)
        try:
            wait_http(f"http://127.0.0.1:{app_port}/readyz")
            wait_http(f"http://127.0.0.1:{bare_port}/bare")
            print(f"issuing {args.codes} one-use codes …", flush=True)
            bodies = await issue_codes(mongo_uri, redis_url, args.codes, "bench", "bench:")
            token = kiosk_token(app_port)
            bare_bodies = iter(lambda: bodies[0], None)
            # warm-up both
            await load(bare_port, "/bare", bare_bodies, {}, 1, 4)
            code_iter = iter(bodies)
            await load(app_port, "/api/v1/scans", code_iter, {"Authorization": f"Bearer {token}"}, 1, 4)
            # Alternate the two, several rounds: this machine is shared and noisy, so the
            # figures are medians over rounds and each round's ratio is printed too.
            rounds = []
            spy = None
            if args.profile:
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(app.pid), "--format", "speedscope",
                                        "--output", args.profile, "--nonblocking"], stdout=devnull, stderr=devnull)
            for _ in range(args.rounds):
                b = await measured(bare.pid, load(bare_port, "/bare", bare_bodies, {}, args.seconds,
                                                  args.connections))
                sc = await measured(app.pid, load(app_port, "/api/v1/scans", code_iter,
                                                  {"Authorization": f"Bearer {token}"}, args.seconds,
                                                  args.connections))
                rounds.append((b, sc))
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            base = {k: statistics.median(r[0][k] for r in rounds) for k in ("rps", "p50_ms", "p99_ms",
                                                                            "cpu_us_per_req")}
            scans = {k: statistics.median(r[1][k] for r in rounds) for k in ("rps", "p50_ms", "p99_ms",
                                                                             "cpu_us_per_req")}
            base["statuses"] = _sum_statuses(r[0] for r in rounds)
            scans["statuses"] = _sum_statuses(r[1] for r in rounds)
        finally:
            for proc in (app, worker, bare):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGUSR1)  # stacks into the app log
                    time.sleep(1)
                    proc.kill()
                    proc.wait()
                    print(f"{proc.args[-1]} did not stop in 30 s; stacks in {tmp / 'app.log'}")
            for s in reversed(started):
                await s.stop()
        ok = scans["statuses"].get(200, 0)
        print(f"\nconcurrency {args.connections}, {args.rounds} rounds of {args.seconds:.0f} s each (medians), "
              "one web process, same machine\n")
        print(f"{'endpoint':<22}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'server CPU/req':>16}  statuses")
        for name, r in (("bare Tornado JSON", base), ("POST /api/v1/scans", scans)):
            print(f"{name:<22}{r['rps']:>8.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                  f"{r['cpu_us_per_req']:>13.0f} µs  {r['statuses']}")
        print("\nper round: " + ", ".join(f"{r[1]['rps'] / r[0]['rps']:.0%}" for r in rounds))
        print(f"scan throughput = {scans['rps'] / base['rps']:.0%} of the bare endpoint "
              f"({ok} successful scans, goal >= 50 %)")

    asyncio.run(run())


if __name__ == "__main__":
    main()
