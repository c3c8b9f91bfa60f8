"""Mobile phone numbers: mainland China and the rest of the world.

* Mainland numbers keep the form they always had: 11 digits, ``1[3-9]…`` (``+86`` in front is
  accepted and dropped), so existing accounts, their blind indexes and bindings stay as they are.
* Every other number is E.164 (``+852…``, ``+853…``, ``+886…``, ``+1…``), checked with the
  ``phonenumbers`` library (Google's libphonenumber metadata): it must be a possible, valid
  number of its country, and one that can be a mobile (no fixed lines: a code goes by SMS).

The region decides the SMS wording and budget: ``mainland``; ``hmt`` (Hong Kong, Macao, Taiwan:
traditional characters); ``international`` (English).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from server.masking import mask_phone
from server.providers.sms import SmsRegion, sms_region

MAINLAND = re.compile(r"^1[3-9][0-9]{9}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# What the API's schema states (the service also checks the number with phonenumbers).
PATTERN = r"^(1[3-9][0-9]{9}|\+[1-9][0-9]{6,14})$"
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhone(ValueError):
    """``reason`` is a stable code; ``str()`` is a Chinese message for the person."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Phone:
    value: str  # stored and keyed form: 11 digits (mainland) or E.164
    country: str  # ISO 3166 alpha-2 of the number: CN, HK, MO, TW, US, …

    @property
    def region(self) -> SmsRegion:
        return sms_region(self.value)

    @property
    def masked(self) -> str:
        return mask_any_phone(self.value)


def normalize(raw: str) -> str:
    """The stored form of what was typed, without judging it (a lookup key: the dev outbox)."""
    p = raw.strip()
    if p.startswith("+86") and MAINLAND.match(p[3:]):
        return p[3:]
    return p


def parse_phone(raw: str) -> Phone:
    """Validate a mobile number and return it in its stored form, or raise :class:`InvalidPhone`."""
    p = normalize(raw)
    if MAINLAND.match(p):
        return Phone(p, "CN")
    if not _E164.match(p):
        if p.isdigit():
            raise InvalidPhone("format", "中国大陆手机号码应为 11 位数字；港澳台及境外号码请以 + 和国家或地区代码开头，如 +852")
        raise InvalidPhone("format", "手机号码只能包含数字，境外号码以 + 和国家或地区代码开头，如 +85291234567")
    if p.startswith("+86"):
        raise InvalidPhone("format", "中国大陆手机号码应为 +86 后 11 位数字，以 1 开头")
    try:
        number = phonenumbers.parse(p, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("country_code", "无法识别该号码的国家或地区代码") from None
    country = phonenumbers.region_code_for_number(number)
    if not country or country == "001":
        raise InvalidPhone("country_code", "无法识别该号码的国家或地区代码")
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid", "该号码不是有效的手机号码，请核对号码位数")
    if phonenumbers.number_type(number) not in _MOBILE:
        raise InvalidPhone("not_mobile", "请填写可以接收短信的手机号码（不能是固定电话）")
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), country)


def mask_any_phone(phone: str) -> str:
    """138****0000 for mainland numbers; +852****4567 (country code and last 4) otherwise."""
    if not phone.startswith("+"):
        return mask_phone(phone)
    try:
        code = str(phonenumbers.parse(phone, None).country_code)
    except phonenumbers.NumberParseException:
        return "*" * len(phone)
    rest = phone[1 + len(code):]
    if len(rest) <= 4:
        return "+" + code + "*" * len(rest)
    return f"+{code}{'*' * (len(rest) - 4)}{rest[-4:]}"
