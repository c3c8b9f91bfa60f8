"""统一社会信用代码 (GB 32100-2015).

18 characters over the 31-symbol alphabet ``0-9 A-H J-N P-R T U W-Y`` (no I, O, Z, S, V):

* 1: registration authority (1 机构编制, 5 民政, 9 工商/市场监管, Y 其他, …)
* 2: organisation type within that authority (e.g. 91 企业, 92 个体工商户, 11 机关)
* 3-8: administrative division code (GB/T 2260; 100000 for national bodies)
* 9-17: organisation code (GB 11714): 8 characters + its own MOD 11 check character
* 18: check character, MOD 31 over the first 17 with weights 3^i mod 31
"""
from __future__ import annotations

from dataclasses import dataclass

from identity.idnumber import region_codes

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
AUTHORITIES = set("123456789ANY")
NATIONAL_REGION = "100000"


class InvalidUscc(ValueError):
    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Uscc:
    value: str
    authority: str
    org_type: str
    region_code: str
    organisation_code: str

    @property
    def is_individual_business(self) -> bool:
        return self.value[:2] == "92"


def check_char(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    def value(c: str) -> int:
        return int(c) if c.isdigit() else ord(c) - 55  # A=10 … Z=35

    c = 11 - sum(value(ch) * w for ch, w in zip(body8, ORG_WEIGHTS)) % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def normalize(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def parse_uscc(value: str) -> Uscc:
    v = normalize(value)
    if len(v) != 18 or any(c not in VALUES for c in v):
        raise InvalidUscc("format", "统一社会信用代码应为 18 位，由数字和大写字母组成（不含 I、O、Z、S、V）")
    if check_char(v[:17]) != v[17]:
        raise InvalidUscc("check_character", "统一社会信用代码校验位不正确，请核对后重新输入")
    if v[0] not in AUTHORITIES:
        raise InvalidUscc("authority", "统一社会信用代码第 1 位（登记管理部门代码）不正确")
    region = v[2:8]
    if region != NATIONAL_REGION and region not in region_codes():
        raise InvalidUscc("region", "统一社会信用代码第 3-8 位（行政区划代码）不正确")
    if organisation_check(v[8:16]) != v[16]:
        raise InvalidUscc("organisation_code", "统一社会信用代码中的组织机构代码校验位不正确")
    return Uscc(v, v[0], v[1], region, v[8:17])
