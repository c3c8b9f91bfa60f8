"""Items a kiosk or window may ask a holder to disclose, and their compact ids (used
in the pre-authorised scope a service code may carry).

Identity fields are fixed here; certificate types (``certificate:<type code>``) are
registered by the wallet's catalog with ids from 0x1000 up.
"""
from __future__ import annotations

import fnmatch

IDENTITY_ITEMS = {
    "identity:name": (0x0001, "姓名"),
    "identity:id_number": (0x0002, "证件号码"),
    "identity:phone": (0x0003, "手机号码"),
    "identity:gender": (0x0004, "性别"),
    "identity:birth_date": (0x0005, "出生日期"),
    "identity:document": (0x0006, "证件类型"),
}
ENTERPRISE_ITEMS = {
    "enterprise:name": (0x0101, "企业名称"),
    "enterprise:uscc": (0x0102, "统一社会信用代码"),
    "enterprise:type": (0x0103, "企业类型"),
    "enterprise:address": (0x0104, "住所"),
    "enterprise:legal_representative": (0x0105, "法定代表人"),
}
CERTIFICATE_BASE = 0x1000


class ItemCatalog:
    """Item name <-> id <-> label, extended at start-up with certificate types."""

    def __init__(self) -> None:
        self._by_name: dict[str, tuple[int, str]] = {**IDENTITY_ITEMS, **ENTERPRISE_ITEMS}

    def add_certificate_type(self, type_code: str, ordinal: int, label: str) -> None:
        self._by_name[f"certificate:{type_code}"] = (CERTIFICATE_BASE + ordinal, label)

    def names(self, subject_type: str | None = None) -> list[str]:
        """Every item (or those that apply to a person's or an enterprise's code)."""
        return [n for n in self._by_name if subject_type is None or self.applies_to(n, subject_type)]

    def known(self, name: str) -> bool:
        return name in self._by_name

    def id_of(self, name: str) -> int:
        return self._by_name[name][0]

    def label(self, name: str) -> str:
        return self._by_name[name][1]

    def name_of(self, item_id: int) -> str | None:
        return next((n for n, (i, _) in self._by_name.items() if i == item_id), None)

    def applies_to(self, name: str, subject_type: str) -> bool:
        kind = name.split(":", 1)[0]
        if kind == "certificate":
            return True
        return kind == ("identity" if subject_type == "person" else "enterprise")


def allowed(name: str, patterns: list[str]) -> bool:
    """Whether a device's allowed item patterns (e.g. ``identity:*``) cover ``name``."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)
