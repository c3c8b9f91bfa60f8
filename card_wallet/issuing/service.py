"""Issuing authorities and what they do: registration (platform admin), authentication by
client assertion signed with the authority's own key (no shared secret), and issuing,
updating, suspending, reinstating and revoking signed e-certificates.

Assertion: a JWT with header ``{"alg": "ES256", "kid": <issuer key id>}`` and claims
``{"iss": <issuer USCC>, "sub": <issuer USCC>, "aud": "superapp-issuer-token", "iat",
"exp" (at most 300 s later), "jti" (used once)}``, posted to ``POST /api/v1/issuers/token``.

Every change an authority asks for carries its own ``request_id``: the platform's one
idempotency mechanism makes a retry return the first answer.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any, Awaitable, Callable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from card_wallet.catalog import Catalog, CertificateType
from card_wallet.certificates import Certificates
from card_wallet.identifier import CertificateId, parse_certificate_id, valid_serial
from card_wallet.issuing.storage import CertificateStore
from card_wallet.signing import verify_content
from identity.idnumber import InvalidIdNumber, parse_id_number
from identity.sessions.service import Sessions
from identity.uscc import InvalidUscc, parse_uscc
from server.assertions import verify_assertion
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unprocessable,
)
from server.idempotency import Idempotency, Vocabulary
from server.keys import ec_public_jwk, thumbprint
from server.pii import PiiCipher
from server.principal import Principal, holder_chain, require_role
from server.storage.limits import Limits

ISSUER_AUDIENCE = "superapp-issuer-token"
REQUEST_ID = Vocabulary(field="request_id", reused_code="request_id_reused",
                        reused_message="该请求编号已用于另一个不同的请求", in_progress_code="request_in_progress",
                        in_progress_message="相同请求编号的请求正在处理中，请稍后重试")


def _check_public_key(pem: str) -> str:
    try:
        key = serialization.load_pem_public_key(pem.encode())
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("not P-256")
        return thumbprint(pem)
    except (ValueError, TypeError):
        raise InvalidInput("公钥应为 PEM 格式的 P-256（ES256）公钥", code="issuer_key_invalid",
                           errors=[FieldError("public_key_pem", "应为 PEM 格式的 P-256 公钥")]) from None


# A holder's facts changed (``person:<id>`` / ``enterprise:<id>``); never raises.
HolderChanged = Callable[[str], Awaitable[None]]


class IssuingService:
    def __init__(self, store: CertificateStore, certificates: Certificates, catalog: Catalog, sessions: Sessions,
                 limits: Limits, idempotency: Idempotency, audit: AuditTrail, pii: PiiCipher,
                 on_issued: HolderChanged | None = None):
        self.store = store
        self.on_issued = on_issued  # port: the holder's facts changed (policies re-evaluate, passed in by the root)
        self.certificates = certificates
        self.catalog = catalog
        self.sessions = sessions
        self.limits = limits
        self.idempotency = idempotency
        self.audit = audit
        self.pii = pii

    # ================================================================================================
    # the registry of authorities (platform admin) and their tokens
    # ================================================================================================

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
        await self.certificates.registry.changed()
        await self.audit.record(f"issuer:{code}", Actor("staff", principal.subject), "issuer.registered",
                                channel="staff", details={"name": name, "allowed_types": allowed_types})
        return {**doc, "keys": [{"kid": tp[:16], "status": "active"}]}

    async def add_key(self, principal: Principal, code: str, public_key_pem: str) -> dict[str, Any]:
        require_role(principal, "admin")
        if await self.certificates.registry.issuer(code) is None:
            raise NotFound("未找到该发证机关", code="issuer_not_found")
        tp = _check_public_key(public_key_pem)
        if not await self.store.insert_key({"kid": tp[:16], "issuer": code, "thumbprint": tp,
                                            "public_key_pem": public_key_pem, "status": "active",
                                            "created_at": now_ms()}):
            raise Conflict("该公钥已登记", code="issuer_key_exists")
        await self.certificates.registry.changed()
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
        key = await self.certificates.registry.key(header["kid"])
        if key is None or key["status"] != "active":
            raise Unauthenticated("签名密钥未登记或不可用", code="issuer_key_unknown")
        issuer = await self.certificates.registry.issuer(key["issuer"])
        if issuer is None or issuer.get("status") != "active":
            raise PermissionDenied("发证机关已停用", code="issuer_inactive")
        await verify_assertion(assertion, key["public_key_pem"], issuer["code"], ISSUER_AUDIENCE, self.limits,
                               "issuer-assertion", fail,
                               Unauthenticated("发证机关身份断言已被使用", code="issuer_assertion_replayed"))
        token, _ = self.sessions.access(f"issuer:{issuer['code']}", "issuer", 0)
        return token, self.sessions.tokens.ttl

    async def department_of(self, code: str) -> str | None:
        """The department of a registered, active issuing authority (None otherwise)."""
        issuer = await self.certificates.registry.issuer(code)
        return issuer["department"] if issuer is not None and issuer.get("status") == "active" else None

    async def public_keys(self) -> dict[str, Any]:
        """Every issuer key, for verifying certificates offline (status says if still trusted)."""
        return {"keys": [ec_public_jwk(serialization.load_pem_public_key(k["public_key_pem"].encode()), k["kid"],
                                       issuer=k["issuer"], status=k["status"])
                         for k in await self.certificates.registry.keys()]}

    # ================================================================================================
    # issuing
    # ================================================================================================

    async def issuer_of(self, principal: Principal) -> dict[str, Any]:
        code = principal.subject.split(":", 1)[1]
        issuer = await self.certificates.registry.issuer(code)
        if issuer is None or issuer.get("status") != "active":
            raise PermissionDenied("发证机关未登记或已停用", code="issuer_inactive")
        return issuer

    async def _idempotent(self, issuer: str, request_id: str, body: dict[str, Any],
                          work: Callable[[bool], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """``work(rerun)``: on a rerun (an earlier attempt stopped half-way) what is already
        done is recognised and finished, not refused."""
        async def run(_reserved: str, rerun: bool) -> dict[str, Any]:
            return await work(rerun)

        response, _ = await self.idempotency.run(f"issuer:{issuer}", request_id, body, run, REQUEST_ID)
        return response

    async def _check_content(self, issuer: dict[str, Any], body: dict[str, Any], version: int,
                             base: str | None) -> tuple[CertificateType, dict[str, Any], str]:
        content, kid, signature = body["content"], body["kid"], body["signature"]
        if content.get("issuer") != issuer["code"]:
            raise PermissionDenied("证照内容中的发证机关与调用方不符", code="issuer_mismatch")
        ctype = self.catalog.get(content.get("type", ""))
        if ctype is None:
            raise Unprocessable("证照目录中没有该证照类型", code="certificate_type_unknown",
                                errors=[FieldError("content.type", "未知的证照类型")])
        if ctype.code not in issuer.get("allowed_types", []):
            raise PermissionDenied(f"该发证机关无权签发“{ctype.name}”", code="issuer_not_allowed_for_type")
        key = await self.certificates.registry.key(kid)
        if key is None or key["issuer"] != issuer["code"] or key["status"] != "active":
            raise PermissionDenied("签名密钥未登记或不可用于签发", code="issuer_key_unknown")
        if not verify_content(content, signature, key["public_key_pem"]):
            raise Unprocessable("证照签名无效（内容可能被篡改）", code="signature_invalid",
                                errors=[FieldError("signature", "签名与内容不符")])
        try:
            cid = parse_certificate_id(content.get("id", ""))
        except ValueError as e:
            raise Unprocessable(str(e), code="identifier_invalid", errors=[FieldError("content.id", str(e))]) from None
        if (cid.type_code, cid.issuer_code, cid.version) != (ctype.code, issuer["code"], version) \
                or content.get("version") != version or not valid_serial(cid.serial) \
                or (base is not None and cid.base != base):
            raise Unprocessable("电子证照标识与内容不一致", code="identifier_mismatch",
                                errors=[FieldError("content.id", f"应为同一证照的第 {version} 版")])
        errors = ctype.field_errors(content.get("fields") or {})
        if not isinstance(content.get("fields"), dict):
            errors = [FieldError("content.fields", "应为对象")]
        if errors:
            raise InvalidInput(f"证照字段不符合“{ctype.name}”的要求", code="fields_invalid",
                               errors=[FieldError("content." + e.field, e.message) for e in errors])
        holder_ident = self._check_holder(ctype, content)
        self._check_validity(ctype, content)
        return ctype, content, holder_ident

    def _check_holder(self, ctype: CertificateType, content: dict[str, Any]) -> str:
        holder = content.get("holder") or {}
        if holder.get("kind") != ctype.holder_kind:
            raise InvalidInput("持证主体类型与证照类型不符", code="holder_invalid",
                               errors=[FieldError("content.holder.kind", f"应为 {ctype.holder_kind}")])
        try:
            if ctype.holder_kind == "person":
                ident = parse_id_number(holder.get("id_number", "")).value
            else:
                ident = parse_uscc(holder.get("uscc", "")).value
        except (InvalidIdNumber, InvalidUscc) as e:
            field = "id_number" if ctype.holder_kind == "person" else "uscc"
            raise InvalidInput(str(e), code="holder_invalid", errors=[FieldError(f"content.holder.{field}", str(e))]) \
                from None
        if content["fields"].get(ctype.holder_field) != ident:
            raise InvalidInput("证照字段中的持证人证件号与持证主体不一致", code="holder_invalid",
                               errors=[FieldError(f"content.fields.{ctype.holder_field}", "与持证主体不一致")])
        return ident

    def _check_validity(self, ctype: CertificateType, content: dict[str, Any]) -> None:
        try:
            start = date.fromisoformat(content["valid_from"])
            end = date.fromisoformat(content["valid_until"]) if content.get("valid_until") else None
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("有效期日期格式应为 YYYY-MM-DD", code="validity_invalid",
                               errors=[FieldError("content.valid_from", "日期格式应为 YYYY-MM-DD")]) from None
        rules = ctype.validity
        if rules.get("requires_valid_until") and end is None:
            raise InvalidInput(f"“{ctype.name}”须有有效期截止日", code="validity_invalid",
                               errors=[FieldError("content.valid_until", "必填")])
        if end is not None and end <= start:
            raise InvalidInput("有效期截止日须晚于起始日", code="validity_invalid",
                               errors=[FieldError("content.valid_until", "须晚于起始日")])
        if end is not None and rules.get("max_years") and (end - start).days > 366 * rules["max_years"]:
            raise InvalidInput(f"“{ctype.name}”有效期最长 {rules['max_years']} 年", code="validity_invalid",
                               errors=[FieldError("content.valid_until", "超过最长有效期")])

    def _cert_doc(self, ctype: CertificateType, content: dict[str, Any], holder_ident: str, body: dict[str, Any],
                  cid: CertificateId) -> dict[str, Any]:
        now = now_ms()
        return {"_id": content["id"], "base": cid.base, "version": cid.version, "type": ctype.code,
                "issuer": content["issuer"], "holder_kind": ctype.holder_kind,
                "holder_bidx": self.certificates.holder_index(ctype.holder_kind, holder_ident),
                "content_enc": self.pii.encrypt(json.dumps(content, ensure_ascii=False), "certificate"),
                "kid": body["kid"], "signature": body["signature"], "valid_from": content["valid_from"],
                "valid_until": content.get("valid_until"), "status": "active", "issued_at": now, "updated_at": now}

    async def _record_issuer_action(self, issuer: str, action: str, cert: dict[str, Any], rerun: bool,
                                    **details: Any) -> None:
        """On the issuer's chain and the holder's (if registered); once, also when rerun."""
        actor = Actor("issuer", issuer)
        target = {"type": "certificate", "id": cert["_id"]}
        event = f"certificate:{cert['_id']}:{action}"
        chains = [(f"issuer:{issuer}", details)]
        holder = await self.certificates.holder_key(cert)
        if holder:
            chains.append((holder_chain(holder), {"type": cert["type"], **details}))
        for chain, shown in chains:
            if rerun and await self.audit.recorded_events(chain, [event]):
                continue
            await self.audit.record(chain, actor, action, target=target, channel="issuer", details=shown,
                                    event=event)

    async def issued(self, cert_id: str) -> bool:
        """Whether a certificate with this identifier (any version of its base) exists."""
        return await self.store.current_by_base(parse_certificate_id(cert_id).base) is not None

    async def issue(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        issuer = await self.issuer_of(principal)

        async def work(rerun: bool) -> dict[str, Any]:
            ctype, content, holder_ident = await self._check_content(issuer, body, 1, None)
            cid = parse_certificate_id(content["id"])
            existing = await self.store.current_by_base(cid.base)
            if existing is not None:
                if not (rerun and existing["_id"] == content["id"] and existing["signature"] == body["signature"]):
                    raise Conflict("该证照已签发，如需变更请使用更新", code="certificate_exists")
                doc = existing  # written by the attempt that stopped half-way
            else:
                doc = self._cert_doc(ctype, content, holder_ident, body, cid)
                if not await self.store.insert_certificate(doc):
                    raise Conflict("该证照已签发", code="certificate_exists")
            await self._record_issuer_action(issuer["code"], "certificate.issued", doc, rerun)
            return {"id": doc["_id"], "version": 1, "status": "active", "type": ctype.code}

        result = await self._idempotent(issuer["code"], body["request_id"], body, work)
        if self.on_issued is not None:
            cert = await self.store.certificate(result["id"])
            holder = await self.certificates.holder_key(cert) if cert is not None else None
            if holder:
                await self.on_issued(holder)
        return result

    async def _issued_cert(self, issuer: dict[str, Any], cert_id: str) -> dict[str, Any]:
        cert = await self.store.certificate(cert_id)
        if cert is None or cert["issuer"] != issuer["code"]:
            raise NotFound("未找到该证照（或非本机关签发）", code="certificate_not_found")
        return cert

    async def update(self, principal: Principal, cert_id: str, body: dict[str, Any]) -> dict[str, Any]:
        issuer = await self.issuer_of(principal)

        async def work(rerun: bool) -> dict[str, Any]:
            cert = await self._issued_cert(issuer, cert_id)
            newer = await self.store.certificate(body["content"].get("id", "")) if rerun else None
            if newer is not None and newer["signature"] == body["signature"]:  # done by the attempt before
                await self._record_issuer_action(issuer["code"], "certificate.updated", newer, True,
                                                 supersedes=cert["_id"])
                return {"id": newer["_id"], "version": newer["version"], "status": "active", "type": newer["type"],
                        "supersedes": cert["_id"]}
            if cert["status"] not in ("active", "suspended"):
                raise Conflict(f"证照当前状态为“{cert['status']}”，不能更新", code=f"certificate_{cert['status']}",
                               extra={"state": cert["status"]})
            ctype, content, holder_ident = await self._check_content(issuer, body, cert["version"] + 1, cert["base"])
            if self.certificates.holder_index(ctype.holder_kind, holder_ident) != cert["holder_bidx"]:
                raise InvalidInput("更新不能改变持证主体", code="holder_invalid",
                                   errors=[FieldError("content.holder", "与原证照持证主体不同")])
            doc = self._cert_doc(ctype, content, holder_ident, body, parse_certificate_id(content["id"]))
            if await self.store.set_status(cert["_id"], ["active", "suspended"], "superseded", now_ms(),
                                           "new version") is None:
                raise Conflict("证照状态刚被改变，请重试", code="stale_state")
            await self.store.insert_certificate(doc)
            await self._record_issuer_action(issuer["code"], "certificate.updated", doc, rerun,
                                             supersedes=cert["_id"])
            return {"id": doc["_id"], "version": doc["version"], "status": "active", "type": ctype.code,
                    "supersedes": cert["_id"]}

        return await self._idempotent(issuer["code"], body["request_id"], body, work)

    _TRANSITIONS = {"suspend": (["active"], "suspended"), "reinstate": (["suspended"], "active"),
                    "revoke": (["active", "suspended"], "revoked")}
    _ACTION_NAMES = {"suspend": "中止", "reinstate": "恢复", "revoke": "撤销"}

    async def change_status(self, principal: Principal, cert_id: str, action: str, body: dict[str, Any]
                            ) -> dict[str, Any]:
        issuer = await self.issuer_of(principal)
        allowed_from, to = self._TRANSITIONS[action]

        async def work(rerun: bool) -> dict[str, Any]:
            cert = await self._issued_cert(issuer, cert_id)
            if rerun and cert["status"] == to:  # done by the attempt before
                await self._record_issuer_action(issuer["code"], f"certificate.{to}", cert, True,
                                                 reason=body.get("reason", ""))
                return {"id": cert_id, "version": cert["version"], "status": to, "type": cert["type"]}
            if cert["status"] not in allowed_from:
                raise Conflict(f"证照当前状态为“{cert['status']}”，不能{self._ACTION_NAMES[action]}",
                               code="certificate_revoked" if cert["status"] == "revoked" else "illegal_transition",
                               extra={"state": cert["status"]})
            updated = await self.store.set_status(cert_id, allowed_from, to, now_ms(), body.get("reason", ""))
            if updated is None:
                raise Conflict("证照状态刚被改变，请重试", code="stale_state")
            await self._record_issuer_action(issuer["code"], f"certificate.{to}", updated, rerun,
                                             reason=body.get("reason", ""))
            return {"id": cert_id, "version": updated["version"], "status": to, "type": updated["type"]}

        return await self._idempotent(issuer["code"], body["request_id"], {**body, "action": action, "id": cert_id},
                                      work)
