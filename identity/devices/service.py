"""Registered kiosks and service-window devices.

A device holds a P-256 key pair; the platform keeps only its public key. To get a
short ``aud=kiosk`` access token the device signs a client assertion (RFC 7523 style):

    header  {"alg": "ES256", "typ": "JWT"}
    claims  {"iss": <device_id>, "sub": <device_id>, "aud": <codes.device_assertion_audience>,
             "iat": now, "exp": now + at most 300 s, "jti": <random, used once>}

and posts it to ``POST /api/v1/devices/token``. No shared passwords. Disabling a device
voids its tokens at once and its scans fail even mid-token (the status is checked in
the scan itself).
"""
from __future__ import annotations

from typing import Any

from identity.codes.service import ScanActor
from identity.devices.storage import DeviceStore
from identity.sessions.service import Sessions
from server.assertions import unverified_parts, verify_assertion
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from server.keys import thumbprint
from server.principal import Principal, require_role
from server.storage.limits import Limits

DEVICE_PREFIX = "device:"
# What a device may do: scan codes, ask for consent, apply and collect ratings for the holder,
# file a 12345 ticket for them, give queue numbers (kiosks), show a hall's calls (screens).
DEVICE_SCOPES = {"scan", "consent", "apply", "rate", "ticket", "queue", "display"}


def device_subject(device_id: str) -> str:
    return DEVICE_PREFIX + device_id


class DeviceService:
    def __init__(self, store: DeviceStore, sessions: Sessions, limits: Limits, audit: AuditTrail,
                 assertion_audience: str):
        self.store = store
        self.sessions = sessions
        self.limits = limits
        self.audit = audit
        self.audience = assertion_audience

    async def sync_cache(self) -> int:
        """Copy the registry into Redis (the scan path reads devices from there)."""
        devices = await self.store.all()
        for d in devices:
            await self.store.cache(d)
        return len(devices)

    async def register(self, principal: Principal, fields: dict[str, Any], public_key_pem: str) -> dict[str, Any]:
        require_role(principal, "admin")
        try:
            tp = thumbprint(public_key_pem)
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec

            key = serialization.load_pem_public_key(public_key_pem.encode())
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                raise ValueError("not P-256")
        except (ValueError, TypeError):
            raise InvalidInput("设备公钥应为 PEM 格式的 P-256 公钥", code="device_key_invalid",
                               errors=[FieldError("public_key_pem", "应为 PEM 格式的 P-256（ES256）公钥")]) from None
        bad = sorted(set(fields["scopes"]) - DEVICE_SCOPES)
        if bad:
            raise InvalidInput("未知的终端权限：" + "、".join(bad), code="validation_failed",
                               errors=[FieldError("scopes", f"未知的权限：{b}") for b in bad])
        doc = {**fields, "public_key_pem": public_key_pem, "key_thumbprint": tp, "status": "active",
               "registered_by": principal.subject, "created_at": now_ms(), "updated_at": now_ms()}
        if not await self.store.insert(doc):
            raise Conflict("该设备编号已登记", code="device_exists")
        await self.store.cache(doc)
        await self.audit.record(f"device:{doc['device_id']}", Actor("staff", principal.subject), "device.registered",
                                channel="staff", details={"name": doc["name"], "location": doc["location"]})
        return doc

    async def set_status(self, principal: Principal, device_id: str, active: bool) -> dict[str, Any]:
        require_role(principal, "admin")
        doc = await self.store.set_status(device_id, "active" if active else "disabled", now_ms())
        if doc is None:
            raise NotFound("未找到该设备", code="device_not_found")
        await self.store.cache(doc)
        if not active:
            await self.sessions.end_all(device_subject(device_id))
        await self.audit.record(f"device:{device_id}", Actor("staff", principal.subject),
                                "device.enabled" if active else "device.disabled", channel="staff")
        return doc

    async def list(self, principal: Principal) -> list[dict[str, Any]]:
        require_role(principal, "admin")
        return await self.store.all()

    async def token(self, assertion: str) -> tuple[str, int]:
        fail = Unauthenticated("设备身份断言无效", code="device_assertion_invalid")
        _, unverified = unverified_parts(assertion, fail)
        device = await self.store.get(unverified["iss"])
        if device is None:
            raise Unauthenticated("该设备未登记", code="device_unknown")
        if device["status"] != "active":
            raise PermissionDenied("该终端已停用", code="device_disabled")
        await verify_assertion(assertion, device["public_key_pem"], device["device_id"], self.audience, self.limits,
                               "device-assertion", fail,
                               Unauthenticated("设备身份断言已被使用", code="device_assertion_replayed"))
        await self.store.cache(device)
        token, _ = self.sessions.access(device_subject(device["device_id"]), "kiosk", 0,
                                        {"dept": device["department"], "loc": device["location"]})
        return token, self.sessions.tokens.ttl

    def scan_actor(self, principal: Principal) -> ScanActor:
        """The actor of a scan, from the token alone: the scan itself checks the device's
        status and scope in Redis (one round trip on the hot path)."""
        token = (principal.jti, principal.subject, principal.iat, principal.claims.get("fam"))
        if principal.channel == "kiosk":
            c = principal.claims
            return ScanActor("device", principal.subject[len(DEVICE_PREFIX):], location=c.get("loc", ""),
                             department=c.get("dept", ""), token=token)
        require_role(principal, "clerk", "admin")
        c = principal.claims
        return ScanActor("staff", principal.subject[len("staff:"):], c.get("name", ""), c.get("dept_name", ""),
                         c.get("dept", ""), ("*",), token=token)

    async def actor(self, principal: Principal, need: str) -> ScanActor:
        """The scanning actor behind a kiosk or staff token, with its allowed items."""
        if principal.channel == "kiosk":
            device_id = principal.subject[len(DEVICE_PREFIX):]
            device = await self.store.cached(device_id)
            if device is None:
                stored = await self.store.get(device_id)
                if stored is None:
                    raise Unauthenticated("该设备未登记", code="device_unknown")
                await self.store.cache(stored)
                device = await self.store.cached(device_id)
            if device["status"] != "active":
                raise PermissionDenied("该终端已停用", code="device_disabled")
            if need not in device["scopes"]:
                raise PermissionDenied("本终端未开通此功能", code="device_scope_missing", extra={"required_scope": need})
            return ScanActor("device", device_id, device["name"], device["location"], device["department"],
                             tuple(device["items"]))
        require_role(principal, "clerk", "admin")
        c = principal.claims
        return ScanActor("staff", principal.subject[len("staff:"):], c.get("name", ""), c.get("dept_name", ""),
                         c.get("dept", ""), ("*",))
