"""Live event streams at scale: many concurrent SSE streams against one web process.

    .venv/bin/python bench/streams.py [--streams 10000] [--sample 1000] [--clients 2]

Starts embedded MongoDB-wire and Redis servers (or uses MONGODB_URI / REDIS_URL) and one
web process (``SUPERAPP_PROCESS__ROLE=web python -m superapp``); mints an access token for
each of ``--streams`` residents; opens one ``GET /api/v1/events`` stream per resident from
``--clients`` client processes (raw asyncio sockets); then publishes through Redis, as the
app's own publishers do, (a) one event to each of a random sample of holders and (b) one
event to every holder, and prints: the web process's RSS before and with the streams (and
per stream), the Redis subscription connections the web process holds, event delivery
latency p50/p99 (publish to arrival at the client) and the web process's CPU per event
delivered. Goal: 10 000 streams under 300 MB RSS, p99 under 1 s, one subscription.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# -- a client process: many streams, latencies out --------------------------------------------

async def client_main(port: int, tokens_file: str, out_file: str) -> None:
    tokens = Path(tokens_file).read_text().split()
    latencies: list[float] = []
    connected = 0
    failed = 0
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    writers = []

    async def stream(token: str) -> None:
        nonlocal connected, failed
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            failed += 1
            return
        writers.append(writer)
        writer.write(f"GET /api/v1/events?access_token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        buf = b""
        first = True
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            buf += chunk
            if first and b": connected" in buf:
                first = False
                connected += 1
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                for line in block.split(b"\n"):
                    if line.startswith(b"data: "):
                        event = json.loads(line[6:])
                        if "sent" in event:
                            latencies.append(time.time() - event["sent"])

    tasks = []
    for i in range(0, len(tokens), 200):  # connect in waves (the listen backlog is finite)
        tasks += [asyncio.ensure_future(stream(t)) for t in tokens[i:i + 200]]
        while connected + failed < min(i + 200, len(tokens)) - 5:
            await asyncio.sleep(0.02)
    while connected + failed < len(tokens):
        await asyncio.sleep(0.05)
    print(json.dumps({"connected": connected, "failed": failed}), flush=True)
    await stop.wait()
    Path(out_file).write_text(json.dumps(latencies))
    for w in writers:
        w.close()
    for t in tasks:
        t.cancel()


# -- the orchestrator ------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mint_tokens(n: int) -> tuple[list[str], list[str]]:
    from identity.sessions.tokens import AccessTokens, load_signing_keys
    from server.config import load_settings

    s = load_settings(environ={})
    tokens = AccessTokens(load_signing_keys([s.path(f) for f in s.tokens.signing_key_files]), s.tokens.issuer,
                          3600)
    subjects = [f"pbench{i:06d}" for i in range(n)]
    return subjects, [tokens.issue(sub, "h5", 2)[0] for sub in subjects]


async def publish(redis, prefix: str, subjects: list[str], rate: float | None) -> float:
    """One event to each subject (``rate`` per second, or as fast as a pipeline goes); seconds taken."""
    t0 = time.perf_counter()
    batch = 200
    for i in range(0, len(subjects), batch):
        async with redis.pipeline(transaction=False) as pipe:
            for sub in subjects[i:i + batch]:
                pipe.publish(f"{prefix}events:person:{sub}",
                             json.dumps({"type": "bench", "sent": time.time()}).encode())
            await pipe.execute()
        if rate:
            await asyncio.sleep(max(0.0, (i + batch) / rate - (time.perf_counter() - t0)))
    return time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def run(args: argparse.Namespace) -> None:
    import redis.asyncio as aioredis

    from server.embedded import EmbeddedMongo, EmbeddedRedis, free_port

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the web process
    if hard < args.streams + 1000:
        raise SystemExit(f"open-file limit {hard} is below {args.streams + 1000}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-streams-"))
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
    prefix = "bstreams:"
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}, "MONGODB_URI": mongo_uri,
           "REDIS_URL": redis_url, "SUPERAPP_HTTP__PORT": str(port), "SUPERAPP_PROCESS__ROLE": "web",
           "SUPERAPP_MONGODB__DATABASE": "bench_streams", "SUPERAPP_REDIS__KEY_PREFIX": prefix}
    web = subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=open(tmp / "web.log", "wb"))
    clients: list[subprocess.Popen] = []
    redis = aioredis.from_url(redis_url)
    try:
        from tests.fleet import wait_http

        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/readyz", 120)
        print(f"minting {args.streams} access tokens …", flush=True)
        subjects, tokens = mint_tokens(args.streams)
        await asyncio.sleep(1)
        rss_before = rss_mb(web.pid)
        share = (len(tokens) + args.clients - 1) // args.clients
        outs = []
        t0 = time.perf_counter()
        for i in range(args.clients):
            tf, of = tmp / f"tokens{i}.txt", tmp / f"lat{i}.json"
            tf.write_text("\n".join(tokens[i * share:(i + 1) * share]))
            outs.append(of)
            clients.append(subprocess.Popen([sys.executable, __file__, "--client", str(port), str(tf), str(of)],
                                            stdout=subprocess.PIPE, text=True))
        ready = [json.loads(c.stdout.readline()) for c in clients]
        connect_s = time.perf_counter() - t0
        opened = sum(r["connected"] for r in ready)
        if opened < args.streams:
            print(f"only {opened} of {args.streams} streams opened ({sum(r['failed'] for r in ready)} failed)")
        await asyncio.sleep(2)
        rss_with = rss_mb(web.pid)
        pubsub_clients = await redis.client_list(_type="pubsub")
        patterns = int(await redis.execute_command("PUBSUB", "NUMPAT") or 0)
        channels = len(await redis.pubsub_channels(f"{prefix}events:*"))

        sample = random.sample(subjects, min(args.sample, len(subjects)))
        cpu0 = cpu_seconds(web.pid)
        sample_s = await publish(redis, prefix, sample, rate=args.rate)
        await asyncio.sleep(2)
        cpu1 = cpu_seconds(web.pid)
        all_s = await publish(redis, prefix, subjects, rate=None)
        await asyncio.sleep(5)
        cpu2 = cpu_seconds(web.pid)
        for c in clients:
            c.send_signal(signal.SIGTERM)
        for c in clients:
            c.wait(60)
        latencies = [x for of in outs for x in json.loads(of.read_text())]
        n_sample = len(sample)
        # Each client records in arrival order: the sample's events all arrive before the broadcast.
        per_client = [json.loads(of.read_text()) for of in outs]
        sample_counts = {}
        for i in range(args.clients):
            mine = set(subjects[i * share:(i + 1) * share])
            sample_counts[i] = sum(1 for s in sample if s in mine)
        lat_sample = [x for i, lats in enumerate(per_client) for x in lats[:sample_counts[i]]]
        lat_all = [x for i, lats in enumerate(per_client) for x in lats[sample_counts[i]:]]
        delivered = len(latencies)
        expected = n_sample + len(subjects)
        print(f"\n{args.streams} SSE streams on one web process ({args.clients} client processes, same machine)\n")
        print(f"streams opened                {opened} in {connect_s:.1f} s")
        print(f"web process RSS               {rss_before:.0f} MB before, {rss_with:.0f} MB with the streams "
              f"({(rss_with - rss_before) * 1024 / max(opened, 1):.1f} KB per stream)")
        print(f"Redis pub/sub connections     {len(pubsub_clients)} (channels subscribed: {channels}, "
              f"patterns: {patterns})")
        print(f"sample: {n_sample} holders, published in {sample_s:.2f} s; delivery p50 "
              f"{pct(lat_sample, 0.5) * 1000:.0f} ms, p99 {pct(lat_sample, 0.99) * 1000:.0f} ms; web CPU "
              f"{(cpu1 - cpu0) * 1e6 / max(len(lat_sample), 1):.0f} µs per event")
        print(f"all: {len(subjects)} holders, published in {all_s:.2f} s; delivery p50 "
              f"{pct(lat_all, 0.5) * 1000:.0f} ms, p99 {pct(lat_all, 0.99) * 1000:.0f} ms, max "
              f"{max(lat_all, default=float('nan')) * 1000:.0f} ms; web CPU "
              f"{(cpu2 - cpu1) * 1e6 / max(len(lat_all), 1):.0f} µs per event")
        print(f"events delivered              {delivered} of {expected}")
        ok = rss_with < 300 and pct(latencies, 0.99) < 1.0 and len(pubsub_clients) == 1 and delivered == expected
        print(f"goal (< 300 MB, p99 < 1 s, one subscription, every event delivered): {'met' if ok else 'NOT met'}")
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(60)
        except subprocess.TimeoutExpired:
            web.kill()
        await redis.aclose()
        for s in reversed(started):
            await s.stop()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        asyncio.run(client_main(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=1000.0, help="events per second to the sample")
    ap.add_argument("--clients", type=int, default=2)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
