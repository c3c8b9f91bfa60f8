"""Helpers shared by the tests: settings for an isolated app, a real HTTP client,
starting/stopping the app, and the problem+json assertion."""
from __future__ import annotations

import json as jsonlib
import uuid
from dataclasses import dataclass
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from server.config import Settings, load_settings
from server.launcher import Runner


@dataclass(frozen=True)
class Backends:
    mongo_uri: str
    redis_url: str


def make_settings(backends: Backends, overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Settings for one isolated app: own database, own Redis key prefix, port 0."""
    tag = uuid.uuid4().hex[:10]
    env = {
        "MONGODB_URI": backends.mongo_uri,
        "REDIS_URL": backends.redis_url,
        "SUPERAPP_MONGODB__DATABASE": f"test_{tag}",
        "SUPERAPP_REDIS__KEY_PREFIX": f"t{tag}:",
        "SUPERAPP_HTTP__PORT": "0",
        **(environ or {}),
    }
    return load_settings(environ=env, overrides=overrides)


@dataclass
class Response:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class Api:
    """A small HTTP client for the app under test (real sockets, real Tornado client)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = AsyncHTTPClient(force_instance=True)

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        hdrs = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        req = HTTPRequest(
            self.base_url + path,
            method=method,
            body=body,
            headers=hdrs,
            allow_nonstandard_methods=True,
            request_timeout=30,
        )
        resp = await self.http.fetch(req, raise_error=False)
        if resp.code == 599:
            raise resp.error  # type: ignore[misc]
        return Response(resp.code, resp.headers, resp.body or b"")

    async def get(self, path: str, **kw: Any) -> Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Response:
        return await self.request("POST", path, json=json, **kw)

    def close(self) -> None:
        self.http.close()


@dataclass
class RunningApp:
    runner: Runner
    api: Api

    @property
    def ctx(self):  # noqa: ANN201
        return self.runner.ctx


async def start_app(backends: Backends, extra_routes: list | None = None, **kw: Any) -> RunningApp:
    settings = make_settings(backends, **kw)
    runner = Runner(settings, extra_routes=list(extra_routes or []))
    await runner.start()
    return RunningApp(runner, Api(runner.url))


async def stop_app(app: RunningApp) -> None:
    app.api.close()
    db_name = app.runner.settings.mongodb.database
    ctx = app.runner.ctx
    if ctx is not None:
        await ctx.mongo.drop_database(db_name)
    await app.runner.stop()


def assert_problem(resp: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a problem+json of this status (and code), with every member."""
    assert resp.status == status, (resp.status, resp.body[:500])
    assert resp.content_type.startswith("application/problem+json"), resp.content_type
    body = resp.json()
    for key in ("type", "title", "status", "code", "detail", "errors"):
        assert key in body, f"problem body lacks {key}: {body}"
    assert body["status"] == status
    assert isinstance(body["errors"], list)
    if code is not None:
        assert body["code"] == code, body
    return body


def write_ec_key(path) -> str:  # noqa: ANN001
    """A fresh P-256 private key in PEM at ``path`` (for production-mode tests)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return str(path)


def production_env(key_file: str) -> dict[str, str]:
    """Everything production mode needs except MONGODB_URI / REDIS_URL."""
    return {
        "SUPERAPP_ENV": "production",
        "SUPERAPP_SECURITY__PII_ENCRYPTION_KEY": "cHJvZC1waWkta2V5LTMyLWJ5dGVzLWxvbmctLS0tLS0=",
        "SUPERAPP_SECURITY__BLIND_INDEX_KEY": "cHJvZC1ibGluZC1pbmRleC0zMi1ieXRlcy0tLS0tLS0=",
        "SUPERAPP_TOKENS__SIGNING_KEY_FILES": key_file,
        "SUPERAPP_WECHAT__SECRET": "prod-secret-from-vault",
        "SUPERAPP_WECHAT__API_BASE_URL": "http://127.0.0.1:9/wechat",
        "SUPERAPP_SMS__SENDER": "http",
        "SUPERAPP_SMS__GATEWAY_URL": "http://127.0.0.1:9/sms",
        "SUPERAPP_VERIFICATION__PROVIDER": "http",
        "SUPERAPP_VERIFICATION__URL": "http://127.0.0.1:9/verify",
    }
