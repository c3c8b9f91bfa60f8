"""Personal data at rest: AES-256-GCM encryption plus an HMAC-SHA256 blind index.

* ``encrypt(value, purpose)`` -> ``"v1.<base64(nonce|ciphertext|tag)>"``; the purpose
  (e.g. ``"id_number"``) is bound as associated data, so a ciphertext moved to another
  field does not decrypt.
* ``blind_index(value, purpose)`` -> hex HMAC: equal values give equal indexes, which
  is what lookups and unique indexes need, without storing the value itself.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


class PiiCipher:
    def __init__(self, encryption_key: bytes, index_key: bytes):
        if len(encryption_key) != 32 or len(index_key) != 32:
            raise ValueError("PII keys must be 32 bytes")
        self._aead = AESGCM(encryption_key)
        self._index_key = index_key

    def encrypt(self, value: str, purpose: str) -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, value.encode("utf-8"), purpose.encode("utf-8"))
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + ct).decode('ascii')}"

    def decrypt(self, token: str, purpose: str) -> str:
        version, _, payload = token.partition(".")
        if version != _VERSION:
            raise ValueError(f"unknown PII ciphertext version {version!r}")
        raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        return self._aead.decrypt(raw[:12], raw[12:], purpose.encode("utf-8")).decode("utf-8")

    def blind_index(self, value: str, purpose: str) -> str:
        msg = purpose.encode("utf-8") + b"\x00" + value.strip().upper().encode("utf-8")
        return hmac.new(self._index_key, msg, hashlib.sha256).hexdigest()
