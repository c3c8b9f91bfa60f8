"""Start and stop the whole product: embedded servers (dev), storage, schema, demo
data, the HTTP server; and a graceful stop in reverse order."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import tornado.httpserver
import tornado.netutil
from tornado.web import URLSpec

from server.config import ConfigError, Settings
from server.embedded import (
    DataDirLock,
    EmbeddedMongo,
    EmbeddedRedis,
    EmbeddedServer,
    EmbeddedStartError,
)
from server.http.app import PlatformApp
from server.jobs import PeriodicJob
from server.storage import mongo as mongo_storage
from server.storage import redis as redis_storage
from payments.provider import Merchant, load_merchants
from superapp.context import AppContext, Clients, build_context
from superapp.demo import DemoData, issue_demo_certificates, load_demo, read_demo, registered_demo_keys
from superapp.fakes.bank import FakeBankState, make_fake_bank
from superapp.fakes.base import FakeServer
from superapp.fakes.wechat import FakeWeChatState, make_fake_wechat
from superapp.fakes.wechatpay import DevMerchant, FakeWeChatPayState, make_fake_wechatpay
from superapp.routes import make_app
from superapp.schema import all_collections

log = logging.getLogger("superapp")


class StartupError(RuntimeError):
    """Start-up failed; the message is one line for the operator."""


@dataclass
class Runner:
    settings: Settings
    extra_routes: list[URLSpec] = field(default_factory=list)
    clients: Clients | None = None
    ctx: AppContext | None = None
    app: PlatformApp | None = None
    server: tornado.httpserver.HTTPServer | None = None
    port: int = 0
    mongo_uri: str = ""
    redis_url: str = ""
    wechat_url: str = ""
    fake_wechat: FakeWeChatState | None = None
    fake_bank: FakeBankState | None = None
    fake_wechatpay: FakeWeChatPayState | None = None
    _fakes: list[FakeServer] = field(default_factory=list)
    _jobs: list[PeriodicJob] = field(default_factory=list)
    _embedded: list[EmbeddedServer] = field(default_factory=list)
    _lock: DataDirLock | None = None
    _sockets: list = field(default_factory=list)

    @property
    def url(self) -> str:
        host = self.settings.http.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{shown}:{self.port}"

    def _wechatpay(self) -> tuple[str, dict[str, Merchant]]:
        """WeChat Pay's gateway and merchant accounts: ``[payments] merchants_file``; in development
        without one, fake accounts for the catalog's collectors on a fake WeChat Pay on loopback."""
        s = self.settings
        if s.payments.merchants_file:
            try:
                merchants = load_merchants(s.path(s.payments.merchants_file), s.payments.apiv3_keys, s.path)
            except ValueError as e:
                raise ConfigError("payments.merchants_file", str(e)) from None
            return s.payments.api_base_url, merchants
        if not s.is_dev:
            return s.payments.api_base_url, {}
        catalog = json.loads(s.path(s.matters.catalog_file).read_text(encoding="utf-8"))
        ids = sorted({m["charges"]["collector"]["merchant"] for m in catalog["matters"] if "charges" in m})
        merchants = {mid: DevMerchant.generate(f"19000{i + 1:05d}", s.wechat.appid, s.wechat.oa_appid)
                     for i, mid in enumerate(ids)}
        server, self.fake_wechatpay = make_fake_wechatpay(list(merchants.values()))
        self._fakes.append(server.start())
        return server.url, {mid: Merchant(mid, m.mchid, m.appid, m.serial_no, m.private_key_pem, m.apiv3_key,
                                          m.platform_public_pem, m.public_key_id, m.oa_appid)
                            for mid, m in merchants.items()}

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        timeout = s.embedded.start_timeout_seconds
        self.mongo_uri, self.redis_url = s.mongodb.uri, s.redis.url
        if s.embedded_mongodb or s.embedded_redis:
            data_dir = s.path(s.embedded.data_dir)
            self._lock = DataDirLock(data_dir)
            self._lock.acquire()
            if s.embedded_mongodb:
                mongo = EmbeddedMongo(data_dir)
                self._embedded.append(mongo)
                await mongo.start(timeout)
                self.mongo_uri = mongo.uri
            if s.embedded_redis:
                redis = EmbeddedRedis(data_dir)
                self._embedded.append(redis)
                await redis.start(timeout)
                self.redis_url = redis.uri

        self.wechat_url = s.wechat.api_base_url
        if not self.wechat_url and s.is_dev:
            # Dev: the real wechatpy client talks to a fake WeChat API on loopback.
            server, self.fake_wechat = make_fake_wechat(s.wechat.appid, s.wechat.secret, s.wechat.oa_appid,
                                                        s.wechat.oa_secret)
            self._fakes.append(server.start())
            self.wechat_url = server.url
        bank_url = ""
        if s.is_dev:
            # Dev: policy payouts go to a fake bank on loopback, over the production client.
            bank, self.fake_bank = make_fake_bank()
            self._fakes.append(bank.start())
            bank_url = bank.url
        wechatpay = self._wechatpay()

        self.clients = clients = Clients.make(s, self.mongo_uri, self.redis_url)
        try:
            await mongo_storage.wait_until_reachable(clients.mongo, timeout)
        except Exception as e:
            raise StartupError(f"MongoDB at {_redact(self.mongo_uri)} is not reachable: {e}") from None
        try:
            await redis_storage.wait_until_reachable(clients.redis, timeout)
        except Exception as e:
            raise StartupError(f"Redis at {_redact(self.redis_url)} is not reachable: {e}") from None

        await mongo_storage.ensure_schema(clients.db, all_collections())
        demo: DemoData | None = None
        if s.load_demo_data:
            demo = read_demo(s.path(s.dev.demo_dir))
            await load_demo(clients, demo)
        elif not s.is_dev and s.path(s.dev.demo_dir).is_dir():
            found = await registered_demo_keys(clients, read_demo(s.path(s.dev.demo_dir)))
            if found:
                raise ConfigError("dev.demo_dir", "public demo keys are registered in production: " + ", ".join(found))

        sockets = []
        if s.serves_http:
            # Bound first: the public address (share links) follows the port in dev, even port 0.
            try:
                sockets = tornado.netutil.bind_sockets(s.http.port, s.http.host, family=socket.AF_INET)
            except OSError as e:
                raise ConfigError("http.port", f"cannot listen on {s.http.host}:{s.http.port}: {e.strerror}") from None
            self._sockets = sockets
            self.port = sockets[0].getsockname()[1]
        public = s.http.public_base_url or self.url
        self.ctx = ctx = await build_context(clients, self.wechat_url, public, demo, bank_url, wechatpay)
        if demo is not None:
            await issue_demo_certificates(ctx, demo)
        await ctx.devices.sync_cache()
        if s.runs_workers:
            await ctx.recorder.start()
            self._jobs = [PeriodicJob("certificate-reminders", 3600, ctx.wallet.scan_reminders),
                          PeriodicJob("notification-outbox-sweep", 10, ctx.lifecycle.flush_outbox),
                          PeriodicJob("idempotency-key-prune", 3600, ctx.idempotency.prune),
                          PeriodicJob("ticket-outbox-sweep", 10, ctx.ticket_lifecycle.flush_outbox),
                          PeriodicJob("ticket-supervision", s.tickets.supervise_every_seconds,
                                      ctx.ticket_desk.supervise),
                          PeriodicJob("ticket-rectification-catch-up", 300, ctx.tickets.catch_up_rectifications),
                          PeriodicJob("appointment-no-shows", s.halls.no_show_every_seconds, ctx.booking.mark_no_shows),
                          PeriodicJob("proxy-grant-expiry", 3600, ctx.proxies.expire_due),
                          PeriodicJob("policy-rechecks", 60, ctx.policies.recheck_due),
                          PeriodicJob("policy-announcements", 300, ctx.policies.announce_new),
                          PeriodicJob("policy-birthdays", 3600, ctx.policies.birthdays),
                          PeriodicJob("payment-sweep", s.payments.sweep_every_seconds,
                                      lambda: ctx.payments.sweep(s.payments.query_after_seconds)),
                          PeriodicJob("payment-reconciliation", 3600, ctx.reconciliation.daily)]
            ctx.notifications.start()
            for job in self._jobs:
                job.start()
        if not s.serves_http:
            return
        await ctx.events.start()

        self.app = make_app(ctx, self.extra_routes)
        self.server = tornado.httpserver.HTTPServer(
            self.app,
            xheaders=s.http.xheaders,
            # Handlers enforce their own (smaller) limits with a 413; this is the hard cap.
            max_body_size=max(s.http.max_body_bytes, 64 * 1024 * 1024),
            idle_connection_timeout=60,
        )
        self.server.add_sockets(sockets)
        self._sockets = []

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (bounded), close clients, stop children."""
        grace = self.settings.http.shutdown_grace_seconds
        for sock in self._sockets:  # bound, but start-up failed before serving
            sock.close()
        self._sockets = []
        if self.server is not None:
            self.server.stop()
            if self.ctx is not None:
                self.ctx.events.close_streams()  # event streams end; other requests may finish
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace
            while self.app is not None and self.app.inflight > 0 and loop.time() < deadline:
                await asyncio.sleep(0.05)
            if self.app is not None and self.app.inflight > 0:
                log.warning("%d request(s) still running after %.0fs; closing them", self.app.inflight, grace)
            try:
                await asyncio.wait_for(self.server.close_all_connections(), 2)
            except asyncio.TimeoutError:
                pass
            self.server = None
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [(f"job {j.name}", j.stop) for j in self._jobs]
        self._jobs = []
        if self.ctx is not None:
            ctx, self.ctx = self.ctx, None
            steps += [("notifications", ctx.notifications.stop), ("scan recorder", ctx.recorder.stop),
                      ("event hub", ctx.events.stop), ("clients", ctx.close)]
        elif self.clients is not None:
            steps.append(("clients", self.clients.close))
        self.clients = None
        steps += [(f"fake {type(f).__name__}", f.stop) for f in self._fakes]
        steps += [(child.name, child.stop) for child in reversed(self._embedded)]
        self._fakes, self._embedded = [], []
        loop = asyncio.get_running_loop()
        try:
            for name, step in steps:
                started = loop.time()
                try:
                    await step()
                except Exception:  # noqa: BLE001 - one step failing must not leave the others running
                    log.exception("stopping %s failed", name)
                if loop.time() - started > 2:  # every step is bounded; a slow one is named
                    log.warning("stopping %s took %.1fs", name, loop.time() - started)
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None


def _redact(uri: str) -> str:
    """Hide credentials in a connection string before printing it."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri


__all__ = ["Runner", "StartupError", "EmbeddedStartError"]
