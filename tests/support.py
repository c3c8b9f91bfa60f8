"""Helpers shared by the tests: settings for an isolated app, a real HTTP client,
starting/stopping the app, and the problem+json assertion."""
from __future__ import annotations

import asyncio
import json as jsonlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from server.config import Settings, load_settings
from superapp.launcher import Runner

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Backends:
    mongo_uri: str
    redis_url: str  # one server ("single"); empty on a cluster
    redis_mode: str = "single"
    redis_nodes: tuple[str, ...] = ()  # the cluster's nodes


def always_open_catalog(path: Path, quota_a: int | None = None, radius_m: int | None = None) -> Path:
    """The demo halls with Tianhe and the city hall never closed (24 hours, holidays too: taking
    numbers and checking in work whenever the tests run) and Yuexiu never open; ``quota_a``:
    Tianhe's 综合 quota per period, small to test running out; ``radius_m``: the 线上取号 radius."""
    raw = jsonlib.loads((ROOT / "config" / "catalog" / "halls.json").read_text(encoding="utf-8"))
    if radius_m is not None:
        raw["defaults"]["remote_radius_m"] = radius_m
    for hall in raw["halls"]:
        if hall["id"] in ("gz-hall-tianhe", "gz-hall-city"):
            hall["hours"] = {k: [["00:00", "24:00"]] for k in ("workday", "sat", "sun", "holiday")}
        if hall["id"] == "gz-hall-tianhe" and quota_a is not None:
            hall["quota"] = {"A": quota_a, "B": 2}
        if hall["id"] == "gz-hall-yuexiu":
            hall["hours"] = {"workday": [], "sat": [], "sun": []}
    path.write_text(jsonlib.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


def make_settings(backends: Backends, overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Settings for one isolated app: own database, own Redis key prefix, port 0."""
    tag = uuid.uuid4().hex[:10]
    env = {
        "MONGODB_URI": backends.mongo_uri,
        "REDIS_URL": backends.redis_url,
        "SUPERAPP_REDIS__MODE": backends.redis_mode,
        "SUPERAPP_REDIS__NODES": ",".join(backends.redis_nodes),
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
        try:
            await asyncio.wait_for(ctx.mongo.drop_database(db_name), 10)
        except Exception as e:  # noqa: BLE001 - a test that stopped the server; the data is temporary
            print(f"could not drop {db_name}: {e!r}")
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


def production_env(key_file: str, code_key_file: str) -> dict[str, str]:
    """Everything production mode needs except MONGODB_URI / REDIS_URL."""
    return {
        "SUPERAPP_CODES__SIGNING_KEY_FILES": code_key_file,
        "SUPERAPP_ENV": "production",
        "SUPERAPP_SECURITY__PII_ENCRYPTION_KEY": "cHJvZC1waWkta2V5LTMyLWJ5dGVzLWxvbmctLS0tLS0=",
        "SUPERAPP_SECURITY__BLIND_INDEX_KEY": "cHJvZC1ibGluZC1pbmRleC0zMi1ieXRlcy0tLS0tLS0=",
        "SUPERAPP_TOKENS__SIGNING_KEY_FILES": key_file,
        "SUPERAPP_WECHAT__SECRET": "prod-secret-from-vault",
        "SUPERAPP_WECHAT__API_BASE_URL": "http://127.0.0.1:9/wechat",
        "SUPERAPP_WECHAT__OA_APPID": "wx1234567890abcdef",
        "SUPERAPP_WECHAT__OA_SECRET": "prod-oa-secret-from-vault",
        "SUPERAPP_WECHAT__OAUTH_BASE_URL": "http://127.0.0.1:9/connect",
        "SUPERAPP_SMS__SENDER": "http",
        "SUPERAPP_SMS__GATEWAY_URL": "http://127.0.0.1:9/sms",
        "SUPERAPP_VERIFICATION__PROVIDER": "http",
        "SUPERAPP_VERIFICATION__URL": "http://127.0.0.1:9/verify",
        "SUPERAPP_REGISTRY__PROVIDER": "http",
        "SUPERAPP_REGISTRY__URL": "http://127.0.0.1:9/registry",
        "SUPERAPP_HTTP__PUBLIC_BASE_URL": "https://app.example.gov.cn",
    }


def random_phone() -> str:
    """A phone no other test uses (so per-phone limits never collide)."""
    import secrets

    return "139" + f"{secrets.randbelow(10**8):08d}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def latest_sms_code(api: Api, phone: str) -> str:
    resp = await api.get(f"/api/v1/dev/sms-outbox?phone={phone}")
    assert resp.status == 200, resp.body
    return resp.json()["items"][0]["params"]["code"]


async def agreed(api: Api) -> dict[str, str]:
    """The current versions of the 用户协议 and 隐私政策, as the login screen sends them."""
    resp = await api.get("/api/v1/agreements")
    assert resp.status == 200, resp.body
    return {d["kind"]: d["version"] for d in resp.json()["items"]}


async def send_sms(api: Api, phone: str, **headers: str) -> Any:
    """The login screen's 获取验证码: the phone and the agreements read and agreed to."""
    return await api.post("/api/v1/auth/sms/send", {"phone": phone, "agreements": await agreed(api)}, headers=headers)


async def sms_login(api: Api, phone: str | None = None, channel: str = "h5") -> dict[str, Any]:
    """Log in through the real SMS flow; returns the login response (+ "phone")."""
    phone = phone or random_phone()
    resp = await send_sms(api, phone)
    assert resp.status == 202, resp.body
    code = await latest_sms_code(api, phone)
    resp = await api.post("/api/v1/auth/sms/verify", {"phone": phone, "code": code, "channel": channel})
    assert resp.status == 200, resp.body
    return {**resp.json(), "phone": phone}


async def wechat_login(api: Api, name: str) -> dict[str, Any]:
    resp = await api.post("/api/v1/auth/wechat/miniapp", {"code": f"test-{name}", "agreements": await agreed(api)})
    assert resp.status == 200, resp.body
    return resp.json()


async def verified_person(api: Api, resident: Any, channel: str = "h5") -> dict[str, Any]:
    """An L2 account for a demo resident (SMS login + real-name); returns tokens + person."""
    login = await sms_login(api, channel=channel)
    resp = await api.post("/api/v1/me/realname", {"name": resident.name, "id_number": resident.id_number},
                          headers=bearer(login["access_token"]))
    assert resp.status == 200, resp.body
    body = resp.json()
    return {**login, "access_token": body["access_token"], "person": body["person"]}


def make_id_number(region: str = "440106", birth: str | None = None, seq: int | None = None) -> str:
    """A valid 18-character ID number (correct check character)."""
    import random

    from identity.idnumber import check_char

    if birth is None:
        birth = f"{random.randint(1950, 2005)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    if seq is None:
        seq = random.randint(0, 999)
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + check_char(first17)


async def new_resident(ctx: Any, name: str = "测试居民", **kw: Any) -> Any:
    """Add a fresh person to the development population registry and return it."""
    from superapp.demo import DemoData, DemoResident, load_demo

    id_number = make_id_number(**kw)
    resident = DemoResident(name=name, id_number=id_number, phone=random_phone(),
                            gender="男" if int(id_number[16]) % 2 else "女", address="广东省广州市天河区测试路 1 号",
                            birth_date=f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}")
    await load_demo(ctx, DemoData(residents=[resident], enterprises=[], staff=[], devices=[], issuers=[]))
    return resident


def make_uscc(prefix: str = "91440106") -> str:
    """A valid unified social credit code (both check characters right)."""
    import random

    from identity.uscc import ALPHABET, check_char, organisation_check

    body = "".join(random.choice(ALPHABET) for _ in range(8))
    first17 = prefix + body + organisation_check(body)
    return first17 + check_char(first17)


async def new_enterprise(ctx: Any, representative: Any, name: str | None = None, prefix: str = "91440106") -> Any:
    """Add an enterprise whose legal representative is ``representative`` to the dev registry."""
    from superapp.demo import DemoData, DemoEnterprise, DemoLegalRep, load_demo

    uscc = make_uscc(prefix)
    enterprise = DemoEnterprise(
        uscc=uscc, name=name or f"广州市测试{uscc[-6:]}有限公司", type="有限责任公司",
        legal_representative=DemoLegalRep(name=representative.name, id_number=representative.id_number),
        address="广东省广州市天河区测试路 2 号", established="2020-01-01")
    await load_demo(ctx, DemoData(residents=[], enterprises=[enterprise], staff=[], devices=[], issuers=[]))
    return enterprise


def device_assertion(device_id: str, private_key_pem: str, audience: str = "superapp-device-token",
                     lifetime: int = 60, **overrides: Any) -> str:
    """A client assertion signed with a device's private key (what a kiosk sends)."""
    import secrets
    import time

    import jwt

    now = int(time.time())
    claims = {"iss": device_id, "sub": device_id, "aud": audience, "iat": now, "exp": now + lifetime,
              "jti": secrets.token_hex(8), **overrides}
    return jwt.encode(claims, private_key_pem, algorithm="ES256")


async def kiosk_token(api: Api, device: Any) -> str:
    resp = await api.post("/api/v1/devices/token",
                          {"assertion": device_assertion(device.device_id, device.private_key_pem)})
    assert resp.status == 200, resp.body
    return resp.json()["access_token"]


async def staff_token(api: Api, staff: Any) -> str:
    """Log a demo staff member in with password and the current TOTP code. A one-time code
    works once, so the token is kept on the client for the next call in the same app."""
    import pyotp

    cache = api.__dict__.setdefault("staff_tokens", {})
    if staff.username in cache:
        return cache[staff.username]
    totp = pyotp.TOTP(staff.totp_secret).now()
    resp = await api.post("/api/v1/staff/login", {"username": staff.username, "password": staff.password,
                                                  "totp": totp})
    assert resp.status == 200, resp.body
    cache[staff.username] = resp.json()["access_token"]
    return cache[staff.username]


def demo_staff(ctx: Any, username: str) -> Any:
    return next(s for s in ctx.demo.staff if s.username == username)


class EventStream:
    """A real server-sent-events client (Tornado streaming) collecting events."""

    def __init__(self, base_url: str, token: str, since: str = ""):
        import asyncio

        self.url = f"{base_url}/api/v1/events?access_token={token}"
        self.headers = {"Last-Event-ID": since} if since else {}
        self.events: asyncio.Queue = asyncio.Queue()
        self.connected = asyncio.Event()
        self._buf = b""
        self._client = AsyncHTTPClient(force_instance=True)
        self._task: Any = None

    def _on_chunk(self, chunk: bytes) -> None:
        self._buf += chunk
        self.connected.set()
        while b"\n\n" in self._buf:
            block, self._buf = self._buf.split(b"\n\n", 1)
            data = [line[5:].strip() for line in block.decode().splitlines() if line.startswith("data:")]
            if data:
                self.events.put_nowait(jsonlib.loads("\n".join(data)))

    async def __aenter__(self) -> "EventStream":
        import asyncio

        req = HTTPRequest(self.url, streaming_callback=self._on_chunk, request_timeout=120, headers=self.headers)
        self._task = asyncio.ensure_future(self._client.fetch(req, raise_error=False))
        await asyncio.wait_for(self.connected.wait(), 10)
        return self

    async def next(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        import asyncio

        while True:
            event = await asyncio.wait_for(self.events.get(), timeout)
            if event.get("type") == kind:
                return event

    async def __aexit__(self, *exc: Any) -> None:
        self._client.close()
        if self._task is not None:
            self._task.cancel()


def issuer_client(ctx: Any, code: str | None = None) -> Any:
    """An IssuerClient for a demo issuing authority (its key is public demo data)."""
    from card_wallet.issuer_client import IssuerClient
    from server.keys import public_pem_from_private, thumbprint

    issuer = next(i for i in ctx.demo.issuers if code is None or i.code == code)
    kid = thumbprint(public_pem_from_private(issuer.private_key_pem))[:16]
    return IssuerClient(issuer.code, kid, issuer.private_key_pem)


async def issuer_token(api: Api, client: Any) -> str:
    resp = await api.post("/api/v1/issuers/token", {"assertion": client.assertion()})
    assert resp.status == 200, resp.body
    return resp.json()["access_token"]


async def upload_pdf(api: Api, person: dict[str, Any]) -> str:
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    resp = await api.request("POST", "/api/v1/uploads?filename=lease.pdf", body=pdf,
                             headers={**bearer(person["access_token"]), "Content-Type": "application/pdf"})
    assert resp.status == 201, resp.body
    return resp.json()["id"]
