"""证照目录: certificate types, their field schemas (JSON Schema) and display rules.

Loaded from ``config/catalog/certificate_types.json`` at start-up and validated: a bad
schema stops start-up with a message naming the type.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from identity.items import ItemCatalog
from identity.uscc import InvalidUscc, parse_uscc
from server.config import ConfigError
from server.errors import FieldError
from server.schema_errors import schema_errors, schema_validator

CATALOG_FILE = "config/catalog/certificate_types.json"

@dataclass(frozen=True)
class CertificateType:
    code: str
    name: str
    holder_kind: str  # person / enterprise
    defined_by: str
    issuing_department: str
    holder_field: str  # the field that names the holder (ID number or USCC)
    schema: dict[str, Any]
    display: dict[str, Any]
    validity: dict[str, Any]
    short_id: int
    validator: Draft202012Validator = field(repr=False, compare=False, hash=False, default=None)  # type: ignore

    @property
    def sensitive(self) -> frozenset[str]:
        return frozenset(k for k, v in self.schema["properties"].items() if v.get("x-sensitive"))

    def label(self, field_name: str) -> str:
        return self.schema["properties"].get(field_name, {}).get("title", field_name)

    def field_errors(self, fields: dict[str, Any]) -> list[FieldError]:
        return schema_errors(self.validator, fields, "fields")

    def public_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "holder_kind": self.holder_kind, "defined_by": self.defined_by,
                "issuing_department": self.issuing_department, "schema": self.schema, "display": self.display,
                "validity": self.validity, "sensitive_fields": sorted(self.sensitive)}


class Catalog:
    def __init__(self, types: list[CertificateType]):
        self.types = {t.code: t for t in types}

    def get(self, code: str) -> CertificateType | None:
        return self.types.get(code)

    def all(self) -> list[CertificateType]:
        return sorted(self.types.values(), key=lambda t: t.short_id)

    def register_items(self, items: ItemCatalog) -> None:
        for t in self.types.values():
            items.add_certificate_type(t.code, t.short_id, t.name)


def load_catalog(path: Path) -> Catalog:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))["types"]
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError("catalog", f"cannot read {path}: {e}") from None
    types, seen, short_ids = [], set(), set()
    for entry in raw:
        code = entry.get("code", "?")
        where = f"certificate type {code}"
        try:
            if len(code) != 21 or not code[18:].isdigit():
                raise ValueError("type code must be an 18-character USCC + 3 digits")
            parse_uscc(code[:18])
            if code in seen or entry["short_id"] in short_ids:
                raise ValueError("declared twice")
            seen.add(code)
            short_ids.add(entry["short_id"])
            if entry["holder_kind"] not in ("person", "enterprise"):
                raise ValueError("holder_kind must be person or enterprise")
            Draft202012Validator.check_schema(entry["schema"])
            if entry["holder_field"] not in entry["schema"]["properties"]:
                raise ValueError(f"holder_field {entry['holder_field']} is not a field")
            for f in entry["display"].get("summary", []):
                if f not in entry["schema"]["properties"]:
                    raise ValueError(f"display field {f} is not a field")
            t = CertificateType(
                code=code, name=entry["name"], holder_kind=entry["holder_kind"], defined_by=entry["defined_by"],
                issuing_department=entry["issuing_department"], holder_field=entry["holder_field"],
                schema=entry["schema"], display=entry["display"], validity=entry["validity"],
                short_id=int(entry["short_id"]),
                validator=schema_validator(entry["schema"]),
            )
        except (KeyError, TypeError, ValueError, InvalidUscc, SchemaError) as e:
            raise ConfigError("catalog", f"{where} in {path.name}: {e}") from None
        types.append(t)
    if len(types) < 1:
        raise ConfigError("catalog", f"{path.name} declares no certificate types")
    return Catalog(types)
