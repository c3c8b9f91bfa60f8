"""The e-certificate wallet: issuing (by authorities), holding, showing (亮证), sharing,
verifying, and the 免证办 check for matters.

Certificates are stored per version, their content encrypted at rest; a certificate
belongs to whoever holds the ID number (or USCC) it was issued to, so it appears in a
wallet as soon as a verified account matches, however long before it was issued (归集).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import rfc8785

from card_wallet.catalog import Catalog, CertificateType
from card_wallet.identifier import CertificateId, parse_certificate_id, valid_serial
from card_wallet.render import render_certificate
from card_wallet.signing import verify_content
from card_wallet.storage import WalletStore
from identity.enterprises import enterprise_chain, require_scope
from identity.idnumber import InvalidIdNumber, parse_id_number
from identity.masking import mask_id_number
from identity.service import person_chain, require_level
from identity.sessions import Principal
from identity.storage import EnterpriseStore, PersonStore
from identity.uscc import InvalidUscc, parse_uscc
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import Conflict, FieldError, Gone, InvalidInput, NotFound, PermissionDenied, Unprocessable
from server.pii import PiiCipher

CHINA = timezone(timedelta(hours=8))
EXPIRING_DAYS = 30
MAX_SHARE_TTL = 600


def today() -> date:
    return datetime.now(CHINA).date()


def mask_value(value: Any) -> Any:
    if not isinstance(value, str):
        return "***"
    if len(value) == 18 and value[:17].isdigit():
        return mask_id_number(value)
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


@dataclass(frozen=True)
class Holder:
    """Whose wallet: a person (by verified ID number) or an enterprise (by USCC)."""

    kind: str  # person / enterprise
    ident: str  # person id / enterprise id
    bidx: str  # blind index of the ID number or USCC
    chain: str  # audit chain
    can_reveal: bool

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ident}"


class WalletService:
    def __init__(self, store: WalletStore, catalog: Catalog, persons: PersonStore, enterprises: EnterpriseStore,
                 audit: AuditTrail, pii: PiiCipher, public_base_url: str, font_path: str = ""):
        self.font_path = font_path
        self.store = store
        self.catalog = catalog
        self.persons = persons
        self.enterprises = enterprises
        self.audit = audit
        self.pii = pii
        self.public_base_url = public_base_url.rstrip("/")

    # ================================================================================================
    # issuing authorities
    # ================================================================================================

    async def issuer_of(self, principal: Principal) -> dict[str, Any]:
        code = principal.subject.split(":", 1)[1]
        issuer = await self.store.issuer(code)
        if issuer is None or issuer.get("status") != "active":
            raise PermissionDenied("发证机关未登记或已停用", code="issuer_inactive")
        return issuer

    def _holder_bidx(self, kind: str, ident: str) -> str:
        return self.pii.blind_index(ident, "id_number" if kind == "person" else "uscc")

    async def _idempotent(self, issuer: str, request_id: str, body: dict[str, Any], work) -> dict[str, Any]:  # noqa: ANN001
        key = f"{issuer}:{request_id}"
        body_hash = hashlib.sha256(rfc8785.dumps(body)).hexdigest()
        earlier = await self.store.claim_request(key, body_hash, now_ms())
        if earlier is not None:
            if earlier["body_hash"] != body_hash:
                raise Unprocessable("该请求编号已用于另一个不同的请求", code="request_id_reused",
                                    errors=[FieldError("request_id", "请求编号已被使用")])
            if earlier["response"] is None:
                raise Conflict("相同请求编号的请求正在处理中，请稍后重试", code="request_in_progress")
            return earlier["response"]
        try:
            response = await work()
        except BaseException:
            await self.store.drop_request(key)  # a corrected retry may use the same id
            raise
        await self.store.finish_request(key, response)
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
        key = await self.store.issuer_key(kid)
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
                "holder_bidx": self._holder_bidx(ctype.holder_kind, holder_ident),
                "content_enc": self.pii.encrypt(json.dumps(content, ensure_ascii=False), "certificate"),
                "kid": body["kid"], "signature": body["signature"], "valid_from": content["valid_from"],
                "valid_until": content.get("valid_until"), "status": "active", "issued_at": now, "updated_at": now}

    async def _holder_chain(self, kind: str, bidx: str, ident: str) -> str | None:
        if kind == "person":
            owner = await self.persons.bound_to("id", bidx)
            return person_chain(owner) if owner else None
        e = await self.enterprises.by_uscc(ident)
        return enterprise_chain(e["_id"]) if e else None

    async def _record_issuer_action(self, issuer: str, action: str, cert: dict[str, Any], holder_ident: str | None,
                                    **details: Any) -> None:
        actor = Actor("issuer", issuer)
        target = {"type": "certificate", "id": cert["_id"]}
        await self.audit.record(f"issuer:{issuer}", actor, action, target=target, channel="issuer", details=details)
        if holder_ident is not None:
            chain = await self._holder_chain(cert["holder_kind"], cert["holder_bidx"], holder_ident)
            if chain:
                await self.audit.record(chain, actor, action, target=target, channel="issuer",
                                        details={"type": cert["type"], **details})

    async def issue(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        issuer = await self.issuer_of(principal)

        async def work() -> dict[str, Any]:
            ctype, content, holder_ident = await self._check_content(issuer, body, 1, None)
            cid = parse_certificate_id(content["id"])
            if await self.store.current_by_base(cid.base) is not None:
                raise Conflict("该证照已签发，如需变更请使用更新", code="certificate_exists")
            doc = self._cert_doc(ctype, content, holder_ident, body, cid)
            if not await self.store.insert_certificate(doc):
                raise Conflict("该证照已签发", code="certificate_exists")
            await self._record_issuer_action(issuer["code"], "certificate.issued", doc, holder_ident)
            return {"id": doc["_id"], "version": 1, "status": "active", "type": ctype.code}

        return await self._idempotent(issuer["code"], body["request_id"], body, work)

    async def _issued_cert(self, issuer: dict[str, Any], cert_id: str) -> dict[str, Any]:
        cert = await self.store.certificate(cert_id)
        if cert is None or cert["issuer"] != issuer["code"]:
            raise NotFound("未找到该证照（或非本机关签发）", code="certificate_not_found")
        return cert

    async def update(self, principal: Principal, cert_id: str, body: dict[str, Any]) -> dict[str, Any]:
        issuer = await self.issuer_of(principal)

        async def work() -> dict[str, Any]:
            cert = await self._issued_cert(issuer, cert_id)
            if cert["status"] not in ("active", "suspended"):
                raise Conflict(f"证照当前状态为“{cert['status']}”，不能更新", code=f"certificate_{cert['status']}",
                               extra={"state": cert["status"]})
            ctype, content, holder_ident = await self._check_content(issuer, body, cert["version"] + 1, cert["base"])
            if self._holder_bidx(ctype.holder_kind, holder_ident) != cert["holder_bidx"]:
                raise InvalidInput("更新不能改变持证主体", code="holder_invalid",
                                   errors=[FieldError("content.holder", "与原证照持证主体不同")])
            doc = self._cert_doc(ctype, content, holder_ident, body, parse_certificate_id(content["id"]))
            if await self.store.set_status(cert["_id"], ["active", "suspended"], "superseded", now_ms(),
                                           "new version") is None:
                raise Conflict("证照状态刚被改变，请重试", code="stale_state")
            await self.store.insert_certificate(doc)
            await self._record_issuer_action(issuer["code"], "certificate.updated", doc, holder_ident,
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

        async def work() -> dict[str, Any]:
            cert = await self._issued_cert(issuer, cert_id)
            if cert["status"] not in allowed_from:
                raise Conflict(f"证照当前状态为“{cert['status']}”，不能{self._ACTION_NAMES[action]}",
                               code="certificate_revoked" if cert["status"] == "revoked" else "illegal_transition",
                               extra={"state": cert["status"]})
            updated = await self.store.set_status(cert_id, allowed_from, to, now_ms(), body.get("reason", ""))
            if updated is None:
                raise Conflict("证照状态刚被改变，请重试", code="stale_state")
            await self._record_issuer_action(issuer["code"], f"certificate.{to}", updated, None,
                                             reason=body.get("reason", ""))
            chain = await self._chain_of_cert(updated)
            if chain:
                await self.audit.record(chain, Actor("issuer", issuer["code"]), f"certificate.{to}",
                                        target={"type": "certificate", "id": cert_id}, channel="issuer",
                                        details={"reason": body.get("reason", "")})
            return {"id": cert_id, "version": updated["version"], "status": to, "type": updated["type"]}

        return await self._idempotent(issuer["code"], body["request_id"], {**body, "action": action, "id": cert_id},
                                      work)

    async def _chain_of_cert(self, cert: dict[str, Any]) -> str | None:
        content = self._content(cert)
        holder = content.get("holder", {})
        ident = holder.get("id_number") or holder.get("uscc") or ""
        return await self._holder_chain(cert["holder_kind"], cert["holder_bidx"], ident)

    # ================================================================================================
    # verification
    # ================================================================================================

    def _content(self, cert: dict[str, Any]) -> dict[str, Any]:
        try:
            return json.loads(self.pii.decrypt(cert["content_enc"], "certificate"))
        except Exception:  # noqa: BLE001 - a changed ciphertext
            return {}

    async def verify(self, cert: dict[str, Any]) -> dict[str, Any]:
        """Signature, issuer trust, status and validity window, as of now."""
        content = self._content(cert)
        key = await self.store.issuer_key(cert["kid"])
        issuer = await self.store.issuer(cert["issuer"])
        signature_valid = bool(content) and key is not None and content.get("id") == cert["_id"] \
            and verify_content(content, cert["signature"], key["public_key_pem"])
        issuer_trusted = (issuer is not None and issuer.get("status") == "active" and key is not None
                          and key["issuer"] == cert["issuer"] and key["status"] in ("active", "retired")
                          and cert["type"] in issuer.get("allowed_types", []))
        status = self.status_of(cert)
        within = status not in ("expired",) and date.fromisoformat(cert["valid_from"]) <= today()
        return {"signature_valid": signature_valid, "issuer_trusted": issuer_trusted, "status": status,
                "within_validity": within,
                "valid": signature_valid and issuer_trusted and within and status in ("valid", "expiring")}

    @staticmethod
    def status_of(cert: dict[str, Any]) -> str:
        if cert["status"] in ("revoked", "suspended", "superseded"):
            return cert["status"]
        if cert.get("valid_until"):
            end = date.fromisoformat(cert["valid_until"])
            if end < today():
                return "expired"
            if (end - today()).days <= EXPIRING_DAYS:
                return "expiring"
        return "valid"

    # ================================================================================================
    # holders
    # ================================================================================================

    async def holder_for(self, principal: Principal) -> Holder:
        """The wallet the caller is looking at: their own, or the acting enterprise's."""
        if principal.acting is not None:
            acting = require_scope(principal, "certificates")
            e = await self.enterprises.get(acting.enterprise_id)
            if e is None:
                raise NotFound("未找到该企业", code="enterprise_not_found")
            return Holder("enterprise", e["_id"], self.pii.blind_index(e["uscc"], "uscc"), enterprise_chain(e["_id"]),
                          can_reveal=acting.role == "admin")
        require_level(principal, 2)
        person = await self.persons.get(principal.subject)
        if person is None or not person.get("realname"):
            raise PermissionDenied("请先完成实名认证", code="level_too_low",
                                   extra={"required_level": 2, "current_level": principal.level})
        return Holder("person", principal.subject, person["realname"]["id_bidx"], person_chain(principal.subject),
                      can_reveal=True)

    def summary(self, cert: dict[str, Any], content: dict[str, Any], issuer_name: str) -> dict[str, Any]:
        ctype = self.catalog.get(cert["type"])
        fields = content.get("fields", {})
        shown = {}
        for f in ctype.display.get("summary", []) if ctype else []:
            v = fields.get(f)
            shown[ctype.label(f)] = mask_value(v) if f in ctype.sensitive else v
        return {"id": cert["_id"], "type": cert["type"], "type_name": ctype.name if ctype else cert["type"],
                "holder_kind": cert["holder_kind"], "issuer_code": cert["issuer"], "issuer_name": issuer_name,
                "status": self.status_of(cert), "version": cert["version"], "valid_from": cert["valid_from"],
                "valid_until": cert.get("valid_until"), "summary": shown,
                "color": (ctype.display.get("color") if ctype else None) or "#555555"}

    async def _issuer_names(self) -> dict[str, str]:
        return {i["code"]: i["name"] for i in await self.store.all_issuers()}

    async def list(self, principal: Principal) -> list[dict[str, Any]]:
        holder = await self.holder_for(principal)
        names = await self._issuer_names()
        return [self.summary(c, self._content(c), names.get(c["issuer"], c["issuer"]))
                for c in await self.store.of_holder(holder.bidx)]

    async def _held(self, holder: Holder, cert_id: str) -> dict[str, Any]:
        cert = await self.store.certificate(cert_id)
        if cert is None or cert["holder_bidx"] != holder.bidx or cert["status"] == "superseded":
            raise NotFound("卡包中没有该证照", code="certificate_not_found")
        return cert

    async def _use(self, holder_key: str, cert: dict[str, Any], action: str, by: dict[str, str], purpose: str = "",
                   ip: str = "", **extra: Any) -> None:
        await self.store.record_usage({"_id": "u" + secrets.token_hex(12), "holder": holder_key,
                                       "certificate_id": cert["_id"], "type": cert["type"], "action": action,
                                       "by": by, "purpose": purpose, "at": now_ms(), "ip": ip, **extra})

    async def detail(self, principal: Principal, cert_id: str, reveal: bool, ip: str) -> dict[str, Any]:
        holder = await self.holder_for(principal)
        cert = await self._held(holder, cert_id)
        if reveal and not holder.can_reveal:
            raise PermissionDenied("只有持证人本人（或企业管理员）可以查看完整信息", code="reveal_not_allowed")
        content = self._content(cert)
        ctype = self.catalog.get(cert["type"])
        fields = []
        for name, spec in ctype.schema["properties"].items():
            if name not in content.get("fields", {}):
                continue
            value = content["fields"][name]
            sensitive = name in ctype.sensitive
            fields.append({"name": name, "label": spec.get("title", name), "sensitive": sensitive,
                           "value": mask_value(value) if sensitive and not reveal else value})
        if reveal:
            by = {"type": "person", "id": principal.subject, "name": "本人"}
            await self._use(holder.key, cert, "revealed", by, ip=ip)
            await self.audit.record(holder.chain, Actor("person", principal.subject), "certificate.revealed",
                                    target={"type": "certificate", "id": cert_id}, ip=ip)
        names = await self._issuer_names()
        return {**self.summary(cert, content, names.get(cert["issuer"], cert["issuer"])), "fields": fields,
                "revealed": reveal, "verification": await self.verify(cert)}

    # ================================================================================================
    # showing and sharing (亮证)
    # ================================================================================================

    async def share(self, principal: Principal, cert_id: str, purpose: str, fields: list[str], ttl: int,
                    ip: str) -> dict[str, Any]:
        holder = await self.holder_for(principal)
        cert = await self._held(holder, cert_id)
        status = self.status_of(cert)
        if status not in ("valid", "expiring"):
            raise Conflict(f"证照当前状态为“{status}”，不能出示", code="certificate_not_valid", extra={"state": status})
        ctype = self.catalog.get(cert["type"])
        unknown = [f for f in fields if f not in ctype.schema["properties"]]
        if unknown:
            raise InvalidInput("只能选择该证照的字段", code="validation_failed",
                               errors=[FieldError("fields", f"未知字段：{f}") for f in unknown])
        token, share = await self._new_share(cert, holder, purpose, list(dict.fromkeys(fields)), ttl)
        await self._use(holder.key, cert, "shared", {"type": "person", "id": principal.subject, "name": "本人"},
                        purpose, ip, fields=share["fields"], expires_at=share["expires_at"])
        await self.audit.record(holder.chain, Actor("person", principal.subject), "certificate.shared",
                                target={"type": "certificate", "id": cert_id}, ip=ip,
                                details={"purpose": purpose, "fields": share["fields"]})
        return {"token": token, "expires_at": share["expires_at"], "verify_url": self.verify_url(token),
                "fields": share["fields"], "purpose": purpose}

    async def _new_share(self, cert: dict[str, Any], holder: Holder, purpose: str, fields: list[str], ttl: int
                         ) -> tuple[str, dict[str, Any]]:
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).rstrip(b"=").decode()
        now = now_ms()
        share = {"_id": hashlib.sha256(token.encode()).hexdigest(), "certificate_id": cert["_id"],
                 "holder": holder.key, "holder_chain": holder.chain, "purpose": purpose, "fields": fields,
                 "created_at": now, "expires_at": now + min(ttl, MAX_SHARE_TTL) * 1000, "views": 0}
        await self.store.insert_share(share)
        return token, share

    def verify_url(self, token: str) -> str:
        return f"{self.public_base_url}/api/v1/verify/shares/{token}"

    async def _live_share(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(share, certificate) of an unexpired share token."""
        share = await self.store.share(hashlib.sha256(token.encode()).hexdigest())
        if share is None:
            raise NotFound("未找到该亮证码", code="share_not_found")
        if share["expires_at"] <= now_ms():
            raise Gone("亮证码已过期，请让持证人重新出示", code="share_expired")
        cert = await self.store.certificate(share["certificate_id"])
        if cert is None:
            raise NotFound("证照不存在", code="certificate_not_found")
        return share, cert

    async def view_share(self, token: str, viewer: dict[str, str], ip: str) -> dict[str, Any]:
        share, cert = await self._live_share(token)
        current = cert
        if cert["status"] == "superseded":  # shown before an update: report the current version's status
            current = await self.store.current_by_base(cert["base"]) or cert
        content = self._content(cert)
        ctype = self.catalog.get(cert["type"])
        issuer = await self.store.issuer(cert["issuer"])
        verification = await self.verify(cert)
        if current is not cert:
            verification = {**verification, "status": "superseded", "valid": False,
                            "current_status": self.status_of(current)}
        await self._use(share["holder"], cert, "viewed", viewer, share["purpose"], ip)
        await self.audit.record(share["holder_chain"], Actor(viewer.get("type", "anonymous"), viewer.get("id", "")),
                                "certificate.viewed", target={"type": "certificate", "id": cert["_id"]}, ip=ip,
                                details={"purpose": share["purpose"], "fields": share["fields"],
                                         "by": viewer.get("name", "")})
        return {
            "certificate_id": cert["_id"], "type": cert["type"], "type_name": ctype.name if ctype else cert["type"],
            "issuer": {"code": cert["issuer"], "name": issuer["name"] if issuer else cert["issuer"]},
            "fields": [{"name": f, "label": ctype.label(f) if ctype else f, "value": content.get("fields", {}).get(f)}
                       for f in share["fields"] if f in content.get("fields", {})],
            "valid_from": cert["valid_from"], "valid_until": cert.get("valid_until"),
            "purpose": share["purpose"], "expires_at": share["expires_at"], "verification": verification,
        }

    def _render(self, cert: dict[str, Any], content: dict[str, Any], issuer_name: str, fields: list[str],
                mask_sensitive: bool, purpose: str, token: str) -> bytes:
        ctype = self.catalog.get(cert["type"])
        values = content.get("fields", {})
        rows = [(ctype.label(f), mask_value(values[f]) if mask_sensitive and f in ctype.sensitive else values[f])
                for f in fields if f in values]
        when = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M")
        return render_certificate(
            title=ctype.name, issuer=issuer_name, color=ctype.display.get("color", "#555555"), rows=rows,
            validity=f"{cert['valid_from']} 至 {cert.get('valid_until') or '长期'}", identifier=cert["_id"],
            watermark=f"仅供“{purpose}”使用 {when}", verify_text=self.verify_url(token), font_path=self.font_path)

    async def image(self, principal: Principal, cert_id: str, purpose: str, ip: str) -> bytes:
        """The certificate as a watermarked image, with a QR that verifies it (valid 10 minutes)."""
        holder = await self.holder_for(principal)
        cert = await self._held(holder, cert_id)
        status = self.status_of(cert)
        if status not in ("valid", "expiring"):
            raise Conflict(f"证照当前状态为“{status}”，不能出示", code="certificate_not_valid", extra={"state": status})
        content = self._content(cert)
        ctype = self.catalog.get(cert["type"])
        shown = [f for f in ctype.schema["properties"] if f not in ctype.sensitive]
        token, _ = await self._new_share(cert, holder, purpose, shown, MAX_SHARE_TTL)
        issuer = await self.store.issuer(cert["issuer"])
        png = self._render(cert, content, issuer["name"] if issuer else cert["issuer"],
                           list(ctype.schema["properties"]), True, purpose, token)
        await self._use(holder.key, cert, "image", {"type": "person", "id": principal.subject, "name": "本人"},
                        purpose, ip)
        return png

    async def share_image(self, token: str) -> bytes:
        """The disclosed fields of a share (e.g. a certificate given to a kiosk) as an image."""
        share, cert = await self._live_share(token)
        issuer = await self.store.issuer(cert["issuer"])
        return self._render(cert, self._content(cert), issuer["name"] if issuer else cert["issuer"], share["fields"],
                            False, share["purpose"], token)

    async def usage(self, principal: Principal, limit: int, before: int | None) -> list[dict[str, Any]]:
        holder = await self.holder_for(principal)
        return await self.store.usage_of(holder.key, limit, before)

    # ================================================================================================
    # for other domains: 免证办, consent delivery, expiry reminders
    # ================================================================================================

    async def satisfies(self, holder_kind: str, holder_bidx: str, type_codes: list[str]
                        ) -> dict[str, dict[str, Any] | None]:
        """For each type: the holder's valid certificate (id and fields), or None."""
        out: dict[str, dict[str, Any] | None] = dict.fromkeys(type_codes)
        for cert in await self.store.of_holder(holder_bidx):
            if cert["type"] in out and out[cert["type"]] is None and cert["holder_kind"] == holder_kind:
                if self.status_of(cert) in ("valid", "expiring") and (await self.verify(cert))["valid"]:
                    content = self._content(cert)
                    out[cert["type"]] = {"certificate_id": cert["_id"], "fields": content.get("fields", {}),
                                         "valid_until": cert.get("valid_until")}
        return out

    async def deliver_for_consent(self, consent: dict[str, Any], type_code: str, holder_ident: str,
                                  requester: Any) -> dict[str, Any] | None:
        """A certificate the holder agreed to give a kiosk or window, marked with the purpose."""
        kind = consent["holder"].split(":", 1)[0]
        if kind == "person":
            person = await self.persons.get(holder_ident) or {}
            bidx = (person.get("realname") or {}).get("id_bidx")
        else:
            e = await self.enterprises.get(holder_ident) or {}
            bidx = self.pii.blind_index(e["uscc"], "uscc") if e else None
        if not bidx:
            return None
        found = (await self.satisfies(kind, bidx, [type_code]))[type_code]
        if found is None:
            return {"available": False}
        cert = await self.store.certificate(found["certificate_id"])
        holder = Holder(kind, holder_ident, bidx, consent_chain(consent), can_reveal=False)
        token, _ = await self._new_share(cert, holder, consent["purpose"], list(found["fields"]), MAX_SHARE_TTL)
        by = {"type": requester.type, "id": requester.id, "name": requester.name}
        await self._use(holder.key, cert, "disclosed", by, consent["purpose"], consent_id=consent["_id"])
        when = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M")
        return {"available": True, "certificate_id": cert["_id"], "fields": found["fields"],
                "valid_until": found["valid_until"], "verification": await self.verify(cert),
                "watermark": f"仅供“{consent['purpose']}”使用 · {requester.name} · {when}",
                "image_url": f"/api/v1/verify/shares/{token}/image"}

    async def scan_reminders(self, on: date | None = None) -> int:
        """Store a reminder for every certificate expiring within 30 days (once each)."""
        day = on or today()
        n = 0
        for cert in await self.store.expiring((day + timedelta(days=EXPIRING_DAYS)).isoformat()):
            if cert["valid_until"] < day.isoformat():
                continue
            chain = await self._chain_of_cert(cert)
            if chain is None:
                continue
            kind, ident = chain.split(":", 1)
            ctype = self.catalog.get(cert["type"])
            added = await self.store.add_reminder({
                "_id": f"{cert['_id']}:expiry", "holder": f"{kind}:{ident}", "certificate_id": cert["_id"],
                "type": cert["type"], "type_name": ctype.name if ctype else cert["type"],
                "valid_until": cert["valid_until"], "created_at": now_ms(),
                "message": f"您的{ctype.name if ctype else '证照'}将于 {cert['valid_until']} 到期，请及时办理换领。"})
            n += int(added)
        return n

    async def reminders(self, principal: Principal) -> list[dict[str, Any]]:
        holder = await self.holder_for(principal)
        return await self.store.reminders_of(holder.key)


def consent_chain(consent: dict[str, Any]) -> str:
    kind, ident = consent["holder"].split(":", 1)
    return person_chain(ident) if kind == "person" else enterprise_chain(ident)
