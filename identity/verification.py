"""Real-name (L2) and face (L3) verification providers.

Both have the same shape: given what the person claims, answer whether an authority
agrees. ``DevRegistryProvider`` answers from the demo population registry so the demo
works end to end; ``HttpVerificationProvider`` calls a verification service:

    POST {url}/v1/verify/identity  {"name", "id_number", "id_type"[, "nationality", "visa_number"]}
                                   -> {"result": "match" | "mismatch" | "not_found"}
    POST {url}/v1/verify/face      {"name", "id_number", "id_type"[, "nationality"], "evidence"}
                                   -> {"result": "pass" | "fail"}
    POST {url}/v1/face/sessions    {"name", "id_number", "id_type"[, "nationality"], "return_url"} -> {"url"}
    (Authorization: Bearer {token}; any other answer is treated as "service unavailable")

``id_type`` is one of :data:`identity.documents.ID_TYPES` (``resident_id`` for the 18-digit
numbers of GB 11643, whose format says which card it is; ``hk_macao_permit``,
``taiwan_permit``, ``passport``…); ``nationality`` is ISO 3166 alpha-3, sent for passports
(with the visa or residence permit number, checked once at real-name time).

Face evidence comes from the phone: in the mini-program, ``wx.startFacialRecognitionVerify``'s
``verifyResult``; in a browser, the provider's own face page (``/v1/face/sessions`` gives its
address), which sends the person back to ``return_url`` with ``?face_result=<evidence>``. Either
way the evidence is checked by the provider, bound to the person it was made for.
"""
from __future__ import annotations

import hmac
import json
import time
from typing import Literal, Protocol
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from identity.accounts.storage import RegistryStore
from identity.documents import Document, parse_document, type_of
from server.errors import Unavailable
from server.pii import PiiCipher

IdentityResult = Literal["match", "mismatch", "not_found"]
FaceResult = Literal["pass", "fail"]
DEV_FACE_EVIDENCE = "dev-face-pass"


_EIGHTEEN = ("resident_id", "residence_permit_hmt", "foreign_permanent_id")


class VerificationProvider(Protocol):
    async def verify_identity(self, name: str, id_number: str, id_type: str = "resident_id",
                              nationality: str | None = None, visa_number: str | None = None) -> IdentityResult: ...

    async def verify_face(self, name: str, id_number: str, evidence: str, id_type: str = "resident_id",
                          nationality: str | None = None) -> FaceResult: ...

    async def face_session(self, name: str, id_number: str, return_url: str, id_type: str = "resident_id",
                           nationality: str | None = None) -> str:
        """The address of the provider's face page for a browser (H5)."""


def _same_name(a: str, b: str) -> bool:
    """Names as written on a document: Latin letters in any case, spaces as they come."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class DevRegistryProvider:
    """Development: the seeded population registry. Face evidence ``dev-face-pass`` passes (the
    mini-program's simulated ``verifyResult``), as does the evidence of the development face
    page (``/api/v1/dev/face``): a signed, short-lived result bound to the ID number."""

    def __init__(self, registry: RegistryStore, pii: PiiCipher, face_page_url: str):
        self.registry = registry
        self.pii = pii
        self.face_page_url = face_page_url

    def face_evidence(self, id_number: str, until: int) -> str:
        """What the development face page hands back after a (simulated) pass."""
        return f"devface.{until}.{self.pii.blind_index(f'{id_number}:{until}', 'dev_face')}"

    def _evidence_ok(self, id_number: str, evidence: str) -> bool:
        if evidence == DEV_FACE_EVIDENCE:
            return True
        parts = evidence.split(".")
        if len(parts) != 3 or parts[0] != "devface" or not parts[1].isdigit():
            return False
        return int(parts[1]) >= time.time() and hmac.compare_digest(evidence, self.face_evidence(id_number, int(parts[1])))

    async def face_session(self, name: str, id_number: str, return_url: str, id_type: str = "resident_id",
                           nationality: str | None = None) -> str:
        until = int(time.time()) + 300
        ticket = self.face_evidence(id_number, until)
        own = self.face_page_url.split("/api/", 1)[0]  # the page is ours: it sends people back to a path
        back = return_url.removeprefix(own) if return_url.startswith(own + "/") else return_url
        return f"{self.face_page_url}?{urlencode({'ticket': ticket, 'return_url': back})}"

    async def register(self, name: str, id_type: str, id_number: str, nationality: str | None = None,
                       visa_number: str | None = None, gender: str | None = None,
                       birth_date: str | None = None) -> Document:
        """Put a person holding a cross-border document into the development population
        registry (tests and demos); the document is validated as a real-name request would be."""
        doc = parse_document(id_type, id_number, nationality, visa_number)
        fields = {"id_enc": self.pii.encrypt(doc.number, "id_number"), "name": name, "id_type": doc.id_type,
                  "document": doc.document, "nationality": doc.nationality,
                  "gender": gender or doc.gender,
                  "birth_date": birth_date or (doc.birth_date.isoformat() if doc.birth_date else None)}
        if doc.visa_number:
            fields["visa_bidx"] = self.pii.blind_index(doc.visa_number, "visa_number")
        await self.registry.add_person(self.pii.blind_index(doc.number, "id_number"), fields)
        return doc

    async def verify_identity(self, name: str, id_number: str, id_type: str = "resident_id",
                              nationality: str | None = None, visa_number: str | None = None) -> IdentityResult:
        doc = await self.registry.person_by_id_bidx(self.pii.blind_index(id_number, "id_number"))
        if doc is None:
            return "not_found"
        if id_type not in _EIGHTEEN and type_of(doc) != id_type:
            return "not_found"  # an 18-digit number's format says which card it is; these must agree
        if id_type == "passport" and doc.get("nationality") != nationality:
            return "not_found"  # another country's passport with the same number
        if not _same_name(doc["name"], name):
            return "mismatch"
        if visa_number is not None and doc.get("visa_bidx") != self.pii.blind_index(visa_number, "visa_number"):
            return "mismatch"
        return "match"

    async def verify_face(self, name: str, id_number: str, evidence: str, id_type: str = "resident_id",
                          nationality: str | None = None) -> FaceResult:
        if await self.verify_identity(name, id_number, id_type, nationality) != "match":
            return "fail"
        return "pass" if self._evidence_ok(id_number, evidence) else "fail"


class HttpVerificationProvider:
    def __init__(self, url: str, token: str, timeout: float = 5.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = AsyncHTTPClient()

    async def _post(self, path: str, payload: dict[str, str], allowed: set[str]) -> str:
        req = HTTPRequest(
            f"{self.url}{path}", method="POST", body=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            request_timeout=self.timeout,
        )
        try:
            resp = await self.http.fetch(req)
            result = json.loads(resp.body)["result"]
        except (HTTPClientError, OSError, ValueError, KeyError, TypeError) as e:
            raise Unavailable("身份核验服务暂时不可用，请稍后重试", code="verification_unavailable",
                              extra={"reason": str(e)[:200]}) from None
        if result not in allowed:
            raise Unavailable("身份核验服务返回了无法识别的结果", code="verification_unavailable")
        return result

    @staticmethod
    def _who(name: str, id_number: str, id_type: str, nationality: str | None) -> dict[str, str]:
        who = {"name": name, "id_number": id_number, "id_type": id_type}
        if nationality:
            who["nationality"] = nationality
        return who

    async def verify_identity(self, name: str, id_number: str, id_type: str = "resident_id",
                              nationality: str | None = None, visa_number: str | None = None) -> IdentityResult:
        payload = self._who(name, id_number, id_type, nationality)
        if visa_number:
            payload["visa_number"] = visa_number
        return await self._post("/v1/verify/identity", payload,
                                {"match", "mismatch", "not_found"})  # type: ignore[return-value]

    async def verify_face(self, name: str, id_number: str, evidence: str, id_type: str = "resident_id",
                          nationality: str | None = None) -> FaceResult:
        return await self._post("/v1/verify/face", {**self._who(name, id_number, id_type, nationality),
                                                    "evidence": evidence},
                                {"pass", "fail"})  # type: ignore[return-value]

    async def face_session(self, name: str, id_number: str, return_url: str, id_type: str = "resident_id",
                           nationality: str | None = None) -> str:
        req = HTTPRequest(
            f"{self.url}/v1/face/sessions", method="POST",
            body=json.dumps({**self._who(name, id_number, id_type, nationality), "return_url": return_url},
                            ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            request_timeout=self.timeout)
        try:
            url = json.loads((await self.http.fetch(req)).body)["url"]
        except (HTTPClientError, OSError, ValueError, KeyError, TypeError) as e:
            raise Unavailable("人脸核验服务暂时不可用，请稍后重试", code="verification_unavailable",
                              extra={"reason": str(e)[:200]}) from None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise Unavailable("人脸核验服务返回了无法识别的地址", code="verification_unavailable")
        return url
