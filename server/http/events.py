"""The live event stream (server-sent events) of people, kiosks and clerks.

Any process may publish an event for an audience (``person:<id>``, ``device:<id>``,
``staff:<username>``) through the :class:`~server.events.EventHub`; the process holding
the listener's connection delivers it."""
from __future__ import annotations

import json

from tornado.iostream import StreamClosedError

from server.events import CLOSED, KEEPALIVE, EventHub
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
        self._queue = queue = await self.hub.listen(audience)
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        try:
            self.write(": connected\n\nretry: 3000\n\n")
            await self.flush()
            # One await per event: the hub sends the keep-alives and, when the client goes
            # away, CLOSED (no timer or extra task per stream: 10 000 streams per process).
            while (event := await queue.get()) is not CLOSED:
                if event is KEEPALIVE:
                    self.write(b": keep-alive\n\n")
                else:
                    self.write(f"event: {event.get('type', 'message')}\ndata: "
                               f"{json.dumps(event, ensure_ascii=False)}\n\n".encode())
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            await self.hub.unlisten(audience, queue)
        if not self._finished:
            self.finish()

    def on_connection_close(self) -> None:
        queue = getattr(self, "_queue", None)
        if queue is not None:
            queue.put_nowait(CLOSED)
        super().on_connection_close()


def routes(hub: EventHub) -> list:
    return [route(r"/api/v1/events", EventsHandler, hub=hub)]
