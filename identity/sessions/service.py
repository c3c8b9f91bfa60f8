"""Sessions: access + refresh token pairs, rotation with reuse detection (RFC 9700),
logout, logout everywhere, and the per-request check of a presented access token."""
from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from identity.sessions.storage import RefreshTokenStore, SessionState
from identity.sessions.tokens import AccessClaims, AccessTokens
from server.clock import DAY_MS, now_ms, to_datetime
from server.errors import Unauthenticated
from server.events import EventHub, audience_of_subject
from server.principal import Principal

log = logging.getLogger("superapp.sessions")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    claims: AccessClaims


@dataclass(frozen=True)
class RefreshOutcome:
    """A verified refresh: whose family it is; the caller decides the new claims."""

    person_id: str
    channel: str
    family: str
    expires_at: int  # epoch ms
    extra: dict[str, Any]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class Sessions:
    def __init__(self, tokens: AccessTokens, store: RefreshTokenStore, state: SessionState,
                 refresh_ttl_days: int, reuse_grace_seconds: float, events: EventHub):
        self.tokens = tokens
        self.store = store
        self.state = state
        self.events = events
        self.refresh_ttl_ms = refresh_ttl_days * DAY_MS
        self.grace_ms = int(reuse_grace_seconds * 1000)

    async def _new_refresh(self, person_id: str, channel: str, family: str, expires_at: int,
                           extra: dict[str, Any]) -> str:
        token = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        await self.store.insert({
            "_id": _hash(token), "family": family, "person_id": person_id, "channel": channel,
            "extra": extra, "created_at": now_ms(), "expires_at": expires_at, "rotated_at": None,
            "revoked_at": None,
        })
        return token

    def access(self, person_id: str, channel: str, level: int, extra: dict[str, Any] | None = None
               ) -> tuple[str, AccessClaims]:
        return self.tokens.issue(person_id, channel, level, extra)

    def derive(self, principal: Principal, level: int | None = None, extra: dict[str, Any] | None = None
               ) -> tuple[str, AccessClaims]:
        """A new access token for the caller's own session (a level up, acting for an
        enterprise): it stays in the caller's login family, so revoking the family revokes it."""
        claims = {k: v for k, v in (extra or {}).items() if k != "fam"}
        if principal.claims.get("fam"):
            claims["fam"] = principal.claims["fam"]
        return self.access(principal.subject, principal.channel, principal.level if level is None else level,
                           claims or None)

    async def start(self, person_id: str, channel: str, level: int, extra: dict[str, Any] | None = None) -> TokenPair:
        """A new login: a new token family with an absolute expiry."""
        expires_at = now_ms() + self.refresh_ttl_ms
        family = secrets.token_hex(12)
        refresh = await self._new_refresh(person_id, channel, family, expires_at, dict(extra or {}))
        access, claims = self.access(person_id, channel, level, {**(extra or {}), "fam": family})
        return TokenPair(access, self.tokens.ttl, refresh, to_datetime(expires_at), claims)

    async def verify_refresh(self, refresh_token: str) -> tuple[RefreshOutcome, str]:
        """Rotate: the presented token is spent and a successor issued (same family and
        absolute expiry). Reuse of a spent token revokes the whole family."""
        now = now_ms()
        h = _hash(refresh_token)
        doc = await self.store.claim_for_rotation(h, now)
        if doc is None:
            doc = await self.store.get(h)
            if doc is None:
                raise Unauthenticated("刷新凭证无效，请重新登录", code="refresh_token_invalid")
            if doc["revoked_at"] is not None:
                raise Unauthenticated("登录已失效，请重新登录", code="refresh_token_revoked")
            if doc["expires_at"] <= now:
                raise Unauthenticated("登录已过期，请重新登录", code="refresh_token_expired")
            rotated_at = doc["rotated_at"]
            if rotated_at is None or now - rotated_at > self.grace_ms:
                revoked = await self._revoke_family(doc["person_id"], doc["family"])
                log.warning("refresh token reuse: family %s of %s revoked (%d tokens)",
                            doc["family"], doc["person_id"], revoked)
                raise Unauthenticated("检测到登录凭证被重复使用，为保护账户安全已退出所有相关登录，请重新登录",
                                      code="refresh_token_reused",
                                      extra={"person_id": doc["person_id"], "family": doc["family"]})
            # within the grace window: a concurrent refresh by the same client
        outcome = RefreshOutcome(doc["person_id"], doc["channel"], doc["family"], doc["expires_at"],
                                 doc.get("extra") or {})
        successor = await self._new_refresh(outcome.person_id, outcome.channel, outcome.family,
                                            outcome.expires_at, outcome.extra)
        return outcome, successor

    async def pair_after_refresh(self, outcome: RefreshOutcome, successor: str, level: int,
                                 extra: dict[str, Any] | None = None) -> TokenPair:
        access, claims = self.access(outcome.person_id, outcome.channel, level, {**(extra or {}), "fam": outcome.family})
        return TokenPair(access, self.tokens.ttl, successor, to_datetime(outcome.expires_at), claims)

    async def _revoke_family(self, person_id: str, family: str) -> int:
        """Every refresh token of a login, and every access token issued in it, at once."""
        n = await self.store.revoke_family(family, now_ms())
        await self.state.revoke_family(person_id, family, self.tokens.ttl + 60)
        await self._announce(person_id, fam=family)
        return n

    async def _announce(self, subject: str, **which: Any) -> None:
        """Live streams of a revoked token end at once (in whichever process holds them)."""
        await self.events.publish(audience_of_subject(subject), {"type": "session.revoked", **which})

    async def family_of(self, refresh_token: str) -> dict[str, Any] | None:
        return await self.store.get(_hash(refresh_token))

    async def end(self, principal: Principal, refresh_token: str | None) -> None:
        """Log out this session: its access token now, its refresh family too."""
        await self.state.revoke_jti(principal.subject, principal.jti, principal.exp)
        await self._announce(principal.subject, jti=principal.jti)
        if refresh_token:
            doc = await self.store.get(_hash(refresh_token))
            if doc is not None and doc["person_id"] == principal.subject:
                await self._revoke_family(doc["person_id"], doc["family"])

    async def end_all(self, subject: str) -> int:
        """Log out everywhere: every refresh token, and every access token issued until now."""
        n = await self.store.revoke_person(subject, now_ms())
        before = time.time()
        await self.state.void_before(subject, before, self.tokens.ttl + 60)
        await self._announce(subject, before=before)
        return n

    async def authenticate(self, token: str, audiences: Iterable[str], check_revocation: bool = True) -> Principal:
        """A verified access token. ``check_revocation=False`` is for a caller that checks
        revocation itself in the same Redis round trip as its own work (the scan)."""
        claims = self.tokens.verify(token, audiences)
        if check_revocation:
            revoked, void_before = await self.state.check(claims.jti, claims.sub, claims.extra.get("fam"))
            if revoked or claims.iat < void_before:
                raise Unauthenticated("登录已失效，请重新登录", code="token_revoked")
        return Principal(claims.sub, claims.aud, claims.lvl, claims.jti, claims.exp, claims.extra, iat=claims.iat)
