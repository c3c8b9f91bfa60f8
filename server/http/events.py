"""The live event stream of people, kiosks and clerks: server-sent events
(``/api/v1/events``) and WebSocket (``/api/v1/events/ws``, for the mini-program's
``wx.connectSocket``), with the same events, authentication and revocation.

Any process may publish an event for an audience (``person:<id>``, ``device:<id>``,
``staff:<username>``) through the :class:`~server.events.EventHub`; the process holding
the listener's connection delivers it. A client that reconnects names the last event id it
saw (SSE: ``Last-Event-ID``, which browsers send by themselves; both: ``?since=``) and first
gets what it missed. A ``session.revoked`` event that covers the stream's token is delivered,
then the stream ends (WebSocket close code 4401)."""
from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from server.errors import FieldError, InvalidInput
from server.events import CLOSED, EVENT_ID, KEEPALIVE, EventHub, Mailbox, event_order, revokes
from server.http.base import BaseHandler
from server.http.routing import Header, operation, route
from server.principal import KIOSK, PERSON_CHANNELS, STAFF, Principal

AUDIENCE_OF_CHANNEL = {KIOSK: "device", STAFF: "staff"}
CHANNELS = [*PERSON_CHANNELS, KIOSK, STAFF]
TAGS = ["事件 Events"]
REVOKED_CLOSE = 4401


def audience_of(principal: Principal) -> str:
    """The events audience of a caller: its channel's kind and its subject's id."""
    kind = AUDIENCE_OF_CHANNEL.get(principal.channel, "person")
    return f"{kind}:{principal.subject.split(':', 1)[-1]}"


class _Stream:
    """What both transports share: listen first, then replay what the client missed (so
    nothing falls between the two), then live events in order, once each; a revocation
    that covers the token is the last event."""

    def __init__(self, hub: EventHub, principal: Principal, since: str):
        self.hub = hub
        self.principal = principal
        self.audience = audience_of(principal)
        self.since = since
        self.queue: Mailbox | None = None

    def covers(self, event: dict[str, Any]) -> bool:
        p = self.principal
        return revokes(event, p.jti, p.claims.get("fam"), p.iat)

    def meant_for(self, event: dict[str, Any]) -> bool:
        """Another login of the same person being revoked is nothing to this stream."""
        return event.get("type") != "session.revoked" or self.covers(event)

    async def events(self) -> AsyncIterator[Any]:
        """Events (dicts) and keep-alives, until the client goes, the process stops or the
        token is revoked."""
        self.queue = await self.hub.listen(self.audience)
        try:
            last = event_order(self.since) if self.since else None
            for event in await self.hub.since(self.audience, self.since) if self.since else []:
                last = event_order(event["id"])
                if not self.meant_for(event):
                    continue
                yield event
                if self.covers(event):
                    return
            # One await per event: the hub sends the keep-alives and, when the client goes
            # away, CLOSED (no timer or extra task per stream: 10 000 streams per process).
            while (event := await self.queue.get()) is not CLOSED:
                if event is not KEEPALIVE:
                    if last is not None and "id" in event and event_order(event["id"]) <= last:
                        continue  # already replayed
                    if not self.meant_for(event):
                        continue
                yield event
                if event is not KEEPALIVE and self.covers(event):
                    return
        finally:
            await self.hub.unlisten(self.audience, self.queue)

    def close(self) -> None:
        if self.queue is not None:
            self.queue.put_nowait(CLOSED)


def _since(handler: BaseHandler, header: str | None = None) -> str:
    value = handler.get_query_argument("since", "") or (handler.request.headers.get(header, "") if header else "")
    if value and not EVENT_ID.match(value):
        raise InvalidInput("since 应为事件编号，如 1733450000000-0", code="bad_event_id",
                           errors=[FieldError("since", "应为事件编号，如 1733450000000-0")])
    return value


class EventsHandler(BaseHandler):
    """Server-sent events. EventSource cannot set headers, so the access token may also
    come as ``?access_token=`` (only on these endpoints; the access log records no query)."""

    def initialize(self, hub: EventHub) -> None:
        self.hub = hub

    def bearer_token(self) -> str:
        return super().bearer_token() or self.get_query_argument("access_token", "")

    @operation("实时事件流（SSE）：码被扫、授权请求、授权结果、办件进度；断线重连时从 Last-Event-ID 之后补发",
               tags=TAGS, auth=CHANNELS, proxy="matters", content_type="text/event-stream", errors=(400,),
               headers={"Last-Event-ID": Header("上次收到的事件编号（浏览器重连时自动带上）", pattern=EVENT_ID.pattern,
                                                max_length=26)})
    async def get(self, principal: Principal) -> None:
        self._stream = stream = _Stream(self.hub, principal, _since(self, "Last-Event-ID"))
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        try:
            self.write(": connected\n\nretry: 3000\n\n")
            await self.flush()
            async for event in stream.events():
                if event is KEEPALIVE:
                    self.write(b": keep-alive\n\n")
                else:
                    head = f"id: {event['id']}\n" if "id" in event else ""
                    self.write(f"{head}event: {event.get('type', 'message')}\ndata: "
                               f"{json.dumps(event, ensure_ascii=False)}\n\n".encode())
                await self.flush()
        except StreamClosedError:
            pass
        if not self._finished:
            self.finish()

    def on_connection_close(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None:
            stream.close()
        super().on_connection_close()


class EventsSocketHandler(BaseHandler, WebSocketHandler):
    """The same events over a WebSocket: one JSON text message per event
    (``{"id", "type", …}``), WebSocket pings as keep-alives, close code 4401 when the login
    is revoked. The token comes as ``Authorization: Bearer`` (``wx.connectSocket`` can set
    headers) or ``?access_token=`` (a browser's WebSocket cannot)."""

    def initialize(self, hub: EventHub) -> None:
        self.hub = hub
        self._stream: _Stream | None = None
        self._pump: asyncio.Task | None = None

    def bearer_token(self) -> str:
        return super().bearer_token() or self.get_query_argument("access_token", "")

    def check_origin(self, origin: str) -> bool:
        # Same origin, or an origin the CORS settings allow (a token is needed either way).
        host = self.request.headers.get("Host", "")
        return origin.split("://", 1)[-1] == host or origin in self.application.http_config.cors_origins

    @operation("实时事件（WebSocket，供小程序 wx.connectSocket）：与 SSE 相同的事件；since=上次事件编号可补发；"
               "登录被注销时以 4401 关闭", tags=TAGS, auth=CHANNELS, proxy="matters", errors=(400,),
               headers={"Upgrade": Header("websocket", required=True, pattern="^[Ww]eb[Ss]ocket$", max_length=9)})
    async def get(self, principal: Principal) -> None:
        headers = self.request.headers
        if (headers.get("Upgrade", "").lower() != "websocket" or "upgrade" not in headers.get("Connection", "").lower()
                or not headers.get("Sec-WebSocket-Key") or headers.get("Sec-WebSocket-Version") != "13"):
            raise InvalidInput("请以 WebSocket 方式连接（Upgrade: websocket）", code="websocket_required",
                               errors=[FieldError("Upgrade", "需要 WebSocket 握手")])
        self._stream = _Stream(self.hub, principal, _since(self))
        await WebSocketHandler.get(self)

    def open(self, *args: Any, **kwargs: Any) -> None:
        self._count_out()  # an open socket is not a request a graceful stop waits for
        self._pump = asyncio.create_task(self._send_events())

    async def _send_events(self) -> None:
        assert self._stream is not None
        revoked = False
        try:
            async for event in self._stream.events():
                if event is KEEPALIVE:
                    self.ping()
                    continue
                await self.write_message(json.dumps(event, ensure_ascii=False))
                revoked = self._stream.covers(event)
        except (WebSocketClosedError, StreamClosedError):
            return
        self.close(REVOKED_CLOSE if revoked else 1001, "token_revoked" if revoked else "going away")

    def on_message(self, message: str | bytes) -> None:
        """Clients only listen; a message is answered with nothing (pings are frames)."""

    def on_close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def on_connection_close(self) -> None:
        WebSocketHandler.on_connection_close(self)
        self._count_out()


def routes(hub: EventHub) -> list:
    return [route(r"/api/v1/events", EventsHandler, hub=hub),
            route(r"/api/v1/events/ws", EventsSocketHandler, hub=hub)]
