"""居民身份证号码 (GB 11643-1999) and the documents that share its format.

18 characters: 6-digit region code (GB/T 2260), 8-digit birth date, 3-digit sequence
(odd = male, even = female), ISO 7064 MOD 11-2 check character (0-9 or X).

Also accepted, with the same check character:
* 港澳台居民居住证: region 810000 (Hong Kong), 820000 (Macao), 830000 (Taiwan);
* 外国人永久居留身份证 (2023): ``9`` + 2-digit province code of the issuing place +
  3-digit nationality code (GB/T 2659 numeric) + birth date + 3-digit sequence + check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from server.masking import mask_id_number

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
}
_PERMIT_REGIONS = {"810000": "港澳台居民居住证（香港）", "820000": "港澳台居民居住证（澳门）",
                   "830000": "港澳台居民居住证（台湾）"}
EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidIdNumber(ValueError):
    """``reason`` is a stable code; ``str()`` is a Chinese message for the person."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class IdNumber:
    value: str
    document: str  # 居民身份证 / 港澳台居民居住证（…） / 外国人永久居留身份证
    region_code: str
    birth_date: date
    gender: str  # 男 / 女

    @property
    def masked(self) -> str:
        return mask_id_number(self.value)

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


@lru_cache(maxsize=1)
def region_codes() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "region_codes.tsv"
    codes = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            codes.add(line.split("\t", 1)[0])
    return frozenset(codes)


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def normalize(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def parse_id_number(value: str, today: date | None = None) -> IdNumber:
    """Validate fully and return the parsed number, or raise :class:`InvalidIdNumber`."""
    v = normalize(value)
    if len(v) != 18 or not _SHAPE.match(v):
        raise InvalidIdNumber("format", "证件号码应为 18 位，由数字和末位的数字或 X 组成")
    if check_char(v[:17]) != v[17]:
        raise InvalidIdNumber("check_character", "证件号码校验位不正确，请核对后重新输入")
    region = v[:6]
    if v[0] == "9":
        if v[1:3] not in _PROVINCES:
            raise InvalidIdNumber("region", "永久居留身份证的受理地代码不正确")
        document = "外国人永久居留身份证"
    elif region in _PERMIT_REGIONS:
        document = "港澳台居民居住证"
    elif region in region_codes() and not region.endswith("0000"):
        document = "居民身份证"
    else:
        raise InvalidIdNumber("region", "证件号码前 6 位（地址码）不是有效的行政区划代码")
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth_date", "证件号码中的出生日期不是有效日期") from None
    if born > (today or date.today()) or born < EARLIEST_BIRTH:
        raise InvalidIdNumber("birth_date", "证件号码中的出生日期不合理")
    gender = "男" if int(v[16]) % 2 == 1 else "女"
    return IdNumber(v, document, region, born, gender)
