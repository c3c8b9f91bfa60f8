"""JSON Schema validation errors -> per-field Chinese messages (certificate fields, forms)."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from server.errors import FieldError

_MESSAGES = {
    "required": "必填项缺失",
    "type": "类型不正确",
    "pattern": "格式不正确",
    "format": "格式不正确",
    "maxLength": "内容过长",
    "minLength": "内容过短",
    "enum": "取值不在允许范围内",
    "minimum": "数值过小",
    "maximum": "数值过大",
    "additionalProperties": "不允许的字段",
}


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(validator: Draft202012Validator, data: Any, prefix: str) -> list[FieldError]:
    """One error per problem, named ``<prefix>.<field>``, with the field's title in the message."""
    props = validator.schema.get("properties", {})

    def label(name: str) -> str:
        return props.get(name, {}).get("title", name)

    out = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            out.append(FieldError(f"{prefix}.{missing}", f"{label(missing)}：{_MESSAGES['required']}"))
        elif err.validator == "additionalProperties" and isinstance(data, dict):
            out.extend(FieldError(f"{prefix}.{p}", _MESSAGES["additionalProperties"]) for p in data if p not in props)
        else:
            path = ".".join(str(p) for p in err.path)
            where = f"{prefix}.{path}" if path else prefix
            out.append(FieldError(where, f"{label(path)}{_MESSAGES.get(err.validator, '不符合要求')}"))
    return out
