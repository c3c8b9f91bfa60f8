"""Live events over WebSocket (the mini-program's wx.connectSocket) and the resume both
transports share: the same authentication, one JSON message per event with its id, what a
reconnecting client missed sent first, and the stream ended (4401) when its login is revoked."""
from __future__ import annotations

import asyncio
import json

import jwt
import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.support import EventStream, assert_problem, bearer, sms_login

pytestmark = pytest.mark.redis_modes


def ws_url(app, token: str | None = None, since: str = "") -> str:
    url = app.runner.url.replace("http://", "ws://") + "/api/v1/events/ws"
    query = "&".join(q for q in (f"access_token={token}" if token else "", f"since={since}" if since else "") if q)
    return url + (f"?{query}" if query else "")


def audience(login: dict) -> str:
    return "person:" + jwt.decode(login["access_token"], options={"verify_signature": False})["sub"]


async def next_message(conn, timeout: float = 10) -> dict | None:
    msg = await asyncio.wait_for(conn.read_message(), timeout)
    return None if msg is None else json.loads(msg)


async def test_events_arrive_with_their_ids_and_a_reconnect_gets_what_it_missed(idapp):
    login = await sms_login(idapp.api)
    hub = idapp.runner.ctx.events
    req = HTTPRequest(ws_url(idapp), headers=bearer(login["access_token"]))  # wx.connectSocket sets headers
    conn = await websocket_connect(req)
    await asyncio.sleep(0.2)  # subscribed
    first_id = await hub.publish(audience(login), {"type": "consent.requested", "consent_id": "c1", "by": "1 号终端"})
    got = await next_message(conn)
    assert got == {"id": first_id, "type": "consent.requested", "consent_id": "c1", "by": "1 号终端"}
    conn.close()
    await asyncio.sleep(0.2)

    # while the phone was away (a tunnel, a network change): two more
    await hub.publish(audience(login), {"type": "consent.requested", "consent_id": "c2"})
    await hub.publish(audience(login), {"type": "application.progress", "number": "GZ1"})
    again = await websocket_connect(ws_url(idapp, login["access_token"], since=first_id))  # a browser: query
    missed = [await next_message(again), await next_message(again)]
    assert [m["type"] for m in missed] == ["consent.requested", "application.progress"]
    assert missed[0]["consent_id"] == "c2" and missed[0]["id"] > first_id
    live_id = await hub.publish(audience(login), {"type": "code.scanned", "by": "窗口"})
    assert (await next_message(again))["id"] == live_id  # then live, each once
    again.close()

    # the SSE stream resumes the same way, from Last-Event-ID
    async with EventStream(idapp.runner.url, login["access_token"], since=first_id) as sse:
        assert (await sse.next("consent.requested"))["consent_id"] == "c2"


async def test_a_revoked_login_ends_its_socket_and_no_other(idapp):
    login = await sms_login(idapp.api)
    await asyncio.sleep(1.1)  # the resend interval
    other = await sms_login(idapp.api, login["phone"])  # the same person on a second device
    mine = await websocket_connect(HTTPRequest(ws_url(idapp), headers=bearer(login["access_token"])))
    theirs = await websocket_connect(HTTPRequest(ws_url(idapp), headers=bearer(other["access_token"])))
    await asyncio.sleep(0.2)
    resp = await idapp.api.post("/api/v1/auth/logout", {"refresh_token": login["refresh_token"]},
                                headers=bearer(login["access_token"]))
    assert resp.status == 204
    notice = await next_message(mine)
    assert notice["type"] == "session.revoked"
    assert await next_message(mine) is None and mine.close_code == 4401
    # the other device's socket stays; logging out everywhere ends it too
    resp = await idapp.api.post("/api/v1/auth/logout-all", headers=bearer(other["access_token"]))
    assert resp.status == 204
    assert (await next_message(theirs))["type"] == "session.revoked"
    assert await next_message(theirs) is None and theirs.close_code == 4401


async def test_bad_connections_get_a_problem_and_no_socket(idapp):
    login = await sms_login(idapp.api)
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(ws_url(idapp))  # no token
    assert info.value.code == 401
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(ws_url(idapp, "not-a-token"))
    assert info.value.code == 401
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(ws_url(idapp, login["access_token"], since="yesterday"))
    assert info.value.code == 400
    # a plain GET (no handshake) is a clear problem, not a bare text
    body = assert_problem(await idapp.api.get("/api/v1/events/ws", headers=bearer(login["access_token"])),
                          400, "websocket_required")
    assert body["errors"][0]["field"] == "Upgrade"
    # another site's page may not open a socket with a token it stole
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(HTTPRequest(ws_url(idapp, login["access_token"]),
                                            headers={"Origin": "https://evil.example"}))
    assert info.value.code == 403
