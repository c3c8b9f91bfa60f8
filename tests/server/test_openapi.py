"""/openapi.json is valid OpenAPI, generated from the handlers, and lists every route."""
from __future__ import annotations

from openapi_spec_validator import validate

from server.http.openapi import handler_operations, path_template


def test_path_template_conversion():
    assert path_template(r"/api/v1/matters/(?P<code>[^/]+)$") == ("/api/v1/matters/{code}", ["code"])
    assert path_template(r"/a/(?P<id>[0-9a-f]{24})/b/(?P<x>(?:p|q)+)") == ("/a/{id}/b/{x}", ["id", "x"])
    assert path_template(r"/docs/?") == ("/docs/?", [])


async def test_openapi_is_valid_and_lists_every_route(app):
    resp = await app.api.get("/openapi.json")
    assert resp.status == 200
    spec = resp.json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    for urlspec in app.runner.app.api_routes:
        template, _ = path_template(urlspec.regex.pattern)
        ops = handler_operations(urlspec.handler_class)
        assert ops, f"{urlspec.handler_class.__name__} implements no method"
        for method, op in ops.items():
            assert op is not None, f"{urlspec.handler_class.__name__}.{method} lacks @operation"
            assert method in spec["paths"][template], (template, method)
            assert spec["paths"][template][method]["summary"] == op.summary
    for expected in ("/healthz", "/readyz", "/openapi.json", "/api/v1/dev/demo"):
        assert any(p.startswith(expected) for p in spec["paths"]), expected
    assert "Problem" in spec["components"]["schemas"]


async def test_docs_page_renders_the_spec(app):
    resp = await app.api.get("/docs")
    assert resp.status == 200
    assert resp.content_type.startswith("text/html")
    html = resp.body.decode()
    assert "/openapi.json" in html and "API 文档" in html
    nonce = resp.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in html and "{{nonce}}" not in html
