"""Storage round trips per request: how many MongoDB and Redis commands each main
operation makes, and whether any request reads the same document twice.

    .venv/bin/python bench/roundtrips.py [--repeat 3]

Starts embedded MongoDB-wire and Redis servers (or uses MONGODB_URI / REDIS_URL) and the
app in this process as a web process (``process.role = web``: no background workers, so
nothing but the request under test talks to the servers). MongoDB commands are counted
with PyMongo's command monitoring; Redis commands on the server (``INFO commandstats``
before and after the request, so commands run inside Lua scripts count too). Each
operation runs ``--repeat`` times on fresh accounts; the smallest count is printed.
A "repeated read" is a second ``find`` of the same collection with the same filter in
one request.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymongo import monitoring  # noqa: E402

READS = {"find", "count", "aggregate"}  # findAndModify is a write (e.g. a counter)


class MongoCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.on = False
        self.commands: list[tuple[str, str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on:
            return
        name = event.command_name
        coll = event.command.get(name)
        flt = ""
        if name in READS:
            flt = json.dumps(event.command.get("filter", event.command.get("query", {})), sort_keys=True,
                             default=str)
        self.commands.append((name, str(coll), flt))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


MONGO = MongoCounter()
monitoring.register(MONGO)

from server.embedded import EmbeddedMongo, EmbeddedRedis  # noqa: E402
from tests.support import Backends, start_app, stop_app  # noqa: E402


async def redis_calls(redis: Any) -> Counter:
    stats = await redis.info("commandstats")
    return Counter({k[len("cmdstat_"):]: v["calls"] for k, v in stats.items() if k != "cmdstat_info"})


class Meter:
    def __init__(self, redis: Any):
        self.redis = redis

    async def measure(self, request: Callable[[], Awaitable[Any]]) -> tuple[Any, dict[str, Any]]:
        before = await redis_calls(self.redis)
        MONGO.commands.clear()
        MONGO.on = True
        try:
            resp = await request()
        finally:
            MONGO.on = False
        after = await redis_calls(self.redis)
        redis_delta = after - before
        redis_delta.pop("info", None)
        reads = [(c, f) for n, c, f in MONGO.commands if n in READS]
        repeated = sum(n - 1 for n in Counter(reads).values() if n > 1)
        return resp, {"mongo": len(MONGO.commands), "trace": list(MONGO.commands), "mongo_by": Counter(n for n, _, _ in MONGO.commands),
                      "redis": sum(redis_delta.values()), "redis_by": redis_delta, "repeated_reads": repeated,
                      "reads": Counter(reads)}



from tests.journeys import OPERATIONS  # noqa: E402

async def main() -> None:
    import os

    import redis.asyncio as aioredis

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--detail", action="store_true", help="print commands by name and repeated reads")
    parser.add_argument("--trace", default="", help="print every MongoDB command of the operations whose name "
                                                    "contains this")
    args = parser.parse_args()

    import tempfile

    started = []
    with tempfile.TemporaryDirectory(prefix="roundtrips-") as tmp:
        mongo_uri, redis_url = os.environ.get("MONGODB_URI", ""), os.environ.get("REDIS_URL", "")
        if not mongo_uri:
            started.append(EmbeddedMongo(Path(tmp)))
            await started[-1].start()
            mongo_uri = started[-1].uri
        if not redis_url:
            started.append(EmbeddedRedis(Path(tmp)))
            await started[-1].start()
            redis_url = started[-1].uri
        app = await start_app(Backends(mongo_uri, redis_url), environ={"SUPERAPP_PROCESS__ROLE": "web"},
                              overrides={"sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000,
                                                 "resend_interval_seconds": 1}})
        redis = aioredis.from_url(redis_url)
        meter = Meter(redis)
        try:
            print(f"{'operation':28} {'MongoDB':>8} {'Redis':>6} {'repeated reads':>15}")
            for name, op in OPERATIONS:
                runs = [await op(app, meter) for _ in range(args.repeat)]
                best = min(runs, key=lambda r: (r["mongo"], r["redis"]))
                print(f"{name:28} {best['mongo']:>8} {best['redis']:>6} {best['repeated_reads']:>15}")
                if args.trace and args.trace in name:
                    for cmd in best["trace"]:
                        print("    ", *cmd)
                if args.detail:
                    print("    mongo:", dict(best["mongo_by"]))
                    print("    redis:", dict(best["redis_by"]))
                    for (coll, flt), n in best["reads"].items():
                        if n > 1:
                            print(f"    read {n}x {coll} {flt[:120]}")
        finally:
            await redis.aclose()
            await stop_app(app)
            for server in reversed(started):
                await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
