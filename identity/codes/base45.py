"""Base45 (RFC 9285): binary -> the QR alphanumeric character set, so a QR code can use
alphanumeric mode (5.5 bits per character) instead of byte mode (8 bits)."""
from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = {c: i for i, c in enumerate(ALPHABET)}


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = divmod(n, 45 * 45)
        b, a = divmod(n, 45)
        out += (ALPHABET[a], ALPHABET[b], ALPHABET[c])
    if len(data) % 2:
        b, a = divmod(data[-1], 45)
        out += (ALPHABET[a], ALPHABET[b])
    return "".join(out)


def b45decode(text: str) -> bytes:
    values = _VALUES
    try:
        v = [values[c] for c in text]
    except KeyError:
        raise ValueError("not Base45") from None
    n = len(v)
    if n % 3 == 1:
        raise ValueError("bad Base45 length")
    full = n - n % 3
    out = bytearray(full // 3 * 2 + (1 if n % 3 else 0))
    j = 0
    for i in range(0, full, 3):
        x = v[i] + v[i + 1] * 45 + v[i + 2] * 2025
        if x > 0xFFFF:
            raise ValueError("bad Base45 triplet")
        out[j] = x >> 8
        out[j + 1] = x & 0xFF
        j += 2
    if n % 3:
        x = v[full] + v[full + 1] * 45
        if x > 0xFF:
            raise ValueError("bad Base45 pair")
        out[j] = x
    return bytes(out)
