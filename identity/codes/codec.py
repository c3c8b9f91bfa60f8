"""Service codes (一人一码 / 一企一码): a self-contained signed token in a QR code.

Text form: ``SA1:`` + Base45(payload ‖ signature), QR alphanumeric mode.

Payload (big-endian)::

    0   u8    format version (1)
    1   u8    subject type: 1 person, 2 enterprise
    2   8B    key id: first 8 bytes of SHA-256 over the signing key's SubjectPublicKeyInfo
    10  u32   expiry, seconds since the epoch
    14  16B   per-code random reference: a pseudonym for the holder that only the server
              can resolve (never an ID number), and the code's nonce (one use only)
    30  u8    n, number of pre-authorised items
    31  2B*n  pre-authorised item ids (the holder allowed these when showing the code)
    ..  64B   ECDSA P-256 / SHA-256 signature (r ‖ s) over every byte before it

95 bytes without items -> 147 characters -> QR version 6 at level M (capacity 154).

Anyone holding the public keys (``GET /api/v1/codes/keys``, a JWKS) can check the
signature and expiry offline; who the holder is, whether the code was used, and whether
the holder revoked it are known only to the server.
"""
from __future__ import annotations

import base64
import hashlib
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from identity.codes.base45 import b45decode, b45encode
from server.config import ConfigError
from server.keys import ec_public_jwk

PREFIX = "SA1:"
VERSION = 1
PERSON, ENTERPRISE = 1, 2
SUBJECT_TYPES = {PERSON: "person", ENTERPRISE: "enterprise"}
_HEAD = struct.Struct(">BB8sI16sB")
SIG_LEN = 64
MAX_ITEMS = 16


class CodeError(ValueError):
    """A code that cannot be accepted; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class CodePayload:
    subject_type: int
    kid: bytes
    exp: int
    ref: bytes
    items: tuple[int, ...] = ()

    def pack(self) -> bytes:
        head = _HEAD.pack(VERSION, self.subject_type, self.kid, self.exp, self.ref, len(self.items))
        return head + b"".join(struct.pack(">H", i) for i in self.items)


def kid_of(public: ec.EllipticCurvePublicKey) -> bytes:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:8]


def kid_text(kid: bytes) -> str:
    return base64.urlsafe_b64encode(kid).rstrip(b"=").decode()


def _raw_signature(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def parse(text: str) -> tuple[CodePayload, bytes, bytes]:
    """(payload, signed bytes, raw signature) of a code's text; structure only."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise CodeError("malformed", "不是本系统的服务码")
    try:
        raw = b45decode(text[len(PREFIX):])
    except ValueError:
        raise CodeError("malformed", "服务码内容已损坏") from None
    if len(raw) < _HEAD.size + SIG_LEN:
        raise CodeError("malformed", "服务码不完整")
    version, subject_type, kid, exp, ref, n = _HEAD.unpack_from(raw)
    if version != VERSION or subject_type not in SUBJECT_TYPES or n > MAX_ITEMS:
        raise CodeError("malformed", "服务码格式不受支持")
    end = _HEAD.size + 2 * n
    if len(raw) != end + SIG_LEN:
        raise CodeError("malformed", "服务码不完整")
    items = tuple(struct.unpack_from(">H", raw, _HEAD.size + 2 * i)[0] for i in range(n))
    return CodePayload(subject_type, kid, exp, ref, items), raw[:end], raw[end:]


def verify_signature(public: ec.EllipticCurvePublicKey, signed: bytes, signature: bytes) -> bool:
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


class CodeKeys:
    """Signing keys of service codes: the first signs, all verify (rotation)."""

    def __init__(self, keys: list[ec.EllipticCurvePrivateKey]):
        if not keys:
            raise ValueError("at least one code signing key is needed")
        self.signing = keys[0]
        self.signing_kid = kid_of(keys[0].public_key())
        self.public = {kid_of(k.public_key()): k.public_key() for k in keys}

    @classmethod
    def load(cls, paths: Iterable[Path], forbidden: Iterable[bytes] = ()) -> "CodeKeys":
        keys = []
        blocked = set(forbidden)
        for path in paths:
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (OSError, ValueError, TypeError) as e:
                raise ConfigError("codes.signing_key_files", f"cannot load {path}: {e}") from None
            if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
                raise ConfigError("codes.signing_key_files", f"{path} is not a P-256 private key")
            if kid_of(key.public_key()) in blocked:
                raise ConfigError("codes.signing_key_files", f"{path} is the public demo key")
            keys.append(key)
        return cls(keys)

    def sign(self, payload: CodePayload) -> str:
        body = payload.pack()
        sig = _raw_signature(self.signing.sign(body, ec.ECDSA(hashes.SHA256())))
        return PREFIX + b45encode(body + sig)

    def verify(self, text: str, now: float | None = None, leeway: int = 5) -> CodePayload:
        payload, signed, sig = parse(text)
        public = self.public.get(payload.kid)
        if public is None:
            raise CodeError("unknown_key", "服务码的签名密钥未知")
        if not verify_signature(public, signed, sig):
            raise CodeError("bad_signature", "服务码签名无效（可能被篡改）")
        if payload.exp + leeway < (time.time() if now is None else now):
            raise CodeError("expired", "服务码已过期，请让对方刷新后重新出示")
        return payload

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [ec_public_jwk(public, kid_text(kid)) for kid, public in self.public.items()]}


def verify_offline(text: str, jwks: dict, now: float | None = None, leeway: int = 5) -> CodePayload:
    """What a kiosk can do with cached keys and no network: signature and expiry only.

    Replay and revocation are checked when the kiosk syncs (``POST /api/v1/scans/offline``).
    """
    payload, signed, sig = parse(text)
    jwk = next((k for k in jwks.get("keys", []) if k.get("kid") == kid_text(payload.kid)), None)
    if jwk is None or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise CodeError("unknown_key", "服务码的签名密钥未知")
    pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(pad(jwk["x"]), "big"), int.from_bytes(pad(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()
    if not verify_signature(public, signed, sig):
        raise CodeError("bad_signature", "服务码签名无效（可能被篡改）")
    if payload.exp + leeway < (time.time() if now is None else now):
        raise CodeError("expired", "服务码已过期")
    return payload
