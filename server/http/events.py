"""The live event stream (server-sent events) of people, kiosks and clerks.

Any process may publish an event for an audience (``person:<id>``, ``device:<id>``,
``staff:<username>``) through the :class:`~server.events.EventHub`; the process holding
the listener's connection delivers it."""
from __future__ import annotations

import asyncio
import json

from tornado.iostream import StreamClosedError

from server.events import CLOSED, EventHub
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import KIOSK, PERSON_CHANNELS, STAFF, Principal

AUDIENCE_OF_CHANNEL = {KIOSK: "device", STAFF: "staff"}


def audience_of(principal: Principal) -> str:
    """The events audience of a caller: its channel's kind and its subject's id."""
    kind = AUDIENCE_OF_CHANNEL.get(principal.channel, "person")
    return f"{kind}:{principal.subject.split(':', 1)[-1]}"


class EventsHandler(BaseHandler):
    """Server-sent events. EventSource cannot set headers, so the access token may also
    come as ``?access_token=`` (only on this endpoint; the access log records no query)."""

    def initialize(self, hub: EventHub) -> None:
        self.hub = hub

    def bearer_token(self) -> str:
        return super().bearer_token() or self.get_query_argument("access_token", "")

    @operation("实时事件流（SSE）：码被扫、授权请求、授权结果", tags=["事件 Events"],
               auth=[*PERSON_CHANNELS, KIOSK, STAFF], content_type="text/event-stream")
    async def get(self, principal: Principal) -> None:
        audience = audience_of(principal)
        queue = await self.hub.listen(audience)
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self._closed = asyncio.Event()
        try:
            self.write(": connected\n\nretry: 3000\n\n")
            await self.flush()
            while not self._closed.is_set():
                try:
                    event = await asyncio.wait_for(queue.get(), 15)
                except asyncio.TimeoutError:
                    self.write(": keep-alive\n\n")
                else:
                    if event is CLOSED:
                        break
                    self.write(f"event: {event.get('type', 'message')}\n"
                               f"data: {json.dumps(event, ensure_ascii=False)}\n\n")
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            await self.hub.unlisten(audience, queue)
        if not self._finished:
            self.finish()

    def on_connection_close(self) -> None:
        closed = getattr(self, "_closed", None)
        if closed is not None:
            closed.set()
        super().on_connection_close()


def routes(hub: EventHub) -> list:
    return [route(r"/api/v1/events", EventsHandler, hub=hub)]
