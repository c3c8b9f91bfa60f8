"""Issuing authorities: registration (platform admin) and authentication by client
assertion signed with the issuer's key (no shared secret).

Assertion: a JWT with header ``{"alg": "ES256", "kid": <issuer key id>}`` and claims
``{"iss": <issuer USCC>, "sub": <issuer USCC>, "aud": "superapp-issuer-token", "iat",
"exp" (at most 300 s later), "jti" (used once)}``, posted to ``POST /api/v1/issuers/token``.
"""
from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from card_wallet.catalog import Catalog
from identity.assertions import verify_assertion
from card_wallet.storage import WalletStore
from identity.sessions import Principal, Sessions
from identity.staff import require_role
from identity.storage import AttemptCounter
from identity.uscc import InvalidUscc, parse_uscc
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from server.keys import ec_public_jwk, thumbprint

ISSUER_AUDIENCE = "superapp-issuer-token"


def _check_public_key(pem: str) -> str:
    try:
        key = serialization.load_pem_public_key(pem.encode())
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("not P-256")
        return thumbprint(pem)
    except (ValueError, TypeError):
        raise InvalidInput("公钥应为 PEM 格式的 P-256（ES256）公钥", code="issuer_key_invalid",
                           errors=[FieldError("public_key_pem", "应为 PEM 格式的 P-256 公钥")]) from None


class IssuerService:
    def __init__(self, store: WalletStore, catalog: Catalog, sessions: Sessions, attempts: AttemptCounter,
                 audit: AuditTrail):
        self.store = store
        self.catalog = catalog
        self.sessions = sessions
        self.attempts = attempts
        self.audit = audit

    async def register(self, principal: Principal, code: str, name: str, department: str, allowed_types: list[str],
                       public_key_pem: str) -> dict[str, Any]:
        require_role(principal, "admin")
        try:
            code = parse_uscc(code).value
        except InvalidUscc as e:
            raise InvalidInput(str(e), code="uscc_invalid", errors=[FieldError("code", str(e))]) from None
        unknown = [t for t in allowed_types if self.catalog.get(t) is None]
        if unknown:
            raise InvalidInput("证照目录中没有这些类型", code="certificate_type_unknown",
                               errors=[FieldError("allowed_types", f"未知类型：{t}") for t in unknown])
        tp = _check_public_key(public_key_pem)
        now = now_ms()
        doc = {"code": code, "name": name, "department": department, "allowed_types": allowed_types,
               "status": "active", "created_at": now}
        if not await self.store.insert_issuer(doc):
            raise Conflict("该发证机关已登记", code="issuer_exists")
        await self.store.insert_key({"kid": tp[:16], "issuer": code, "thumbprint": tp, "public_key_pem": public_key_pem,
                                     "status": "active", "created_at": now})
        await self.audit.record(f"issuer:{code}", Actor("staff", principal.subject), "issuer.registered",
                                channel="staff", details={"name": name, "allowed_types": allowed_types})
        return {**doc, "keys": [{"kid": tp[:16], "status": "active"}]}

    async def add_key(self, principal: Principal, code: str, public_key_pem: str) -> dict[str, Any]:
        require_role(principal, "admin")
        if await self.store.issuer(code) is None:
            raise NotFound("未找到该发证机关", code="issuer_not_found")
        tp = _check_public_key(public_key_pem)
        if not await self.store.insert_key({"kid": tp[:16], "issuer": code, "thumbprint": tp,
                                            "public_key_pem": public_key_pem, "status": "active",
                                            "created_at": now_ms()}):
            raise Conflict("该公钥已登记", code="issuer_key_exists")
        await self.audit.record(f"issuer:{code}", Actor("staff", principal.subject), "issuer.key_added",
                                channel="staff", details={"kid": tp[:16]})
        return {"kid": tp[:16], "status": "active"}

    async def token(self, assertion: str) -> tuple[str, int]:
        fail = Unauthenticated("发证机关身份断言无效", code="issuer_assertion_invalid")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise fail from None
        if header.get("alg") != "ES256" or not isinstance(header.get("kid"), str):
            raise fail
        key = await self.store.issuer_key(header["kid"])
        if key is None or key["status"] != "active":
            raise Unauthenticated("签名密钥未登记或不可用", code="issuer_key_unknown")
        issuer = await self.store.issuer(key["issuer"])
        if issuer is None or issuer.get("status") != "active":
            raise PermissionDenied("发证机关已停用", code="issuer_inactive")
        await verify_assertion(assertion, key["public_key_pem"], issuer["code"], ISSUER_AUDIENCE, self.attempts,
                               "issuer-assertion", fail,
                               Unauthenticated("发证机关身份断言已被使用", code="issuer_assertion_replayed"))
        token, _ = self.sessions.access(f"issuer:{issuer['code']}", "issuer", 0)
        return token, self.sessions.tokens.ttl

    async def public_keys(self) -> dict[str, Any]:
        """Every issuer key, for verifying certificates offline (status says if still trusted)."""
        return {"keys": [ec_public_jwk(serialization.load_pem_public_key(k["public_key_pem"].encode()), k["kid"],
                                       issuer=k["issuer"], status=k["status"]) for k in await self.store.all_keys()]}
