"""Client assertions (RFC 7523 style): how kiosks and issuing authorities prove who they
are with their own key pair instead of a shared secret.

A JWT signed ES256 with ``iss = sub = <client id>``, the expected ``aud``, ``iat``,
``exp`` at most 300 s after ``iat`` and a ``jti`` that is accepted once.
"""
from __future__ import annotations

import time
from typing import Any

import jwt

from server.errors import Unauthenticated
from server.storage.limits import Limits

MAX_LIFETIME = 300


def unverified_parts(assertion: str, fail: Unauthenticated) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before the key is known (to find the key); ES256 only."""
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise fail from None
    if header.get("alg") != "ES256" or not isinstance(claims.get("iss"), str):
        raise fail
    return header, claims


async def verify_assertion(assertion: str, public_key_pem: str, client_id: str, audience: str,
                           limits: Limits, namespace: str, fail: Unauthenticated,
                           replayed: Unauthenticated) -> dict[str, Any]:
    try:
        claims = jwt.decode(assertion, public_key_pem, algorithms=["ES256"], audience=audience, issuer=client_id,
                            options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]}, leeway=5)
    except jwt.PyJWTError:
        raise fail from None
    if claims["sub"] != client_id or claims["exp"] - claims["iat"] > MAX_LIFETIME or claims["iat"] > time.time() + 30:
        raise fail
    if not await limits.first_use(namespace, f"{client_id}:{claims['jti']}", 2 * MAX_LIFETIME):
        raise replayed
    return claims
