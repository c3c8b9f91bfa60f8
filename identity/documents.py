"""Identity documents for real-name verification: the resident ID card and the documents of
people from Hong Kong, Macao, Taiwan and abroad.

=========================  ==========================================  ====================================
``id_type``                document                                    number
=========================  ==========================================  ====================================
``resident_id``            居民身份证 (also accepts the two 18-digit    GB 11643 (:mod:`identity.idnumber`)
                           cards below, as it always did)
``hk_macao_permit``        港澳居民来往内地通行证（回乡证）                H or M + 8 digits (10 in the old format)
``taiwan_permit``          台湾居民来往大陆通行证（台胞证）                8 digits (10 in the old format)
``residence_permit_hmt``   港澳台居民居住证                              18 digits, region 810000/820000/830000
``foreign_permanent_id``   外国人永久居留身份证                          18 digits starting with 9
``passport``               外国护照 + 签证或居留许可                      5-20 letters and digits, nationality
                                                                       (ISO 3166 alpha-3), visa number
=========================  ==========================================  ====================================

A document is keyed (its blind index, one account per document) by its number, as ID numbers
always were: the formats of the Chinese documents cannot overlap, and a passport number that
happens to equal another document's number is refused as already bound (409), never merged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from identity.idnumber import InvalidIdNumber, normalize, parse_id_number

IdType = Literal["resident_id", "hk_macao_permit", "taiwan_permit", "residence_permit_hmt", "foreign_permanent_id",
                 "passport"]
ID_TYPES: tuple[IdType, ...] = ("resident_id", "hk_macao_permit", "taiwan_permit", "residence_permit_hmt",
                                "foreign_permanent_id", "passport")
DOCUMENT_NAMES: dict[str, str] = {
    "resident_id": "居民身份证",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "residence_permit_hmt": "港澳台居民居住证",
    "foreign_permanent_id": "外国人永久居留身份证",
    "passport": "外国护照",
}
_BY_DOCUMENT = {"居民身份证": "resident_id", "港澳台居民居住证": "residence_permit_hmt",
                "外国人永久居留身份证": "foreign_permanent_id"}
_HK_MACAO = re.compile(r"^[HM]([0-9]{8}|[0-9]{10})$")
_TAIWAN = re.compile(r"^([0-9]{8}|[0-9]{10})$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_VISA = re.compile(r"^[A-Z0-9]{5,20}$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_PERMIT_REGIONS = {"810000": "HKG", "820000": "MAC", "830000": "TWN"}
# Chinese nationals do not verify with a foreign passport; people of Hong Kong, Macao and
# Taiwan use their 通行证 or 居住证.
_NOT_FOREIGN = {"CHN": "中国公民请选择居民身份证", "HKG": "香港居民请选择港澳居民来往内地通行证或港澳台居民居住证",
                "MAC": "澳门居民请选择港澳居民来往内地通行证或港澳台居民居住证",
                "TWN": "台湾居民请选择台湾居民来往大陆通行证或港澳台居民居住证"}


class InvalidDocument(ValueError):
    """``field`` is the request field at fault, ``reason`` a stable code, ``str()`` Chinese."""

    def __init__(self, field: str, reason: str, message: str):
        self.field = field
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Country:
    alpha3: str
    numeric: str
    alpha2: str
    name: str  # 中文名


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    """ISO 3166-1 (GB/T 2659) by alpha-3."""
    out = {}
    for line in (Path(__file__).with_name("data") / "countries.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            alpha3, numeric, alpha2, name, _ = line.split("\t")
            out[alpha3] = Country(alpha3, numeric, alpha2, name)
    return out


@lru_cache(maxsize=1)
def _by_numeric() -> dict[str, Country]:
    return {c.numeric: c for c in countries().values()}


def country_name(alpha3: str | None) -> str | None:
    c = countries().get(alpha3 or "")
    return c.name if c else None


@dataclass(frozen=True)
class Document:
    id_type: IdType
    number: str  # normalised: upper case, no spaces
    document: str  # 中文名 of the document
    nationality: str | None  # ISO 3166 alpha-3 of the nationality or region (CHN, HKG, MAC, TWN, USA…)
    gender: str | None = None  # 男 / 女, where the number says it
    birth_date: date | None = None
    visa_number: str | None = None  # passports only; checked, not kept

    @property
    def masked(self) -> str:
        return mask_document(self.number)


def mask_document(number: str) -> str:
    """4401**********1234 for 18-character numbers; first 2 and last 2 of a shorter one
    (H1*****78): at most half of a short number shows."""
    v = number.strip().upper()
    if len(v) >= 15:
        return v[:4] + "*" * (len(v) - 8) + v[-4:]
    if len(v) <= 4:
        return "*" * len(v)
    keep = 1 if len(v) < 8 else 2
    return v[:keep] + "*" * (len(v) - 2 * keep) + v[-keep:]


def type_of(realname: dict) -> str:
    """The ``id_type`` of a stored real name (records from before document types: by document)."""
    return realname.get("id_type") or _BY_DOCUMENT.get(realname.get("document", ""), "resident_id")


def parse_document(id_type: str, number: str, nationality: str | None = None,
                   visa_number: str | None = None, today: date | None = None) -> Document:
    """Validate a document by its format; raise :class:`InvalidDocument` naming the field."""
    v = normalize(number)
    if id_type in ("resident_id", "residence_permit_hmt", "foreign_permanent_id"):
        return _eighteen(id_type, v, today)
    if id_type == "hk_macao_permit":
        if not _HK_MACAO.match(v):
            raise InvalidDocument("id_number", "format", "港澳居民来往内地通行证号码应为 H（香港）或 M（澳门）加 8 位数字"
                                                         "（旧版为 10 位数字）")
        return Document("hk_macao_permit", v, DOCUMENT_NAMES[id_type], "HKG" if v[0] == "H" else "MAC")
    if id_type == "taiwan_permit":
        if not _TAIWAN.match(v):
            raise InvalidDocument("id_number", "format", "台湾居民来往大陆通行证号码应为 8 位数字（旧版为 10 位数字）")
        return Document("taiwan_permit", v, DOCUMENT_NAMES[id_type], "TWN")
    if id_type == "passport":
        return _passport(v, nationality, visa_number)
    raise InvalidDocument("id_type", "id_type", "证件类型不正确")


def _eighteen(id_type: IdType, v: str, today: date | None) -> Document:
    try:
        parsed = parse_id_number(v, today)
    except InvalidIdNumber as e:
        raise InvalidDocument("id_number", e.reason, str(e)) from None
    nationality: str | None = "CHN"
    if parsed.document == "港澳台居民居住证":
        nationality = _PERMIT_REGIONS[parsed.region_code]
    elif parsed.document == "外国人永久居留身份证":
        country = _by_numeric().get(v[3:6])
        nationality = country.alpha3 if country else None
    if id_type == "residence_permit_hmt" and parsed.document != "港澳台居民居住证":
        raise InvalidDocument("id_number", "region", "港澳台居民居住证号码应以 810000（香港）、820000（澳门）"
                                                     "或 830000（台湾）开头")
    if id_type == "foreign_permanent_id":
        if parsed.document != "外国人永久居留身份证":
            raise InvalidDocument("id_number", "format", "外国人永久居留身份证号码应为以 9 开头的 18 位号码")
        if nationality is None:
            raise InvalidDocument("id_number", "nationality", "永久居留身份证号码中的国籍代码不正确")
    kind = _BY_DOCUMENT[parsed.document]
    return Document(kind, parsed.value, parsed.document, nationality,  # type: ignore[arg-type]
                    parsed.gender, parsed.birth_date)


def _passport(v: str, nationality: str | None, visa_number: str | None) -> Document:
    if not _PASSPORT.match(v):
        raise InvalidDocument("id_number", "format", "护照号码应为 5-20 位字母或数字")
    nat = (nationality or "").strip().upper()
    if not nat:
        raise InvalidDocument("nationality", "missing", "请选择护照的签发国家（国籍）")
    if not _ALPHA3.match(nat) or nat not in countries():
        raise InvalidDocument("nationality", "unknown", "国籍应为 ISO 3166 三位字母代码，如 USA、GBR、JPN")
    if nat in _NOT_FOREIGN:
        raise InvalidDocument("nationality", "not_foreign", _NOT_FOREIGN[nat])
    visa = normalize(visa_number or "")
    if not visa:
        raise InvalidDocument("visa_number", "missing", "请填写中国签证或居留许可号码")
    if not _VISA.match(visa):
        raise InvalidDocument("visa_number", "format", "签证号码应为 5-20 位字母或数字")
    return Document("passport", v, DOCUMENT_NAMES["passport"], nat, visa_number=visa)
