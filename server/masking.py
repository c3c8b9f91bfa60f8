"""Masking of personal data in responses: ``张*``, ``4401**********1234``, ``138****0000``."""
from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first character only: 张三 -> 张*, 欧阳振华 -> 欧***."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id_number(value: str) -> str:
    """First 4 and last 4 characters: 4401**********1234."""
    v = value.strip().upper()
    if len(v) <= 8:
        return "*" * len(v)
    return v[:4] + "*" * (len(v) - 8) + v[-4:]


def mask_phone(phone: str) -> str:
    """138****0000."""
    p = phone.strip()
    if len(p) != 11:
        return "*" * len(p)
    return p[:3] + "****" + p[-4:]
