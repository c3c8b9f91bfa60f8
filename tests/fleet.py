"""Several app processes behind a real nginx on loopback, sharing one MongoDB and one Redis
(the multi-process tests and ``bench/scale.py`` / ``bench/streams.py``).

Each process is ``python -m superapp`` with ``SUPERAPP_PROCESS__ROLE`` web or worker, as in
production; nginx runs with ``config/nginx/superapp-locations.conf`` (the shipped proxy
rules) inside a loopback server block listing the web processes."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Fleet:
    root: Path
    env: dict[str, str]  # MONGODB_URI, REDIS_URL / mode, database, key prefix, and any setting
    procs: list[Proc] = field(default_factory=list)
    nginx: subprocess.Popen | None = None
    nginx_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def webs(self) -> list[Proc]:
        return [p for p in self.procs if p.name.startswith("web")]

    def _spawn(self, name: str, role: str, port: int, extra: dict[str, str]) -> Proc:
        log = self.root / f"{name}.log"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}, **self.env,
               "SUPERAPP_PROCESS__ROLE": role, "SUPERAPP_HTTP__PORT": str(port), **extra}
        popen = subprocess.Popen([sys.executable, "-m", "superapp"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                 stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        proc = Proc(name, popen, port, log)
        self.procs.append(proc)
        return proc

    def start_web(self, name: str, **extra: str) -> Proc:
        return self._spawn(name, "web", free_port(), extra)

    def start_worker(self, name: str = "worker", **extra: str) -> Proc:
        return self._spawn(name, "worker", 0, extra)

    def wait_ready(self, timeout: float = 120) -> None:
        for proc in self.webs:
            wait_http(f"{proc.url}/readyz", timeout, proc)
        time.sleep(0.5)  # workers have no HTTP: give them a moment to take their leases

    def start_nginx(self, worker_connections: int = 4096, webs: list[Proc] | None = None) -> None:
        """nginx in front of ``webs`` (default: every web process)."""
        if NGINX is None:
            raise RuntimeError("nginx is not installed (scripts/system-deps.sh --test installs nginx-light)")
        d = self.root / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        self.nginx_port = free_port()
        upstreams = "\n".join(f"        server 127.0.0.1:{p.port} max_fails=1 fail_timeout=5s;"
                               for p in (webs or self.webs))
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp dirs under /tmp
        conf = d / "nginx.conf"
        conf.write_text(f"""{user}worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections {worker_connections}; }}
http {{
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    log_format superapp '$remote_addr [$time_iso8601] "$request_method $uri" $status $body_bytes_sent '
                        '$request_time ups=$upstream_addr';
    access_log {d}/access.log superapp;
    upstream superapp_web {{
{upstreams}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        include {ROOT}/config/nginx/superapp-locations.conf;
    }}
}}
""")
        check = subprocess.run([NGINX, "-t", "-p", str(d), "-c", str(conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t: {check.stderr.strip()}")
        self.nginx = subprocess.Popen([NGINX, "-p", str(d), "-c", str(conf), "-g", "daemon off;"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=open(d / "stderr.log", "ab"))
        wait_http(f"{self.url}/healthz", 30)

    def access_log(self) -> list[str]:
        path = self.root / "nginx" / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def kill(self, proc: Proc, sig: int = signal.SIGKILL) -> None:
        proc.popen.send_signal(sig)
        proc.popen.wait(30)

    def stop_nginx(self) -> None:
        nginx, self.nginx = self.nginx, None
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()

    def stop(self) -> None:
        self.stop_nginx()
        for proc in self.procs:
            if proc.alive():
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.popen.wait(30)
            except subprocess.TimeoutExpired:
                proc.popen.send_signal(signal.SIGUSR1)  # stacks into its log
                time.sleep(1)
                proc.popen.kill()
                proc.popen.wait()


def wait_http(url: str, timeout: float, proc: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited: {proc.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError as e:
            if getattr(e, "code", None) and e.code < 500:  # up, answering
                return
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
