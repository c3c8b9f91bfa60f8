"""Notifications, delivered by workers.

A domain hands in notification requests, each with a key of its own (for an application
step ``<application id>:<timeline index>``), so a notification exists once whatever is
retried (the domain's outbox decides what to hand in; see ``matters.lifecycle``). Workers
lease a due notification, deliver it (WeChat subscribe message for mini-program users, SMS
otherwise, and the in-app event stream), then mark it sent; failures are retried with
exponential backoff and finally marked failed. A worker that dies mid-delivery loses its
lease and another takes the notification over.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

from identity.facade import Directory
from notifications.storage import NotificationStore
from server.clock import now_ms
from server.config import NotificationsConfig
from server.errors import AppError
from server.events import EventHub
from server.jobs import stop_task
from server.principal import Principal, require_role
from server.providers.sms import SmsSender
from server.providers.wechat import WeChatGateway

log = logging.getLogger("superapp.notifications")
CHINA = timezone(timedelta(hours=8))
PERMANENT_WECHAT_ERRORS = {43101, 47003, 40003}  # refused subscription, bad data, bad openid
ABOUT = {"application": "申请", "ticket": "诉求", "queue": "排号", "proxy": "代办授权", "policy": "政策"}  # what a message is about, in its words


class Notifications:
    def __init__(self, store: NotificationStore, directory: Directory, wechat: WeChatGateway, sms: SmsSender,
                 events: EventHub, config: NotificationsConfig):
        self.store = store
        self.directory = directory
        self.wechat = wechat
        self.sms = sms
        self.events = events
        self.cfg = config
        self.owner = f"{socket.gethostname()}-{os.getpid()}"
        self._task: asyncio.Task | None = None
        self._stopping = False

    # -- requests --------------------------------------------------------------------------------

    async def enqueue(self, requests: list[dict[str, Any]]) -> int:
        """Record notifications to deliver; a key seen before is skipped (never twice).
        Each request: ``_id`` (its key), ``person_id`` (or ``phone``: a department's duty
        phone), ``title``, ``state``, ``state_name``, ``number``, ``comment``, ``at``, ``page``,
        ``department``, what it is about (``about``: application (default), ticket or queue) and its
        id (``application_id`` / ``ticket_id`` / ``queue_id``)."""
        now = now_ms()
        return await self.store.add_many([{
            **r, "status": "pending", "attempts": 0, "next_attempt_at": now, "lease_until": 0, "lease_owner": None,
            "channel": None, "last_error": None, "created_at": now, "sent_at": None} for r in requests])

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
        about = doc.get("about", "application")
        noun = ABOUT[about]
        if not doc.get("person_id"):  # a department's duty phone (a ticket sent to it, or supervised)
            await self.sms.send(doc["phone"], f"{about}_progress", {"number": doc["number"], "state": doc["state_name"]},
                                f"【政务超级应用】{noun} {doc['number']}（{doc['title']}）{doc['state_name']}。{doc['comment']}".strip())
            return "sms"
        contact = await self.directory.contact(doc["person_id"])
        when = datetime.fromtimestamp(doc["at"] / 1000, CHINA).strftime("%Y-%m-%d %H:%M")
        with contextlib.suppress(Exception):  # the live stream is a bonus, not the delivery
            await self.events.publish(f"person:{doc['person_id']}", {
                "type": f"{about}.progress", f"{about}_id": doc[f"{about}_id"], "number": doc["number"],
                "state": doc["state"], "state_name": doc["state_name"], "comment": doc["comment"]})
        if contact.openid:
            await self.wechat.send_subscribe_message(contact.openid, self.cfg.wechat_template_id, {
                "thing1": {"value": doc["title"][:20]}, "phrase2": {"value": doc["state_name"][:5]},
                "character_string3": {"value": doc["number"]}, "time4": {"value": when},
                "thing5": {"value": (doc["comment"] or "详情请在小程序中查看")[:20]},
            }, page=doc.get("page"))
            return "wechat"
        if contact.phone:
            text = (f"【政务超级应用】您的{noun} {doc['number']}（{doc['title']}）{doc['state_name']}。"
                    f"{doc['comment']}".strip())
            await self.sms.send(contact.phone, f"{about}_progress",
                                {"number": doc["number"], "state": doc["state_name"]}, text)
            return "sms"
        return "in_app"

    async def for_support(self, principal: Principal, status: str | None, application_id: str | None,
                          limit: int) -> list[dict[str, Any]]:
        """Delivery status for support staff (platform admins; supervisors see their department's)."""
        require_role(principal, "admin", "supervisor")
        department = None if "admin" in (principal.claims.get("roles") or []) else principal.claims.get("dept", "")
        if application_id:
            docs = await self.store.of_application(application_id)
            if department is not None:
                docs = [d for d in docs if d.get("department") == department]
        else:
            docs = await self.store.recent(status, limit, department)
        return [d for d in docs if status is None or d["status"] == status]

    async def run(self) -> None:
        while not self._stopping:  # as well as the cancellation (see server.jobs.PeriodicJob)
            try:
                if not await self.deliver_one():
                    await asyncio.sleep(self.cfg.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the worker alive
                log.exception("notification worker error")
                await asyncio.sleep(1)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="notification-worker")

    async def stop(self) -> None:
        self._stopping = True
        await stop_task(self._task)
        self._task = None
