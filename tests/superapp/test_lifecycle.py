"""Start and stop: the real launcher as a subprocess (embedded servers, data reuse,
no orphans on SIGTERM, SIGINT or SIGKILL) and graceful shutdown of in-flight requests."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from pymongo import MongoClient

from server.embedded import free_port
from server.http.base import BaseHandler
from server.http.routing import operation, route
from tests.support import Api, make_settings
from superapp.launcher import Runner

ROOT = Path(__file__).resolve().parents[2]


class Launched:
    def __init__(self, data_dir: Path):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SUPERAPP_") and k not in ("MONGODB_URI", "REDIS_URL")}
        env.update({
            "SUPERAPP_HTTP__PORT": str(self.port),
            "SUPERAPP_EMBEDDED__DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
        })
        self.log = data_dir.parent / f"launcher-{self.port}.log"
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT, env=env,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("not ready in time:\n" + self.output())

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def mongo_uri(self) -> str:
        m = re.search(r"(mongodb://127\.0\.0\.1:\d+/\S*)", self.output())
        assert m, self.output()
        return m.group(1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()


def _gone(procs: list[psutil.Process], timeout: float = 15) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return not alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_prints_url_becomes_ready_and_stops_without_orphans(tmp_path, sig):
    app = Launched(tmp_path / "var")
    try:
        app.wait_ready()
        out = app.output()
        assert f"http://127.0.0.1:{app.port}/" in out and "/docs" in out
        kids = app.children()
        names = " ".join(" ".join(k.cmdline()) for k in kids)
        assert "nx-27017" in names and "redis-server" in names
        app.proc.send_signal(sig)
        assert app.proc.wait(timeout=30) == 0
        assert _gone(kids), [k.pid for k in kids if k.is_running()]
        assert "Stopped." in app.output()
    finally:
        app.close()


def test_second_start_reuses_var_data(tmp_path):
    data_dir = tmp_path / "var"
    first = Launched(data_dir)
    try:
        first.wait_ready()
        assert "demo data loaded" in first.output()
        with MongoClient(first.mongo_uri()) as client:
            client.superapp.registry_persons.find_one()  # demo data is there
            client.superapp.create_collection("marker_for_test")
            client.superapp.marker_for_test.insert_one({"_id": "kept"})
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(timeout=30) == 0
    finally:
        first.close()
    second = Launched(data_dir)
    try:
        second.wait_ready()
        assert "demo data loaded" not in second.output()  # nothing new to insert
        with MongoClient(second.mongo_uri()) as client:
            assert client.superapp.marker_for_test.find_one({"_id": "kept"}) == {"_id": "kept"}
            assert client.superapp.registry_persons.count_documents({}) == 10
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(timeout=30) == 0
    finally:
        second.close()


def test_killed_launcher_leaves_no_children(tmp_path):
    app = Launched(tmp_path / "var")
    try:
        app.wait_ready()
        kids = app.children()
        app.proc.kill()
        app.proc.wait()
        assert _gone(kids), "embedded servers outlived a SIGKILLed launcher"
    finally:
        app.close()


def test_a_second_launcher_on_the_same_data_dir_is_refused(tmp_path):
    data_dir = tmp_path / "var"
    first = Launched(data_dir)
    try:
        first.wait_ready()
        second = Launched(data_dir)
        try:
            assert second.proc.wait(timeout=60) == 1
            out = second.output()
            assert "another superapp launcher" in out and "Traceback" not in out
        finally:
            second.close()
    finally:
        first.proc.send_signal(signal.SIGTERM)
        first.proc.wait(timeout=30)
        first.close()


# --- graceful shutdown of in-flight requests (in process) ---------------------------------

class SlowHandler(BaseHandler):
    @operation("slow (test only)")
    async def get(self) -> dict:
        await asyncio.sleep(float(self.get_argument("s", "1")))
        return {"done": True}


async def test_shutdown_finishes_in_flight_requests_then_refuses_new_ones(backends):
    settings = make_settings(backends)
    runner = Runner(settings, extra_routes=[route(r"/test/slow", SlowHandler)])
    await runner.start()
    api = Api(runner.url)
    try:
        pending = asyncio.ensure_future(api.get("/test/slow?s=1"))
        await asyncio.sleep(0.3)
        assert runner.app.inflight == 1
        started = time.monotonic()
        await runner.stop()
        assert time.monotonic() - started >= 0.5  # it waited for the request
        resp = await pending
        assert resp.status == 200 and json.loads(resp.body) == {"done": True}
        with pytest.raises(OSError):
            await Api(runner.url).get("/healthz")
    finally:
        api.close()


async def test_shutdown_grace_is_bounded(backends):
    settings = make_settings(backends, overrides={"http": {"shutdown_grace_seconds": 0.5}})
    runner = Runner(settings, extra_routes=[route(r"/test/slow", SlowHandler)])
    await runner.start()
    api = Api(runner.url)
    try:
        pending = asyncio.ensure_future(api.get("/test/slow?s=3"))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await runner.stop()
        assert time.monotonic() - started < 2.5  # did not wait for the 3 s request
        pending.cancel()
    finally:
        api.close()
