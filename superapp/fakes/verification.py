"""A fake identity-verification service for tests of the production provider
(``verification.provider = "http"``); the protocol is in identity/verification.py.

``people`` maps a document number to the name on it, or to ``{"name", "id_type",
"nationality", "visa_number"}`` for a cross-border document (which must then be asked for
with that type, and for a passport that nationality and visa)."""
from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode

import tornado.web

from superapp.fakes.base import FakeServer


class FakeVerificationState:
    def __init__(self, token: str, people: dict[str, Any]):
        self.token = token
        self.people = dict(people)  # id_number -> name, or {"name", "id_type", "nationality", "visa_number"}
        self.calls: list[dict[str, str]] = []
        self.broken = False
        self.sessions: dict[str, dict[str, str]] = {}  # H5 face sessions


class _Handler(tornado.web.RequestHandler):
    def initialize(self, state: FakeVerificationState, kind: str) -> None:
        self.state = state
        self.kind = kind

    def post(self) -> None:
        if self.request.headers.get("Authorization") != f"Bearer {self.state.token}":
            raise tornado.web.HTTPError(401)
        if self.state.broken:
            raise tornado.web.HTTPError(502)
        body = json.loads(self.request.body)
        self.state.calls.append({"kind": self.kind, **body})
        name, visa_ok = _holder(self.state.people.get(body["id_number"]), body)
        if self.kind == "session":
            session = "fs" + secrets.token_hex(8)
            self.state.sessions[session] = {"name": body["name"], "id_number": body["id_number"],
                                            "return_url": body["return_url"], "passed": ""}
            here = f"{self.request.protocol}://{self.request.host}"
            self.finish({"url": f"{here}/h5/face?{urlencode({'session': session})}"})
            return
        if self.kind == "identity":
            result = "not_found" if name is None else ("match" if name == body["name"] and visa_ok else "mismatch")
        else:
            evidence = body.get("evidence", "")
            session = self.state.sessions.pop(evidence, None) if evidence.startswith("fs") else None
            bound = session is None or (session["passed"] and session["id_number"] == body["id_number"])
            live = evidence == "live-ok" or (session is not None and bound)
            result = "pass" if name == body["name"] and live else "fail"
        self.finish({"result": result})


def _holder(entry: Any, body: dict[str, Any]) -> tuple[str | None, bool]:
    """(the name on the document asked about, whether the visa given matches)."""
    if entry is None or isinstance(entry, str):
        return entry, True
    if entry.get("id_type", "resident_id") != body.get("id_type", "resident_id"):
        return None, True
    if entry.get("nationality") and entry["nationality"] != body.get("nationality"):
        return None, True
    return entry["name"], "visa_number" not in body or body["visa_number"] == entry.get("visa_number")


class _FacePage(tornado.web.RequestHandler):
    """The provider's face page in a phone's browser: here it passes at once and sends the
    person back with the session as the evidence (usable once, for that person only)."""

    def initialize(self, state: FakeVerificationState) -> None:
        self.state = state

    def get(self) -> None:
        session = self.state.sessions.get(self.get_query_argument("session", ""))
        if session is None:
            raise tornado.web.HTTPError(404)
        session["passed"] = "1"
        url = session["return_url"]
        sep = "&" if "?" in url else "?"
        self.redirect(f"{url}{sep}{urlencode({'face_result': self.get_query_argument('session')})}")


def make_fake_verification(token: str, people: dict[str, Any]) -> tuple[FakeServer, FakeVerificationState]:
    state = FakeVerificationState(token, people)
    app = tornado.web.Application([
        (r"/v1/verify/identity", _Handler, {"state": state, "kind": "identity"}),
        (r"/v1/verify/face", _Handler, {"state": state, "kind": "face"}),
        (r"/v1/face/sessions", _Handler, {"state": state, "kind": "session"}),
        (r"/h5/face", _FacePage, {"state": state}),
    ])
    return FakeServer(app), state
