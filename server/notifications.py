"""Notifications of application progress: a transactional outbox, delivered by workers.

The outbox is the application itself: every state change appends to its timeline and
raises ``outbox_pending`` in the same (version-guarded) update. Right after, and again
from a periodic sweep if a process died in between, each timeline entry becomes one
notification whose ``_id`` is ``<application id>:<timeline index>`` — so it exists once,
whatever is retried. Workers lease a due notification, deliver it (WeChat subscribe
message for mini-program users, SMS otherwise, and the in-app event stream), then mark
it sent; failures are retried with exponential backoff and finally marked failed. A
worker that dies mid-delivery loses its lease and another takes the notification over.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from server.jobs import stop_task
import os
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

from identity.sms import SmsSender
from identity.storage import PersonStore
from identity.wechat import WeChatGateway
from server.clock import now_ms
from server.config import Settings
from server.errors import AppError
from server.events import EventHub
from server.matters.service import STATE_NAMES
from server.matters.storage import MatterStore
from server.pii import PiiCipher
from server.storage.notifications import NotificationStore

log = logging.getLogger("superapp.notifications")
CHINA = timezone(timedelta(hours=8))
PERMANENT_WECHAT_ERRORS = {43101, 47003, 40003}  # refused subscription, bad data, bad openid


class Notifier:
    def __init__(self, store: NotificationStore, apps: MatterStore, persons: PersonStore, pii: PiiCipher,
                 wechat: WeChatGateway, sms: SmsSender, events: EventHub, settings: Settings):
        self.store = store
        self.apps = apps
        self.persons = persons
        self.pii = pii
        self.wechat = wechat
        self.sms = sms
        self.events = events
        self.cfg = settings.notifications
        self.owner = f"{socket.gethostname()}-{os.getpid()}"
        self._task: asyncio.Task | None = None

    # -- outbox -> notifications --------------------------------------------------------------

    async def enqueue_application(self, app: dict[str, Any]) -> int:
        """One notification per timeline entry not yet turned into one (idempotent)."""
        added = 0
        now = now_ms()
        for i in range(app.get("notified_upto", 0), len(app["timeline"])):
            entry = app["timeline"][i]
            added += await self.store.add({
                "_id": f"{app['_id']}:{i}", "application_id": app["_id"], "number": app["number"],
                "person_id": app["applicant"]["person_id"], "matter_name": app["matter_name"],
                "state": entry["state"], "state_name": STATE_NAMES.get(entry["state"], entry["state"]),
                "comment": entry.get("comment", ""), "at": entry["at"], "status": "pending", "attempts": 0,
                "next_attempt_at": now, "lease_until": 0, "lease_owner": None, "channel": None, "last_error": None,
                "created_at": now, "sent_at": None,
            })
        await self.apps.mark_notified(app["_id"], app["version"], len(app["timeline"]))
        return added

    async def sweep(self) -> int:
        """Finish the outbox of applications whose notifications were not created (a crash)."""
        n = 0
        for app in await self.apps.outbox_pending(older_than=now_ms() - 5_000):
            n += await self.enqueue_application(app)
        return n

    # -- delivery ------------------------------------------------------------------------------------

    async def deliver_one(self) -> bool:
        doc = await self.store.claim(self.owner, now_ms(), int(self.cfg.lease_seconds * 1000))
        if doc is None:
            return False
        try:
            channel = await self._send(doc)
        except Exception as e:  # noqa: BLE001 - any failure is retried or recorded
            permanent = isinstance(e, AppError) and e.extra.get("wechat_errcode") in PERMANENT_WECHAT_ERRORS
            attempts = doc["attempts"]
            if permanent or attempts >= self.cfg.max_attempts:
                await self.store.finish(doc["_id"], self.owner, {"status": "failed", "last_error": str(e)[:300]})
                log.warning("notification %s failed for good: %s", doc["_id"], e)
            else:
                delay = self.cfg.base_backoff_seconds * 2 ** (attempts - 1)
                await self.store.finish(doc["_id"], self.owner, {
                    "status": "pending", "last_error": str(e)[:300], "lease_until": 0,
                    "next_attempt_at": now_ms() + int(delay * 1000)})
            return True
        await self.store.finish(doc["_id"], self.owner, {"status": "sent", "channel": channel, "sent_at": now_ms(),
                                                        "last_error": None})
        return True

    async def _send(self, doc: dict[str, Any]) -> str:
        person = await self.persons.get(doc["person_id"]) or {}
        when = datetime.fromtimestamp(doc["at"] / 1000, CHINA).strftime("%Y-%m-%d %H:%M")
        with contextlib.suppress(Exception):  # the live stream is a bonus, not the delivery
            await self.events.publish(f"person:{doc['person_id']}", {
                "type": "application.progress", "application_id": doc["application_id"], "number": doc["number"],
                "state": doc["state"], "state_name": doc["state_name"], "comment": doc["comment"]})
        bindings = [b for b in await self.persons.bindings_of("wechat", doc["person_id"])
                    if b["_id"].startswith(self.wechat.appid + ":")]
        if bindings:
            openid = bindings[0]["_id"].split(":", 1)[1]
            await self.wechat.send_subscribe_message(openid, self.cfg.wechat_template_id, {
                "thing1": {"value": doc["matter_name"][:20]}, "phrase2": {"value": doc["state_name"][:5]},
                "character_string3": {"value": doc["number"]}, "time4": {"value": when},
                "thing5": {"value": (doc["comment"] or "详情请在小程序中查看")[:20]},
            }, page=f"pages/applications/detail?id={doc['application_id']}")
            return "wechat"
        if person.get("phone_enc"):
            phone = self.pii.decrypt(person["phone_enc"], "phone")
            text = (f"【政务超级应用】您的申请 {doc['number']}（{doc['matter_name']}）{doc['state_name']}。"
                    f"{doc['comment']}".strip())
            await self.sms.send(phone, "application_progress",
                                {"number": doc["number"], "state": doc["state_name"]}, text)
            return "sms"
        return "in_app"

    async def for_support(self, principal: Any, status: str | None, application_id: str | None,
                          limit: int) -> list[dict[str, Any]]:
        """Delivery status for support staff (platform admins, department supervisors)."""
        from identity.staff import require_role

        require_role(principal, "admin", "supervisor")
        if application_id:
            docs = await self.store.of_application(application_id)
        else:
            docs = await self.store.recent(status, limit)
        if "admin" not in (principal.claims.get("roles") or []):
            own = {a["_id"] for a in await self.apps.of_department(principal.claims.get("dept", ""), None, None)}
            docs = [d for d in docs if d["application_id"] in own]
        return [d for d in docs if status is None or d["status"] == status]

    async def run(self) -> None:
        while True:
            try:
                if not await self.deliver_one():
                    await asyncio.sleep(self.cfg.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the worker alive
                log.exception("notification worker error")
                await asyncio.sleep(1)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="notification-worker")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
