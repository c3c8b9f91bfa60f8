"""Real-name (L2) and face (L3) verification providers.

Both have the same shape: given what the person claims, answer whether an authority
agrees. ``DevRegistryProvider`` answers from the demo population registry so the demo
works end to end; ``HttpVerificationProvider`` calls a verification service:

    POST {url}/v1/verify/identity  {"name", "id_number"}              -> {"result": "match" | "mismatch" | "not_found"}
    POST {url}/v1/verify/face      {"name", "id_number", "evidence"}  -> {"result": "pass" | "fail"}
    (Authorization: Bearer {token}; any other answer is treated as "service unavailable")
"""
from __future__ import annotations

import json
from typing import Literal, Protocol

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from identity.accounts.storage import RegistryStore
from server.errors import Unavailable
from server.pii import PiiCipher

IdentityResult = Literal["match", "mismatch", "not_found"]
FaceResult = Literal["pass", "fail"]
DEV_FACE_EVIDENCE = "dev-face-pass"


class VerificationProvider(Protocol):
    async def verify_identity(self, name: str, id_number: str) -> IdentityResult: ...

    async def verify_face(self, name: str, id_number: str, evidence: str) -> FaceResult: ...


class DevRegistryProvider:
    """Development: the seeded population registry. Face evidence ``dev-face-pass`` passes."""

    def __init__(self, registry: RegistryStore, pii: PiiCipher):
        self.registry = registry
        self.pii = pii

    async def verify_identity(self, name: str, id_number: str) -> IdentityResult:
        doc = await self.registry.person_by_id_bidx(self.pii.blind_index(id_number, "id_number"))
        if doc is None:
            return "not_found"
        return "match" if doc["name"] == name.strip() else "mismatch"

    async def verify_face(self, name: str, id_number: str, evidence: str) -> FaceResult:
        if await self.verify_identity(name, id_number) != "match":
            return "fail"
        return "pass" if evidence == DEV_FACE_EVIDENCE else "fail"


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

    async def verify_identity(self, name: str, id_number: str) -> IdentityResult:
        return await self._post("/v1/verify/identity", {"name": name, "id_number": id_number},
                                {"match", "mismatch", "not_found"})  # type: ignore[return-value]

    async def verify_face(self, name: str, id_number: str, evidence: str) -> FaceResult:
        return await self._post("/v1/verify/face", {"name": name, "id_number": id_number, "evidence": evidence},
                                {"pass", "fail"})  # type: ignore[return-value]
