"""OpenAPI 3.1 document generated from the registered routes and their Pydantic models."""
from __future__ import annotations

import re
from typing import Any, Iterable

import tornado.web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from tornado.web import URLSpec

from server.http.routing import Operation

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
    p = _LOOKAHEAD.sub("", pattern.lstrip("^").rstrip("$"))
    out, names, i = [], [], 0
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
            names.append(m["name"])
            out.append("{" + m["name"] + "}")
            i = j
        else:
            out.append(p[i])
            i += 1
    return "".join(out).replace("\\", ""), names


def handler_operations(handler: type) -> dict[str, Operation | None]:
    """Methods a handler class implements (excluding the CORS pre-flight) -> operation."""
    ops: dict[str, Operation | None] = {}
    for m in METHODS:
        fn = getattr(handler, m, None)
        if fn is None or fn is getattr(tornado.web.RequestHandler, m):
            continue
        ops[m] = getattr(fn, "__operation__", None)
    return ops


def build_openapi(routes: Iterable[URLSpec], *, title: str, version: str) -> dict[str, Any]:
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
    schemas = defs.get("$defs", {})

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return refs[(model, mode)]

    problem_ref = ref(Problem, "serialization")
    paths: dict[str, Any] = {}
    used_ids: dict[str, int] = {}
    for spec in routes:
        template, params = path_template(spec.regex.pattern)
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
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in params
                ],
                "responses": {},
            }
            if op.description:
                entry["description"] = op.description
            if op.query is not None:
                qschema = op.query.model_json_schema()
                required = set(qschema.get("required", []))
                for name, prop in qschema.get("properties", {}).items():
                    entry["parameters"].append(
                        {"name": name, "in": "query", "required": name in required, "schema": prop}
                    )
            for header, desc in op.headers.items():
                entry["parameters"].append(
                    {"name": header, "in": "header", "required": False, "description": desc,
                     "schema": {"type": "string"}}
                )
            if op.body is not None:
                entry["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(op.body, "validation")}},
                }
            success: dict[str, Any] = {"description": "成功" if op.status != 204 else "成功（无内容）"}
            if op.response is not None:
                success["content"] = {"application/json": {"schema": ref(op.response, "serialization")}}
            elif op.content_type:
                success["content"] = {op.content_type: {"schema": {"type": "string", "format": "binary"}}}
            entry["responses"][str(op.status)] = success
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
