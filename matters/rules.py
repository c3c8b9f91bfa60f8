"""秒批 rules: a small JsonLogic subset over the form and verified facts.

A rule is JSON, e.g. ``{">=": [{"var": "identity.age"}, 18]}``. Supported operators:
``== != < <= > >= and or ! in var if + - * / missing``. Facts a rule may name:

* ``form.<field>``: a field of the matter's form;
* ``identity.level``, ``identity.age`` (from the verified ID number), ``identity.gender``,
  ``identity.name``, ``identity.id_number``;
* ``certificate.<type code>``: true when the wallet holds a valid certificate of that type;
* ``certificate.<type code>.<field>``: a field of it.

Rules are validated when the catalog loads: an unknown operator or an unknown fact stops
loading with a message naming the matter and the rule.
"""
from __future__ import annotations

from typing import Any, Callable

from card_wallet.catalog import Catalog

IDENTITY_FACTS = {"identity.level", "identity.age", "identity.gender", "identity.name", "identity.id_number"}


class RuleError(ValueError):
    pass


def _num(x: Any) -> float:
    if isinstance(x, bool) or x is None:
        raise TypeError("not a number")
    return float(x)


def _cmp(fn: Callable[[float, float], bool]) -> Callable[..., bool]:
    def op(*args: Any) -> bool:
        try:
            nums = [_num(a) for a in args]
        except (TypeError, ValueError):
            return False
        return all(fn(a, b) for a, b in zip(nums, nums[1:]))
    return op


OPERATORS: dict[str, Callable[..., Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": _cmp(lambda a, b: a < b),
    "<=": _cmp(lambda a, b: a <= b),
    ">": _cmp(lambda a, b: a > b),
    ">=": _cmp(lambda a, b: a >= b),
    "!": lambda a: not a,
    "in": lambda a, b: a in b if isinstance(b, (list, str)) else False,
    "+": lambda *a: sum(_num(x) for x in a),
    "-": lambda a, b=None: -_num(a) if b is None else _num(a) - _num(b),
    "*": lambda a, b: _num(a) * _num(b),
    "/": lambda a, b: _num(a) / _num(b) if _num(b) else 0.0,
}
SPECIAL = {"and", "or", "if", "var", "missing"}


def facts_of(rule: Any) -> set[str]:
    """Every fact a rule names (``var`` and ``missing`` arguments)."""
    out: set[str] = set()
    if isinstance(rule, dict) and len(rule) == 1:
        (op, args), = rule.items()
        args = args if isinstance(args, list) else [args]
        if op in ("var", "missing"):
            out.update(a for a in args if isinstance(a, str))
        else:
            for a in args:
                out |= facts_of(a)
    elif isinstance(rule, list):
        for a in rule:
            out |= facts_of(a)
    return out


def check_shape(node: Any) -> None:
    """The rule is made of known operators and plain values (RuleError names what is not)."""
    if isinstance(node, dict):
        if len(node) != 1:
            raise RuleError(f"an operation must have exactly one operator: {node}")
        (op, args), = node.items()
        if op not in OPERATORS and op not in SPECIAL:
            raise RuleError(f"unknown operator {op!r}")
        for a in (args if isinstance(args, list) else [args]):
            check_shape(a)
    elif isinstance(node, list):
        for a in node:
            check_shape(a)
    elif not isinstance(node, (str, int, float, bool)) and node is not None:
        raise RuleError(f"unsupported value {node!r}")


def validate_rule(rule: Any, form_fields: set[str], certificates: Catalog) -> None:
    check_shape(rule)
    for fact in facts_of(rule):
        if fact in IDENTITY_FACTS:
            continue
        if fact.startswith("form.") and fact[5:] in form_fields:
            continue
        if fact.startswith("certificate."):
            type_code, _, field = fact[len("certificate."):].partition(".")
            ctype = certificates.get(type_code)
            if ctype is not None and (not field or field in ctype.schema["properties"]):
                continue
        raise RuleError(f"unknown fact {fact!r}")


def evaluate(rule: Any, data: dict[str, Any]) -> Any:
    if isinstance(rule, list):
        return [evaluate(r, data) for r in rule]
    if not isinstance(rule, dict):
        return rule
    (op, args), = rule.items()
    args = args if isinstance(args, list) else [args]
    if op == "var":
        name = args[0]
        return data.get(name, args[1] if len(args) > 1 else None)
    if op == "missing":
        return [a for a in args if data.get(a) in (None, "")]
    if op == "and":
        value: Any = True
        for a in args:
            value = evaluate(a, data)
            if not value:
                return value
        return value
    if op == "or":
        value = False
        for a in args:
            value = evaluate(a, data)
            if value:
                return value
        return value
    if op == "if":
        for cond, then in zip(args[0::2], args[1::2]):
            if evaluate(cond, data):
                return evaluate(then, data)
        return evaluate(args[-1], data) if len(args) % 2 else None
    try:
        return OPERATORS[op](*[evaluate(a, data) for a in args])
    except (TypeError, ValueError):
        return False
