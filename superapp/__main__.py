"""``python -m superapp`` (or the ``superapp`` command): run the whole product.

With MONGODB_URI / REDIS_URL unset it starts embedded servers under var/ (dev mode).
SIGTERM or Ctrl-C stops it gracefully and leaves no child process behind.
"""
from __future__ import annotations

import asyncio
import faulthandler
import logging
import signal
import sys

from server.config import ConfigError, Settings, load_settings
from server.embedded import EmbeddedStartError
from server.storage.redis import describe
from superapp.launcher import Runner, StartupError


class BufferedStreamHandler(logging.StreamHandler):
    """Writes without flushing after every record (a write system call per request was
    measurable on the hot path); ``serve`` flushes it every second and at exit."""

    def flush(self) -> None:
        pass

    def really_flush(self) -> None:
        super().flush()


def setup_logging(settings: Settings) -> BufferedStreamHandler:
    root = logging.getLogger()
    root.setLevel(settings.log.level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    access = logging.getLogger("superapp.access")
    access.propagate = False
    access_handler = BufferedStreamHandler(sys.stdout)
    access_handler.setFormatter(logging.Formatter("%(message)s"))
    access.handlers[:] = [access_handler]
    logging.getLogger("tornado.access").disabled = True
    return access_handler


async def _flush_every_second(handler: BufferedStreamHandler) -> None:
    while True:
        await asyncio.sleep(1)
        handler.really_flush()


async def serve(settings: Settings, access_handler: BufferedStreamHandler | None = None) -> None:
    flusher = asyncio.ensure_future(_flush_every_second(access_handler)) if access_handler else None
    try:
        await _serve(settings)
    finally:
        if flusher is not None:
            flusher.cancel()
            access_handler.really_flush()


async def _serve(settings: Settings) -> None:
    runner = Runner(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    start = asyncio.ensure_future(runner.start())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({start, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if not start.done():  # a signal arrived during start-up
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        await runner.stop()
        return
    start.result()  # re-raise a start-up failure
    s = settings
    if not s.serves_http:
        print(f"政务超级应用 worker is running (role {s.process.role}); press Ctrl-C to stop.", flush=True)
        await stopper
        await runner.stop()
        print("Stopped.", flush=True)
        return
    mode = "dev（开发模式）" if s.is_dev else "production（生产模式）"
    lines = [
        f"政务超级应用 is running in {mode}",
        f"  App        {runner.url}/",
        f"  API docs   {runner.url}/docs    OpenAPI {runner.url}/openapi.json",
        f"  Health     {runner.url}/healthz  Ready {runner.url}/readyz",
        f"  MongoDB    {'embedded nx-27017 ' if s.embedded_mongodb else ''}{_safe(runner.mongo_uri)}",
        f"  Redis      {'embedded redis-server ' if s.embedded_redis else ''}{_safe(describe(s.redis, runner.redis_url))}",
    ]
    if s.embedded_mongodb or s.embedded_redis:
        lines.append(f"  Data       {s.path(s.embedded.data_dir)}")
    if runner.fake_wechat is not None:
        lines.append(f"  WeChat     fake WeChat API {runner.wechat_url} (login codes test-<name>, phone codes test-<phone>)")
    if runner.fake_wechatpay is not None and runner.ctx is not None:
        lines.append(f"  WeChat Pay fake WeChat Pay v3 {runner.ctx.payment_gateway.gateway} (H5 payments open its cashier page)")
    if s.dev_endpoints:
        lines.append(f"  Demo       {runner.url}/api/v1/dev/demo  (demo accounts, dev only)")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
    await stopper
    print("Stopping…", flush=True)
    await runner.stop()
    print("Stopped.", flush=True)


def _safe(uri: str) -> str:
    from superapp.launcher import _redact

    return _redact(uri)


def main() -> int:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` dumps every stack
    try:
        settings = load_settings()
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    access_handler = setup_logging(settings)
    try:
        asyncio.run(serve(settings, access_handler))
    except (ConfigError, EmbeddedStartError, StartupError) as e:
        print(f"启动失败 start-up failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
