"""Issuing, rendering, scanning and revoking service codes; the holder's 用码记录."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from identity.codes.codec import (
    ENTERPRISE,
    PERSON,
    SUBJECT_TYPES,
    CodeError,
    CodeKeys,
    CodePayload,
    parse,
)
from identity.codes.storage import SHARDS, CodeStore, shard_of_ref, shard_of_short
from identity.enterprises.service import EnterpriseService
from identity.facade import Directory
from identity.items import ItemCatalog
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.config import CodesConfig
from server.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unprocessable,
)
from server.masking import mask_name
from server.principal import (
    Caller,
    Principal,
    enterprise_chain,
    person_chain,
    require_level,
)
from server.qr import PngCache
from server.storage.limits import Limits

# The purposes stated for scans (by the consent requests that followed them).
PurposeLookup = Callable[[list[str]], Awaitable[dict[str, str]]]

log = logging.getLogger("superapp.codes")

# How long a code's reference, one-use marker and its holder's "void before" are kept:
# long enough for a kiosk that was offline to sync its scans.
REF_RETENTION_MS = 24 * 3600 * 1000
SCAN_RECORD_TTL_S = 15 * 60


@dataclass(frozen=True)
class ScanActor:
    """A kiosk (device) or a clerk (staff) scanning codes."""

    type: str  # device / staff
    id: str
    name: str = ""
    location: str = ""
    department: str = ""
    item_patterns: tuple[str, ...] = field(default_factory=tuple)
    # The caller's access token (jti, subject, iat, login family): a scan checks its revocation itself.
    token: tuple[str, str, float, str | None] = ("", "", 0.0, None)

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id, "name": self.name, "location": self.location,
                "department": self.department}

    @property
    def audience(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass(frozen=True)
class IssuedCode:
    code: str
    short_code: str | None
    expires_at: int  # epoch seconds
    refresh_after: int  # epoch seconds
    subject_type: str
    items: list[str]


@dataclass(frozen=True)
class ScanResult:
    scan_id: str
    subject_type: str
    name: str
    level: str
    preauthorized_items: list[str]


_REASONS = {
    "malformed": (InvalidInput, "code_malformed"),
    "unknown_key": (Unprocessable, "code_unknown_key"),
    "bad_signature": (Unprocessable, "code_invalid_signature"),
    "expired": (Unprocessable, "code_expired"),
}


def _ref_in_shard(shard: int) -> bytes:
    """A random 16-byte code reference whose shard is ``shard`` (the low bits of its first byte)."""
    raw = bytearray(os.urandom(16))
    raw[0] = (raw[0] & ~(SHARDS - 1) & 0xFF) | shard
    return bytes(raw)


def code_error(e: CodeError) -> Exception:
    cls, code = _REASONS[e.reason]
    return cls(str(e), code=code, errors=[FieldError("code", str(e))])


class CodeService:
    def __init__(self, keys: CodeKeys, store: CodeStore, directory: Directory, enterprises: EnterpriseService,
                 items: ItemCatalog, audit: AuditTrail, limits: Limits, config: CodesConfig, purposes: PurposeLookup):
        self.keys = keys
        self.store = store
        self.limits = limits
        self.directory = directory
        self.enterprises = enterprises
        self.items = items
        self.purposes = purposes
        self.audit = audit
        self.cfg = config
        self.png_cache = PngCache()

    # -- holder side ---------------------------------------------------------------------------

    async def _holder(self, principal: Principal, enterprise_id: str | None) -> tuple[str, int, str, str]:
        """(holder key, subject type, masked display name, level) for the caller's code."""
        if enterprise_id is None:
            require_level(principal, 2)
            person = await self.directory.person(principal.subject)
            if person is None or not person.verified:
                raise PermissionDenied("请先完成实名认证", code="level_too_low",
                                       extra={"required_level": 2, "current_level": principal.level})
            return f"person:{principal.subject}", PERSON, mask_name(person.name or ""), f"L{person.level}"
        enterprise = await self.enterprises.for_scope(principal, enterprise_id, "code")
        return f"enterprise:{enterprise_id}", ENTERPRISE, enterprise["name"], "verified"

    def _check_items(self, items: list[str], subject_type: str) -> list[str]:
        bad = [i for i in items if not self.items.known(i) or not self.items.applies_to(i, subject_type)]
        if bad:
            raise InvalidInput("不支持预授权这些信息：" + "、".join(bad), code="item_unknown",
                               errors=[FieldError("items", f"未知或不适用的信息项：{i}") for i in bad])
        return list(dict.fromkeys(items))

    async def issue(self, principal: Principal, enterprise_id: str | None, items: list[str]) -> IssuedCode:
        holder, subject_type, name, level = await self._holder(principal, enterprise_id)
        items = self._check_items(items, SUBJECT_TYPES[subject_type])
        now = now_ms()
        exp = now // 1000 + self.cfg.ttl_seconds
        record = {"holder": holder, "notify": principal.subject, "iat": str(now), "exp": str(exp), "name": name,
                  "level": level, "type": SUBJECT_TYPES[subject_type], "items": json.dumps(items)}
        short_ttl = (self.cfg.ttl_seconds + self.cfg.leeway_seconds) * 1000  # as long as the QR code
        for _ in range(5):
            short = f"{secrets.randbelow(10**8):08d}" if self.cfg.short_codes else None
            ref = _ref_in_shard(shard_of_short(short) if short else secrets.randbelow(SHARDS))
            if await self.store.put_code(ref.hex(), record, REF_RETENTION_MS, short, short_ttl, now):
                break
        else:
            short = None
            ref = _ref_in_shard(secrets.randbelow(SHARDS))
            await self.store.put_code(ref.hex(), record, REF_RETENTION_MS, None, short_ttl, now)
        text = self.keys.sign(CodePayload(subject_type, self.keys.signing_kid, exp, ref,
                                          tuple(self.items.id_of(i) for i in items)))
        return IssuedCode(text, short, exp, now // 1000 + self.cfg.refresh_after_seconds,
                          SUBJECT_TYPES[subject_type], items)

    async def png(self, principal: Principal, text: str) -> bytes:
        try:
            payload = self.keys.verify(text, leeway=self.cfg.leeway_seconds)
        except CodeError as e:
            raise code_error(e) from None
        record = await self.store.code_record(payload.ref.hex())
        if record.get("notify") != principal.subject:
            raise NotFound("未找到该服务码", code="code_not_found")
        return self.png_cache.get(text)

    async def revoke_all(self, principal: Principal, enterprise_id: str | None, caller: Caller) -> int:
        holder, _, _, _ = await self._holder(principal, enterprise_id)
        now = now_ms()
        await self.store.revoke_codes_of(holder, now - REF_RETENTION_MS)
        chain = enterprise_chain(enterprise_id) if enterprise_id else person_chain(principal.subject)
        await self.audit.record(chain, Actor("person", principal.subject), "codes.revoked_all",
                                target={"type": holder.split(":")[0], "id": holder.split(":")[1]},
                                channel=caller.channel, ip=caller.ip)
        return now

    async def history(self, principal: Principal, enterprise_id: str | None, limit: int,
                      before: int | None) -> list[dict[str, Any]]:
        if enterprise_id is None:
            holder = f"person:{principal.subject}"
        else:
            holder, _, _, _ = await self._holder(principal, enterprise_id)
        scans = await self.store.history(holder, limit, before)
        purposes = await self.purposes([s["_id"] for s in scans])
        return [{**s, "purpose": purposes.get(s["_id"])} for s in scans]

    async def scan_of(self, actor: "ScanActor", scan_id: str) -> dict[str, str]:
        """A scan this kiosk or window made in the last 15 minutes: whose code it was."""
        scan = await self.store.scan_record(scan_id)
        if not scan or scan.get("actor_id") != actor.id or scan.get("actor_type") != actor.type:
            raise NotFound("未找到该扫码记录（或已超过 15 分钟）", code="scan_not_found")
        return scan

    # -- kiosk / window side (hot path) --------------------------------------------------------------

    async def scan(self, actor: ScanActor, code: str | None, short_code: str | None) -> ScanResult:
        if short_code is not None:
            ref = await self._short_code_ref(actor, short_code)
        else:
            try:
                payload = self.keys.verify(code or "", leeway=self.cfg.leeway_seconds)
            except CodeError as e:
                raise code_error(e) from None
            ref = payload.ref.hex()
        return await self._scan(actor, ref, "online")

    async def _short_code_ref(self, actor: ScanActor, short_code: str) -> str:
        """8 digits can be guessed: unknown ones are counted per device and per hall, and past
        the limit every short code from there is refused for a while (the QR path is not)."""
        where = [f"{actor.type}:{actor.id}", "hall:" + hashlib.sha256(
            (actor.location or actor.department or actor.id).encode()).hexdigest()[:16]]
        limit = self.cfg.short_code_misses_per_minute
        wait, guesses = await self.limits.spend("short-code-miss", where, limit, 60)
        if wait:
            raise RateLimited(f"短码输入错误次数过多，请 {wait} 秒后再试，或请对方出示二维码",
                              code="short_code_attempts_exceeded", retry_after=wait)
        ref = await self.store.ref_of_short(short_code)
        if ref is not None:
            await self.limits.refund("short-code-miss", where)
        else:
            if guesses == limit:
                log.warning("short codes: %d unknown short codes within a minute from %s %s (department %s, hall %s); "
                            "short codes from there are refused for a minute", guesses, actor.type, actor.id,
                            actor.department or "?", actor.location or "?")
            raise Unprocessable("短码无效或已过期，请让对方刷新后重新出示", code="code_unknown",
                                errors=[FieldError("short_code", "短码无效或已过期")])
        return ref

    async def _scan(self, actor: ScanActor, ref: str, mode: str) -> ScanResult:
        scan_id = "s" + f"{shard_of_ref(ref):02x}" + secrets.token_hex(11)
        result = await self.store.scan(ref, scan_id, now_ms(), REF_RETENTION_MS, actor.as_dict(), actor.token,
                                       actor.id if actor.type == "device" else None, SCAN_RECORD_TTL_S, mode)
        outcome = result[0]
        if outcome == "ok":
            return ScanResult(scan_id, result[1], result[2], result[3], json.loads(result[4]))
        if outcome == "token_revoked":
            raise Unauthenticated("登录已失效，请重新登录", code="token_revoked")
        if outcome == "device_disabled":
            raise PermissionDenied("该终端已停用", code="device_disabled")
        if outcome == "device_scope_missing":
            raise PermissionDenied("本终端未开通扫码功能", code="device_scope_missing",
                                   extra={"required_scope": "scan"})
        if outcome == "replayed":
            raise Conflict("该服务码已被使用，请让对方刷新后重新出示", code="code_already_used")
        if outcome == "revoked":
            raise Unprocessable("该服务码已被持有人作废", code="code_revoked")
        raise Unprocessable("服务码无效或已过期，请让对方刷新后重新出示", code="code_unknown")

    async def scan_offline(self, actor: ScanActor, code: str, scanned_at: int) -> ScanResult:
        """A scan a kiosk verified offline, reported when it syncs (replay checked now)."""
        now = time.time()
        if scanned_at > now + self.cfg.leeway_seconds or scanned_at < now - REF_RETENTION_MS / 1000:
            raise InvalidInput("扫码时间不合理", code="scanned_at_invalid",
                               errors=[FieldError("scanned_at", "须在过去 24 小时内")])
        try:
            payload = self.keys.verify(code, now=scanned_at, leeway=self.cfg.leeway_seconds)
        except CodeError as e:
            raise code_error(e) from None
        return await self._scan(actor, payload.ref.hex(), "offline")

    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks()


def payload_of(text: str) -> CodePayload:
    """Structure of a code without verifying it (for tests and diagnostics)."""
    return parse(text)[0]


def scan_entry_to_doc(entry_id: str, f: dict[str, str]) -> dict[str, Any]:
    return {"_id": f["scan_id"], "holder": f["holder"], "notify": f["notify"],
            "actor": {"type": f["actor_type"], "id": f["actor_id"], "name": f["actor_name"]},
            "location": f["location"], "department": f["department"], "at": int(f["at"]),
            "mode": f.get("mode", "online"), "stream_id": entry_id}

