"""The holder's wallet: listing, detail, showing (亮证) and sharing, verifying a share,
the 用证记录, expiry reminders, and what other domains ask of it (免证办 for matters,
certificates given to a kiosk after consent).

A certificate belongs to whoever holds the ID number (or USCC) it was issued to, so it
appears in a wallet as soon as a verified account matches, however long before it was
issued (归集).
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from card_wallet.catalog import Catalog
from card_wallet.certificates import (
    CHINA,
    EXPIRING_DAYS,
    Certificates,
    status_of,
    today,
)
from card_wallet.holding.storage import HoldingStore
from card_wallet.issuing.storage import CertificateStore
from card_wallet.render import render_certificate
from identity.facade import Directory
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import (
    Conflict,
    FieldError,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from server.masking import mask_id_number
from server.principal import (
    Principal,
    enterprise_chain,
    holder_chain,
    person_chain,
    require_level,
    require_scope,
)
from server.qr import render_png
from server.storage.limits import Limits

MAX_SHARE_TTL = 600


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


class HoldingService:
    def __init__(self, store: HoldingStore, certs: CertificateStore, certificates: Certificates, catalog: Catalog,
                 directory: Directory, audit: AuditTrail, limits: Limits, share_misses_per_minute: int,
                 public_base_url: str, font_path: str = ""):
        self.store = store
        self.limits = limits
        self.share_misses_per_minute = share_misses_per_minute
        self.certs = certs
        self.certificates = certificates
        self.catalog = catalog
        self.directory = directory
        self.audit = audit
        self.public_base_url = public_base_url.rstrip("/")
        self.font_path = font_path

    # ================================================================================================
    # holders
    # ================================================================================================

    async def holder_for(self, principal: Principal) -> Holder:
        """The wallet the caller is looking at: their own, or the acting enterprise's."""
        if principal.acting is not None:
            acting = require_scope(principal, "certificates")
            e = await self.directory.enterprise(acting.enterprise_id)
            if e is None:
                raise NotFound("未找到该企业", code="enterprise_not_found")
            return Holder("enterprise", e.id, e.uscc_index, enterprise_chain(e.id), can_reveal=acting.role == "admin")
        require_level(principal, 2)
        person = await self.directory.person(principal.subject)
        if person is None or person.id_index is None:
            raise PermissionDenied("请先完成实名认证", code="level_too_low",
                                   extra={"required_level": 2, "current_level": principal.level})
        return Holder("person", principal.subject, person.id_index, person_chain(principal.subject), can_reveal=True)

    def summary(self, cert: dict[str, Any], content: dict[str, Any], issuer_name: str) -> dict[str, Any]:
        ctype = self.catalog.get(cert["type"])
        fields = content.get("fields", {})
        shown = {}
        for f in ctype.display.get("summary", []) if ctype else []:
            v = fields.get(f)
            shown[ctype.label(f)] = mask_value(v) if f in ctype.sensitive else v
        return {"id": cert["_id"], "type": cert["type"], "type_name": ctype.name if ctype else cert["type"],
                "holder_kind": cert["holder_kind"], "issuer_code": cert["issuer"], "issuer_name": issuer_name,
                "status": status_of(cert), "version": cert["version"], "valid_from": cert["valid_from"],
                "valid_until": cert.get("valid_until"), "summary": shown,
                "color": (ctype.display.get("color") if ctype else None) or "#555555"}

    async def _issuer_names(self) -> dict[str, str]:
        return {i["code"]: i["name"] for i in await self.certificates.registry.issuers()}

    async def list(self, principal: Principal) -> list[dict[str, Any]]:
        holder = await self.holder_for(principal)
        names = await self._issuer_names()
        return [self.summary(c, self.certificates.content(c), names.get(c["issuer"], c["issuer"]))
                for c in await self.certs.of_holder(holder.bidx)]

    async def _held(self, holder: Holder, cert_id: str) -> dict[str, Any]:
        cert = await self.certs.certificate(cert_id)
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
        content = self.certificates.content(cert)
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
                "revealed": reveal, "verification": await self.certificates.verify(cert)}

    # ================================================================================================
    # showing and sharing (亮证)
    # ================================================================================================

    async def share(self, principal: Principal, cert_id: str, purpose: str, fields: list[str], ttl: int,
                    ip: str) -> dict[str, Any]:
        holder = await self.holder_for(principal)
        cert = await self._held(holder, cert_id)
        status = status_of(cert)
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

    async def _live_share(self, token: str, ip: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(share, certificate) of an unexpired share token. Tokens are verified without login,
        so an address that keeps presenting unknown ones is slowed down."""
        wait, _ = await self.limits.spend("share-miss", [ip], self.share_misses_per_minute, 60)
        if wait:
            raise RateLimited(f"核验过于频繁，请 {wait} 秒后再试", code="share_attempts_exceeded", retry_after=wait)
        share = await self.store.share(hashlib.sha256(token.encode()).hexdigest())
        if share is None:
            raise NotFound("未找到该亮证码", code="share_not_found")
        await self.limits.refund("share-miss", [ip])
        if share["expires_at"] <= now_ms():
            raise Gone("亮证码已过期，请让持证人重新出示", code="share_expired")
        cert = await self.certs.certificate(share["certificate_id"])
        if cert is None:
            raise NotFound("证照不存在", code="certificate_not_found")
        return share, cert

    async def view_share(self, token: str, viewer: dict[str, str], ip: str) -> dict[str, Any]:
        share, cert = await self._live_share(token, ip)
        current = cert
        if cert["status"] == "superseded":  # shown before an update: report the current version's status
            current = await self.certs.current_by_base(cert["base"]) or cert
        content = self.certificates.content(cert)
        ctype = self.catalog.get(cert["type"])
        issuer = await self.certificates.registry.issuer(cert["issuer"])
        verification = await self.certificates.verify(cert)
        if current is not cert:
            verification = {**verification, "status": "superseded", "valid": False,
                            "current_status": status_of(current)}
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
        status = status_of(cert)
        if status not in ("valid", "expiring"):
            raise Conflict(f"证照当前状态为“{status}”，不能出示", code="certificate_not_valid", extra={"state": status})
        content = self.certificates.content(cert)
        ctype = self.catalog.get(cert["type"])
        shown = [f for f in ctype.schema["properties"] if f not in ctype.sensitive]
        token, _ = await self._new_share(cert, holder, purpose, shown, MAX_SHARE_TTL)
        issuer = await self.certificates.registry.issuer(cert["issuer"])
        png = self._render(cert, content, issuer["name"] if issuer else cert["issuer"],
                           list(ctype.schema["properties"]), True, purpose, token)
        await self._use(holder.key, cert, "image", {"type": "person", "id": principal.subject, "name": "本人"},
                        purpose, ip)
        return png

    async def share_image(self, token: str, ip: str, masked: bool = False) -> bytes:
        """The disclosed fields of a share (e.g. a certificate given to a kiosk) as an image;
        ``masked`` for a screen in a public hall (ID and archive numbers half hidden)."""
        share, cert = await self._live_share(token, ip)
        issuer = await self.certificates.registry.issuer(cert["issuer"])
        return self._render(cert, self.certificates.content(cert), issuer["name"] if issuer else cert["issuer"],
                            share["fields"], masked, share["purpose"], token)

    async def share_qr(self, token: str, ip: str) -> bytes:
        """The QR of a live share's verification link (the mini-program shows it; a browser
        draws its own). Holds nothing the link does not."""
        await self._live_share(token, ip)
        return render_png(self.verify_url(token))

    async def usage(self, principal: Principal, limit: int, before: int | None) -> list[dict[str, Any]]:
        holder = await self.holder_for(principal)
        rows = await self.store.usage_of(holder.key, limit, before)
        return [{**r, "type_name": ctype.name if (ctype := self.catalog.get(r["type"])) else r["type"]} for r in rows]

    # ================================================================================================
    # for other domains: 免证办, consent delivery, expiry reminders
    # ================================================================================================

    async def _valid(self, holder_kind: str, holder_bidx: str, type_codes: list[str]
                     ) -> dict[str, tuple[dict[str, Any], dict[str, Any]] | None]:
        """For each type: the holder's first valid certificate and its verification, or None."""
        out: dict[str, tuple[dict[str, Any], dict[str, Any]] | None] = dict.fromkeys(type_codes)
        candidates = [c for c in await self.certs.of_holder(holder_bidx)
                      if c["type"] in out and c["holder_kind"] == holder_kind and status_of(c) in ("valid", "expiring")]
        for cert, check in zip(candidates, await self.certificates.verify_many(candidates)):
            if out[cert["type"]] is None and check["valid"]:
                out[cert["type"]] = (cert, check)
        return out

    async def satisfies(self, holder_kind: str, holder_bidx: str, type_codes: list[str]
                        ) -> dict[str, dict[str, Any] | None]:
        """For each type: the holder's valid certificate (id, fields, verification), or None."""
        return {t: None if found is None else {
            "certificate_id": found[0]["_id"], "verification": found[1], "valid_until": found[0].get("valid_until"),
            "fields": self.certificates.content(found[0]).get("fields", {})}
            for t, found in (await self._valid(holder_kind, holder_bidx, type_codes)).items()}

    async def verify_ids(self, cert_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Verification as of now of certificates named by id (e.g. an application's materials)."""
        certs = [c for c in [await self.certs.certificate(i) for i in cert_ids] if c is not None]
        return {c["_id"]: v for c, v in zip(certs, await self.certificates.verify_many(certs))}

    async def deliver_for_consent(self, consent: dict[str, Any], type_codes: list[str], holder_bidx: str | None,
                                  requester: Any) -> dict[str, dict[str, Any] | None]:
        """The certificates the holder agreed to give a kiosk or window, each shared for the
        consent's purpose (a watermarked image link) and logged in the holder's 用证记录."""
        if not holder_bidx:
            return dict.fromkeys(type_codes)
        kind, ident = consent["holder"].split(":", 1)
        holder = Holder(kind, ident, holder_bidx, holder_chain(consent["holder"]), can_reveal=False)
        by = {"type": requester.type, "id": requester.id, "name": requester.name}
        when = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M")
        out: dict[str, dict[str, Any] | None] = {}
        for type_code, found in (await self._valid(kind, holder_bidx, type_codes)).items():
            if found is None:
                out[type_code] = {"available": False}
                continue
            cert, check = found
            fields = self.certificates.content(cert).get("fields", {})
            token, _ = await self._new_share(cert, holder, consent["purpose"], list(fields), MAX_SHARE_TTL)
            await self._use(holder.key, cert, "disclosed", by, consent["purpose"], consent_id=consent["_id"])
            out[type_code] = {"available": True, "certificate_id": cert["_id"], "fields": fields,
                              "valid_until": cert.get("valid_until"), "verification": check,
                              "watermark": f"仅供“{consent['purpose']}”使用 · {requester.name} · {when}",
                              "image_url": f"/api/v1/verify/shares/{token}/image"}
        return out

    async def scan_reminders(self, on: date | None = None) -> int:
        """Store a reminder for every certificate expiring within 30 days (once each)."""
        day = on or today()
        n = 0
        for cert in await self.certs.expiring((day + timedelta(days=EXPIRING_DAYS)).isoformat()):
            if cert["valid_until"] < day.isoformat():
                continue
            holder = await self.certificates.holder_key(cert)
            if holder is None:
                continue
            ctype = self.catalog.get(cert["type"])
            added = await self.store.add_reminder({
                "_id": f"{cert['_id']}:expiry", "holder": holder, "certificate_id": cert["_id"],
                "type": cert["type"], "type_name": ctype.name if ctype else cert["type"],
                "valid_until": cert["valid_until"], "created_at": now_ms(),
                "message": f"您的{ctype.name if ctype else '证照'}将于 {cert['valid_until']} 到期，请及时办理换领。"})
            n += int(added)
        return n

    async def reminders(self, principal: Principal) -> list[dict[str, Any]]:
        holder = await self.holder_for(principal)
        return await self.store.reminders_of(holder.key)
