"""Certificate signatures: ES256 over the RFC 8785 (JCS) canonical form of the content.

The issuing authority signs; the platform verifies on intake and whenever it shows or
shares the certificate. Signature encoding: base64url of r ‖ s (64 bytes), with the
``kid`` of the issuer key.
"""
from __future__ import annotations

import base64
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)


def canonical(content: dict[str, Any]) -> bytes:
    return rfc8785.dumps(content)


def sign_content(content: dict[str, Any], private_key_pem: str) -> str:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    r, s = decode_dss_signature(key.sign(canonical(content), ec.ECDSA(hashes.SHA256())))
    return base64.urlsafe_b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).rstrip(b"=").decode()


def verify_content(content: dict[str, Any], signature: str, public_key_pem: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        if len(raw) != 64:
            return False
        key = serialization.load_pem_public_key(public_key_pem.encode())
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, canonical(content), ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
