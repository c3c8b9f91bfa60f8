"""OpenAPI 3.1 document generated from the registered routes and their Pydantic models."""
from __future__ import annotations

import re
from typing import Any, Iterable

import tornado.web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from tornado.web import URLSpec

from server.http.routing import Operation
from server.models import MAX_SAFE_INT

# What every request string must look like (server.models refuses the rest): no C0 control
# characters but tab and line breaks, no DEL or C1 controls, no bidi embeddings, overrides or
# isolates. ECMA-262 syntax, as JSON Schema has it.
SAFE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$"
SAFE_JSON = "SafeJsonValue"
_SAFE_JSON_SCHEMA: dict[str, Any] = {
    "description": "任意 JSON 值：整数绝对值不超过 2^53-1，字符串不含控制字符或文字方向控制符",
    "anyOf": [
        {"type": "string", "pattern": SAFE_TEXT},
        {"type": "integer", "minimum": -MAX_SAFE_INT, "maximum": MAX_SAFE_INT},
        {"type": "number"}, {"type": "boolean"}, {"type": "null"},
        {"type": "array", "items": {"$ref": f"#/components/schemas/{SAFE_JSON}"}},
        {"type": "object", "propertyNames": {"pattern": SAFE_TEXT},
         "additionalProperties": {"$ref": f"#/components/schemas/{SAFE_JSON}"}},
    ],
}
_FREE = ({}, True)


def harden(schema: Any, enums: dict[str, list[str]]) -> Any:
    """State in a schema what the server refuses anyway: strings with control characters,
    integers beyond JSON's safe range, and, in free-form objects, both at any depth. A field
    marked ``x-enum`` gets the values known at run time (e.g. consent items)."""
    if isinstance(schema, list):
        return [harden(s, enums) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k in ("enum", "const", "examples", "default")
           else {name: harden(s, enums) for name, s in v.items()} if k == "properties" and isinstance(v, dict)
           else harden(v, enums) for k, v in schema.items()}  # "properties" maps names to schemas (may be empty)
    if "x-enum" in out and out["x-enum"] in enums:
        out["enum"] = sorted(enums[out.pop("x-enum")])
    kind = out.get("type")
    if kind == "string" and not ({"pattern", "enum", "const", "format"} & set(out)):
        out["pattern"] = SAFE_TEXT
    elif kind == "integer":
        out.setdefault("minimum", -MAX_SAFE_INT)
        out.setdefault("maximum", MAX_SAFE_INT)
    elif kind == "object":
        if out.get("additionalProperties", True) in _FREE and "properties" not in out:
            out["additionalProperties"] = {"$ref": f"#/components/schemas/{SAFE_JSON}"}
            out["propertyNames"] = {"pattern": SAFE_TEXT}
        elif isinstance(out.get("additionalProperties"), dict) and "propertyNames" not in out:
            out["propertyNames"] = {"pattern": SAFE_TEXT}
    elif schema == {} or set(out) <= {"title", "description"}:
        out["$ref"] = f"#/components/schemas/{SAFE_JSON}"
    return out

METHODS = ("get", "post", "put", "patch", "delete")
_GROUP = re.compile(r"\(\?P<(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")
_LOOKAHEAD = re.compile(r"\(\?!(?:[^()\\]|\\.)*\)")


class ProblemField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """application/problem+json (RFC 9457)."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[ProblemField]
    request_id: str | None = None


def path_template(pattern: str) -> tuple[str, list[str]]:
    """``/a/(?P<id>[^/]+)/b$`` -> (``/a/{id}/b``, ``["id"]``)."""
    template, params = path_parameters(pattern)
    return template, list(params)


def path_parameters(pattern: str) -> tuple[str, dict[str, str]]:
    """The path template and each parameter's own pattern (what the route accepts)."""
    p = _LOOKAHEAD.sub("", pattern.lstrip("^").rstrip("$"))
    out, params, i = [], {}, 0
    while i < len(p):
        m = _GROUP.match(p, i)
        if m:
            depth, j = 1, m.end()
            while j < len(p) and depth:
                if p[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(p[j], 0)
                j += 1
            params[m["name"]] = "^" + p[m.end():j - 1] + "$"
            out.append("{" + m["name"] + "}")
            i = j
        else:
            out.append(p[i])
            i += 1
    return "".join(out).replace("\\", ""), params


def _reachable(roots: list[Any], schemas: dict[str, Any]) -> set[str]:
    """Names of the component schemas these schemas refer to, directly or not."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref_ = node.get("$ref")
            if isinstance(ref_, str) and ref_.startswith("#/components/schemas/"):
                name = ref_.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    stack.append(schemas.get(name))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def _inline(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema with its local ``$ref`` (e.g. an enum) resolved."""
    if "$ref" in schema:
        return defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in schema:
        return {**schema, "anyOf": [_inline(s, defs) for s in schema["anyOf"]]}
    if "items" in schema:
        return {**schema, "items": _inline(schema["items"], defs)}
    return schema


def handler_operations(handler: type) -> dict[str, Operation | None]:
    """Methods a handler class implements (excluding the CORS pre-flight) -> operation."""
    ops: dict[str, Operation | None] = {}
    for m in METHODS:
        fn = getattr(handler, m, None)
        if fn is None or fn is getattr(tornado.web.RequestHandler, m):
            continue
        ops[m] = getattr(fn, "__operation__", None)
    return ops


def build_openapi(routes: Iterable[URLSpec], *, title: str, version: str,
                  enums: dict[str, list[str]] | None = None) -> dict[str, Any]:
    routes = list(routes)
    models: list[tuple[type[BaseModel], str]] = [(Problem, "serialization")]
    for spec in routes:
        for op in handler_operations(spec.handler_class).values():
            if op is None:
                continue
            for model, mode in ((op.body, "validation"), (op.query, "validation"), (op.response, "serialization")):
                if model is not None and (model, mode) not in models:
                    models.append((model, mode))
    refs, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    enums = enums or {}
    schemas = defs.get("$defs", {})
    # What requests may carry is stated exactly; what responses carry is left as generated.
    requests = _reachable([refs[key] for key in refs if key[1] == "validation"], schemas)
    schemas = {name: harden(schema, enums) if name in requests else schema for name, schema in schemas.items()}
    schemas[SAFE_JSON] = _SAFE_JSON_SCHEMA

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return refs[(model, mode)]

    problem_ref = ref(Problem, "serialization")
    paths: dict[str, Any] = {}
    used_ids: dict[str, int] = {}
    for spec in routes:
        template, params = path_parameters(spec.regex.pattern)
        item: dict[str, Any] = {}
        for method, op in handler_operations(spec.handler_class).items():
            doc = (getattr(spec.handler_class, method).__doc__ or "").strip()
            op = op or Operation(summary=doc.splitlines()[0] if doc else f"{method.upper()} {template}")
            op_id = f"{spec.handler_class.__name__}.{method}"
            used_ids[op_id] = used_ids.get(op_id, 0) + 1
            if used_ids[op_id] > 1:  # one handler serving several routes
                op_id += f"_{used_ids[op_id]}"
            entry: dict[str, Any] = {
                "operationId": op_id,
                "summary": op.summary,
                "tags": list(op.tags) or ["misc"],
                "parameters": [
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": rx}}
                    for n, rx in params.items()
                ],
                "responses": {},
            }
            if op.description:
                entry["description"] = op.description
            if op.query is not None:
                qschema = op.query.model_json_schema()
                required = set(qschema.get("required", []))
                qdefs = qschema.get("$defs", {})
                for name, prop in qschema.get("properties", {}).items():
                    entry["parameters"].append(
                        {"name": name, "in": "query", "required": name in required,
                         "schema": harden(_inline(prop, qdefs), enums)}
                    )
            for header, spec_ in op.headers.items():
                entry["parameters"].append(
                    {"name": header, "in": "header", "required": spec_.required, "description": spec_.description,
                     "schema": spec_.schema()}
                )
            if op.body is not None:
                entry["requestBody"] = {
                    # a body whose every field is optional may be left out
                    "required": any(f.is_required() for f in op.body.model_fields.values()),
                    "content": {"application/json": {"schema": ref(op.body, "validation")}},
                }
            success: dict[str, Any] = {"description": "成功" if op.status != 204 else "成功（无内容）"}
            if op.response is not None:
                success["content"] = {"application/json": {"schema": ref(op.response, "serialization")}}
            elif op.content_type:
                success["content"] = {op.content_type: {"schema": {"type": "string", "format": "binary"}}}
            entry["responses"][str(op.status)] = success
            if op.status == 201 and "Idempotency-Key" in op.headers:
                entry["responses"]["200"] = {**success, "description": "重试：同一 Idempotency-Key 与同一内容，返回第一次的结果"}
            for status in sorted(set(op.errors) | ({400} if op.body or op.query else set())):
                entry["responses"][str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
            entry["responses"]["default"] = {"$ref": "#/components/responses/Problem"}
            if op.auth is not None:
                entry["security"] = [{"bearerAuth": []}]
                entry["x-channels"] = sorted(op.auth)
                if op.min_level:
                    entry["x-min-level"] = op.min_level
            item[method] = entry
        if item:
            paths[template] = item

    statuses = sorted({int(s) for p in paths.values() for e in p.values() for s in e["responses"]
                       if s.isdigit() and int(s) >= 400})
    responses = {
        "Problem": {
            "description": "错误（problem+json）",
            "content": {"application/problem+json": {"schema": problem_ref}},
        }
    }
    for s in statuses:
        responses[f"Problem{s}"] = {
            "description": f"错误 {s}（problem+json）",
            "content": {"application/problem+json": {"schema": problem_ref}},
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
