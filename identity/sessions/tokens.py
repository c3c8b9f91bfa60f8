"""Access tokens (JWT, ES256, 15 min) and their verification.

Per RFC 8725: the algorithm is pinned per key (ES256 only, so ``none`` and every HS*
are refused before any key is touched), ``typ`` is explicit (``at+jwt``), ``kid`` must
name one of our keys, and ``exp``, ``iat``, ``aud``, ``iss``, ``sub``, ``jti`` are
required. Signing keys rotate: the first configured key signs, every configured key
verifies, and all are published at ``/.well-known/jwks.json``.
"""
from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.config import ConfigError
from server.errors import Unauthenticated
from server.keys import ec_public_jwk, thumbprint

ALGORITHM = "ES256"
TOKEN_TYPE = "at+jwt"
REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "sub", "jti"]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: ec.EllipticCurvePrivateKey
    thumbprint: str

    @property
    def public(self) -> ec.EllipticCurvePublicKey:
        return self.private.public_key()

    def jwk(self) -> dict[str, str]:
        return ec_public_jwk(self.public, self.kid)


def load_signing_keys(paths: Iterable[Path], forbidden_thumbprints: Iterable[str] = ()) -> list[SigningKey]:
    """Load P-256 private keys from PEM files; a bad file is a ConfigError naming it."""
    keys = []
    forbidden = set(forbidden_thumbprints)
    for path in paths:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as e:
            raise ConfigError("tokens.signing_key_files", f"cannot load {path}: {e}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ConfigError("tokens.signing_key_files", f"{path} is not a P-256 (ES256) private key")
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        tp = thumbprint(pem)
        if tp in forbidden:
            raise ConfigError("tokens.signing_key_files", f"{path} is the public demo key")
        keys.append(SigningKey(kid=tp[:16], private=key, thumbprint=tp))
    if not keys:
        raise ConfigError("tokens.signing_key_files", "at least one key is needed")
    return keys


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    aud: str
    lvl: int
    jti: str
    iat: float  # NumericDate with milliseconds, so "void before T" is exact
    exp: int
    extra: dict[str, Any] = field(default_factory=dict)


class AccessTokens:
    #: Verified tokens kept per process (signature and claims are pure functions of the
    #: token; revocation is still checked on every request by the caller).
    CACHE_SIZE = 20_000

    def __init__(self, keys: list[SigningKey], issuer: str, ttl_seconds: int):
        self.keys = keys
        self.by_kid = {k.kid: k for k in keys}
        self.issuer = issuer
        self.ttl = ttl_seconds
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()

    def issue(self, sub: str, aud: str, lvl: int, extra: dict[str, Any] | None = None) -> tuple[str, AccessClaims]:
        now = round(time.time(), 3)
        claims = AccessClaims(sub=sub, aud=aud, lvl=lvl, jti=secrets.token_urlsafe(16),
                              iat=now, exp=int(now) + self.ttl, extra=dict(extra or {}))
        payload = {"iss": self.issuer, "sub": sub, "aud": aud, "lvl": lvl, "jti": claims.jti,
                   "iat": claims.iat, "exp": claims.exp, **claims.extra}
        key = self.keys[0]
        token = jwt.encode(payload, key.private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": TOKEN_TYPE})
        return token, claims

    def verify(self, token: str, audiences: Iterable[str]) -> AccessClaims:
        """Verify signature and claims; raise Unauthenticated with a stable code."""
        cached = self._verified.get(token)
        if cached is not None:
            if cached.exp + 5 < time.time():
                del self._verified[token]
                raise Unauthenticated("登录已过期，请刷新或重新登录", code="token_expired")
            if cached.aud not in audiences:
                raise Unauthenticated("登录凭证不适用于此渠道", code="token_wrong_audience")
            return cached
        claims = self._verify(token, audiences)
        self._verified[token] = claims
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str, audiences: Iterable[str]) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("登录凭证格式不正确，请重新登录", code="token_invalid") from None
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
            raise Unauthenticated("登录凭证类型不被接受，请重新登录", code="token_invalid")
        key = self.by_kid.get(header.get("kid", ""))
        if key is None:
            raise Unauthenticated("登录凭证的签名密钥未知，请重新登录", code="token_invalid")
        auds = list(audiences)
        try:
            payload = jwt.decode(
                token, key.public, algorithms=[ALGORITHM], audience=auds, issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS}, leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("登录已过期，请刷新或重新登录", code="token_expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("登录凭证不适用于此渠道", code="token_wrong_audience") from None
        except jwt.PyJWTError:
            raise Unauthenticated("登录凭证无效，请重新登录", code="token_invalid") from None
        aud = payload["aud"]
        if not isinstance(aud, str) or not isinstance(payload.get("lvl", 0), int):
            raise Unauthenticated("登录凭证无效，请重新登录", code="token_invalid")
        extra = {k: v for k, v in payload.items() if k not in {"iss", "sub", "aud", "lvl", "jti", "iat", "exp"}}
        return AccessClaims(sub=payload["sub"], aud=aud, lvl=payload.get("lvl", 0), jti=payload["jti"],
                            iat=payload["iat"], exp=payload["exp"], extra=extra)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.jwk() for k in self.keys]}
