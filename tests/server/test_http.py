"""HTTP plumbing: problem+json for every error, body parsing and limits, headers, CORS,
request ids, access log. The real app is used, plus a few routes that exist only in
these tests to exercise the base handler (JSON body model, unhandled error)."""
from __future__ import annotations

import json
import logging

import pytest
from pydantic import BaseModel, ConfigDict, Field

from server.http.base import BaseHandler
from server.http.routing import operation, route
from tests.support import assert_problem, start_app, stop_app

pytestmark = pytest.mark.redis_modes  # Redis-dependent rules: also on a Redis Cluster


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=5)
    age: int = Field(ge=0, le=150)
    tags: list[str] = []


class Query(BaseModel):
    page: int = Field(1, ge=1)
    q: str = ""


class EchoHandler(BaseHandler):
    @operation("echo (test only)", body=Person, response=Person, status=201)
    async def post(self, body: Person) -> Person:
        return body

    @operation("echo query (test only)", query=Query, response=Query)
    async def get(self, query: Query) -> Query:
        return query


class SmallBodyHandler(BaseHandler):
    max_body_bytes = 2048

    @operation("small body (test only)", body=Person, response=Person)
    async def post(self, body: Person) -> Person:
        return body


class BoomHandler(BaseHandler):
    @operation("always fails (test only)")
    async def get(self) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")


TEST_ROUTES = [
    route(r"/test/echo", EchoHandler),
    route(r"/test/small", SmallBodyHandler),
    route(r"/test/boom", BoomHandler),
]


@pytest.fixture(scope="module")
async def tapp(backends):
    running = await start_app(
        backends, extra_routes=TEST_ROUTES,
        overrides={"http": {"cors_origins": ["https://h5.example.gov.cn"]}},
    )
    yield running
    await stop_app(running)


async def test_unknown_route_is_404_problem(tapp):
    for method in ("GET", "POST", "DELETE"):
        resp = await tapp.api.request(method, "/nope/nothing")
        body = assert_problem(resp, 404, "not_found")
        assert body["title"] == "未找到请求的资源"
        assert body["type"] == "/problems/not_found"


async def test_wrong_method_is_405_with_allow(tapp):
    resp = await tapp.api.request("DELETE", "/healthz")
    assert_problem(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


async def test_valid_json_body_round_trips(tapp):
    resp = await tapp.api.post("/test/echo", {"name": "张三", "age": 30})
    assert resp.status == 201
    assert resp.json() == {"name": "张三", "age": 30, "tags": []}
    assert resp.content_type.startswith("application/json")


@pytest.mark.parametrize(
    "body, code",
    [
        (b"{", "malformed_json"),
        (b'{"name": "a", "age": NaN}', "malformed_json"),
        (b"\xff\xfe{}", "malformed_json"),
        (b"[" * 100000 + b"]" * 100000, "malformed_json"),
        (b"", "body_required"),
        (b"   ", "body_required"),
    ],
)
async def test_malformed_body_is_400_problem(tapp, body, code):
    resp = await tapp.api.request("POST", "/test/echo", body=body, headers={"Content-Type": "application/json"})
    assert_problem(resp, 400, code)


async def test_validation_errors_are_per_field_in_chinese(tapp):
    resp = await tapp.api.post("/test/echo", {"name": "这个名字太长了", "age": "abc", "tags": "x", "evil": 1})
    body = assert_problem(resp, 400, "validation_failed")
    by_field = {e["field"]: e["message"] for e in body["errors"]}
    assert by_field == {
        "name": "长度不能超过 5 个字符",
        "age": "应为整数",
        "tags": "应为数组",
        "evil": "不允许的字段",
    }


async def test_missing_and_wrong_type_fields(tapp):
    body = assert_problem(await tapp.api.post("/test/echo", {}), 400, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"name", "age"}
    assert all(e["message"] == "必填项缺失" for e in body["errors"])
    body = assert_problem(await tapp.api.post("/test/echo", [1, 2]), 400, "validation_failed")
    assert body["errors"][0]["message"] == "应为对象"
    body = assert_problem(await tapp.api.post("/test/echo", {"name": "a", "age": -1}), 400)
    assert body["errors"] == [{"field": "age", "message": "应不小于 0"}]
    body = assert_problem(await tapp.api.post("/test/echo", {"name": "a", "age": 1, "tags": [1]}), 400)
    assert body["errors"] == [{"field": "tags[0]", "message": "应为字符串"}]


async def test_wrong_content_type_is_415(tapp):
    resp = await tapp.api.request("POST", "/test/echo", body=b"name=a", headers={"Content-Type": "text/plain"})
    assert_problem(resp, 415, "unsupported_media_type")


async def test_query_parameters_are_validated(tapp):
    resp = await tapp.api.get("/test/echo?page=3&q=%E4%BA%8B%E9%A1%B9")
    assert resp.json() == {"page": 3, "q": "事项"}
    body = assert_problem(await tapp.api.get("/test/echo?page=zero"), 400, "validation_failed")
    assert body["errors"] == [{"field": "page", "message": "应为整数"}]


async def test_body_over_the_limit_is_413(tapp):
    big = json.dumps({"name": "a", "age": 1, "tags": ["x" * 100] * 30})  # > 2 KiB
    resp = await tapp.api.request("POST", "/test/small", body=big, headers={"Content-Type": "application/json"})
    body = assert_problem(resp, 413, "payload_too_large")
    assert body["limit"] == 2048
    # the global limit (1 MiB by default) applies to every other handler
    huge = b'{"name": "a", "age": 1, "tags": ["' + b"x" * (1_100_000) + b'"]}'
    resp = await tapp.api.request("POST", "/test/echo", body=huge, headers={"Content-Type": "application/json"})
    assert_problem(resp, 413, "payload_too_large")
    # and the server still answers afterwards
    assert (await tapp.api.get("/healthz")).status == 200


async def test_unhandled_error_is_500_problem_without_internals(tapp, caplog):
    with caplog.at_level(logging.ERROR, logger="superapp.http"):
        resp = await tapp.api.get("/test/boom")
    body = assert_problem(resp, 500, "internal_error")
    assert body["request_id"] == resp.headers["X-Request-Id"]
    assert body["request_id"] in body["detail"]
    text = resp.body.decode()
    assert "secret internal detail" not in text and "Traceback" not in text and "RuntimeError" not in text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in logged and "secret internal detail" in logged and body["request_id"] in logged


async def test_request_id_is_generated_or_echoed(tapp):
    resp = await tapp.api.get("/healthz")
    assert len(resp.headers["X-Request-Id"]) == 32
    resp = await tapp.api.get("/healthz", headers={"X-Request-Id": "lb-abc.123"})
    assert resp.headers["X-Request-Id"] == "lb-abc.123"
    for bad in ("bad id <script>", "x" * 65):
        resp = await tapp.api.get("/healthz", headers={"X-Request-Id": bad})
        assert resp.headers["X-Request-Id"] != bad
        assert len(resp.headers["X-Request-Id"]) == 32
    # errors carry it too
    resp = await tapp.api.get("/nope", headers={"X-Request-Id": "trace-1"})
    assert resp.json()["request_id"] == "trace-1"


async def test_security_headers_on_success_and_error(tapp):
    for path in ("/healthz", "/nope", "/test/boom"):
        resp = await tapp.api.get(path)
        h = resp.headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert h["Cache-Control"] == "no-store"
        assert "Server" not in h
        assert "X-Request-Id" in h


async def test_cors_only_for_configured_origins(tapp):
    ok = await tapp.api.get("/healthz", headers={"Origin": "https://h5.example.gov.cn"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://h5.example.gov.cn"
    other = await tapp.api.get("/healthz", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    pre = await tapp.api.request(
        "OPTIONS", "/test/echo",
        headers={"Origin": "https://h5.example.gov.cn", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status == 204
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in pre.headers["Access-Control-Allow-Headers"]


async def test_access_log_is_one_json_line_per_request(tapp, caplog):
    with caplog.at_level(logging.INFO, logger="superapp.access"):
        resp = await tapp.api.get("/nope", headers={"X-Request-Id": "access-1"})
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "superapp.access"]
    mine = [e for e in entries if e["request_id"] == "access-1"]
    assert len(mine) == 1
    assert mine[0]["status"] == resp.status == 404
    assert mine[0]["path"] == "/nope" and mine[0]["method"] == "GET"
    assert isinstance(mine[0]["ms"], float)


async def test_responses_over_a_kilobyte_are_compressed_event_streams_are_not(app):
    """gzip for JSON, problem+json and the H5 assets (compressed once, then kept); never for
    an event stream, whose compressor would live as long as the stream."""
    import gzip
    import re

    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    client = AsyncHTTPClient(force_instance=True)

    async def raw(path: str, **headers: str):
        req = HTTPRequest(app.api.base_url + path, headers={"Accept-Encoding": "gzip", **headers},
                          decompress_response=False, request_timeout=10)
        return await client.fetch(req, raise_error=False)

    try:
        spec = await raw("/openapi.json")
        assert spec.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in spec.headers["Vary"]
        assert json.loads(gzip.decompress(spec.body))["openapi"].startswith("3.1")
        small = await raw("/healthz")
        assert "Content-Encoding" not in small.headers  # under 1 KB: not worth it
        page = await raw("/", Accept="text/html")
        script = re.search(rb'src="(/assets/[^"]+\.js)"', page.body).group(1).decode()
        asset = await raw(script)
        assert asset.code == 200 and asset.headers["Content-Encoding"] == "gzip"
        assert len(asset.body) < 0.6 * len(gzip.decompress(asset.body))
        assert "immutable" in asset.headers["Cache-Control"]
        plain = await client.fetch(HTTPRequest(app.api.base_url + script, headers={"Accept-Encoding": "identity"},
                                               decompress_response=False))
        assert "Content-Encoding" not in plain.headers and plain.body == gzip.decompress(asset.body)
    finally:
        client.close()
    # the transform itself, for the two types Tornado's own would get wrong
    from tornado.httputil import HTTPHeaders

    from server.http.compression import Compression

    def first_chunk(ctype: str) -> HTTPHeaders:
        t = Compression(type("Req", (), {"headers": {"Accept-Encoding": "gzip"}})())
        return t.transform_first_chunk(200, HTTPHeaders({"Content-Type": ctype}), b"x" * 4096, False)[1]

    assert "Content-Encoding" not in first_chunk("text/event-stream")
    assert first_chunk("application/problem+json")["Content-Encoding"] == "gzip"
