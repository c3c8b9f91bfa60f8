"""电子证照标识 following GB/T 36904 as provincial platforms implement it:

    1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>

* type code: 18-character USCC of the body that defines the type + 3 digits;
* issuer code: the issuing authority's 18-character USCC;
* serial: up to 20 characters A-Z0-9, assigned by the issuer;
* version: 3 digits, 001 for the first issue, +1 for each update;
* check: ISO 7064 MOD 37,36 (hybrid) over type code + issuer code + serial + version.

The check character is computed over the concatenated parts without the OID prefix and
the dots; this reproduces the published example
``1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "1.2.156.3005.2"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SERIAL = re.compile(r"^[0-9A-Z]{1,20}$")
_ID = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{18}[0-9]{3})\.(?P<issuer>[0-9A-Z]{18})\.(?P<serial>[0-9A-Z]{1,20})"
    r"\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])$"
)


def mod37_36(text: str) -> str:
    """ISO 7064 MOD 37,36 hybrid check character over 0-9A-Z."""
    m = 36
    p = m
    for c in text:
        s = (p + ALPHABET.index(c)) % m
        p = ((s or m) * 2) % (m + 1)
    return ALPHABET[(m + 1 - p) % m]


@dataclass(frozen=True)
class CertificateId:
    type_code: str
    issuer_code: str
    serial: str
    version: int

    @property
    def base(self) -> str:
        """The identifier without version and check: the same across versions."""
        return f"{PREFIX}.{self.type_code}.{self.issuer_code}.{self.serial}"

    def __str__(self) -> str:
        v = f"{self.version:03d}"
        check = mod37_36(self.type_code + self.issuer_code + self.serial + v)
        return f"{self.base}.{v}.{check}"

    def next_version(self) -> "CertificateId":
        return CertificateId(self.type_code, self.issuer_code, self.serial, self.version + 1)


def valid_serial(serial: str) -> bool:
    return bool(_SERIAL.match(serial))


def parse_certificate_id(text: str) -> CertificateId:
    m = _ID.match(text.strip())
    if not m:
        raise ValueError("不是有效的电子证照标识")
    cid = CertificateId(m["type"], m["issuer"], m["serial"], int(m["version"]))
    if str(cid) != text.strip():
        raise ValueError("电子证照标识校验位不正确")
    return cid
