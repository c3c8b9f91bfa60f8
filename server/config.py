"""Configuration: ``config/default.toml`` + environment overrides, validated at start-up.

Environment variables ``SUPERAPP_<SECTION>__<KEY>`` override ``[section] key``;
``SUPERAPP_ENV`` overrides the top-level ``env``; ``MONGODB_URI`` and ``REDIS_URL``
are honoured as the well-known names for ``mongodb.uri`` and ``redis.url``.

A bad value raises :class:`ConfigError`, whose message is one line naming the key,
so the launcher can print it instead of a traceback.
"""
from __future__ import annotations

import base64
import tomllib
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, ValidationError, field_validator, model_validator

from server.config_sections import (  # noqa: F401 - re-exported: the sections are part of this API
    AccountsConfig,
    CodesConfig,
    HallsConfig,
    MattersConfig,
    NotificationsConfig,
    PaymentsConfig,
    PoliciesConfig,
    RegistryConfig,
    SmsConfig,
    TicketsConfig,
    VerificationConfig,
    WalletConfig,
    WeChatConfig,
    _list_from_env,
    _Section,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "default.toml"
ENV_PREFIX = "SUPERAPP_"
NESTED = "__"

# Public development secrets (they are in the repository); production refuses them.
DEV_SECRETS = {
    "security.pii_encryption_key": "ZGV2LW9ubHktcGlpLWVuY3J5cHRpb24ta2V5LTMyYiE=",
    "security.blind_index_key": "ZGV2LW9ubHktYmxpbmQtaW5kZXgta2V5LTAwMDAwMDA=",
    "wechat.secret": "dev-only-wechat-secret",
    "wechat.oa_secret": "dev-only-official-account-secret",  # (unless no official account: oa_appid empty)
}
DEV_OA_APPID = "wxd0000000000demo2"  # the fake WeChat's official account (config/default.toml)
DEMO_TOKEN_KEY_FILE = "config/demo/token-signing-key.pem"
DEMO_CODE_KEY_FILE = "config/demo/code-signing-key.pem"


class ConfigError(Exception):
    """A configuration problem; ``str()`` is one line that names the key."""

    def __init__(self, key: str, message: str, source: str | None = None):
        self.key = key
        self.source = source
        where = f"{key} (from {source})" if source else key
        super().__init__(f"配置错误 config error: {where}: {message}")



class HttpConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_body_bytes: int = Field(1_048_576, ge=1024, le=512 * 1024 * 1024)
    xheaders: bool = False
    cors_origins: list[str] = []
    shutdown_grace_seconds: float = Field(10.0, ge=0, le=600)
    # Where people reach the app (share links, QR codes on certificates). Empty: in dev, the
    # address the app listens on; production must set it.
    public_base_url: str = Field("", pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return _list_from_env(v)


class ProcessConfig(_Section):
    role: Literal["all", "web", "worker"] = "all"


class MongoConfig(_Section):
    uri: str = ""
    database: str = Field("superapp", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    write_concern_w: int | str = "majority"
    write_concern_journal: bool = True
    server_selection_timeout_ms: int = Field(5000, ge=100, le=120_000)
    # Longest any one operation may take (PyMongo's timeoutMS): a request that needs a stalled
    # MongoDB ends after this with 503 mongodb_unavailable instead of hanging.
    timeout_ms: int = Field(2500, ge=100, le=120_000)

    @field_validator("uri")
    @classmethod
    def _uri(cls, v: str) -> str:
        if v and not v.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return v

    @field_validator("write_concern_w", mode="before")
    @classmethod
    def _w(cls, v: Any) -> Any:
        if isinstance(v, str) and v.isdigit():
            return int(v)
        return v


class RedisConfig(_Section):
    # single: one server at ``url``. cluster: ``url`` is one node (the rest are discovered) or
    # ``nodes`` lists seed nodes. sentinel: ``sentinels`` are asked for the master of
    # ``service_name``; ``url`` may carry the password and database.
    mode: Literal["single", "cluster", "sentinel"] = "single"
    url: str = ""
    nodes: list[str] = []
    sentinels: list[str] = []
    service_name: str = Field("mymaster", min_length=1, max_length=64)
    key_prefix: str = Field("sa:", max_length=32, pattern=r"^[^{}]*$")
    # Longest one command may wait for its reply: a stalled Redis is a 503 redis_unavailable.
    timeout_seconds: float = Field(2.0, ge=0.1, le=60)
    # Connections one process keeps to the server (single, sentinel): a burst beyond it waits
    # for a free one (up to timeout_seconds) instead of failing with "Too many connections".
    max_connections: int = Field(64, ge=4, le=10000)

    @field_validator("nodes", "sentinels", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return _list_from_env(v)

    @field_validator("nodes", "sentinels")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        for item in v:
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{item!r} should be host:port")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return v

    @model_validator(mode="after")
    def _mode_has_servers(self) -> "RedisConfig":
        if self.mode == "cluster" and not (self.nodes or self.url):
            raise ValueError("mode cluster needs redis.nodes (host:port,...) or a node in redis.url")
        if self.mode == "sentinel" and not self.sentinels:
            raise ValueError("mode sentinel needs redis.sentinels (host:port,...)")
        return self


class EmbeddedConfig(_Section):
    data_dir: str = "var"
    start_timeout_seconds: float = Field(30.0, gt=0, le=600)


class SecurityConfig(_Section):
    pii_encryption_key: str
    blind_index_key: str

    @field_validator("pii_encryption_key", "blind_index_key")
    @classmethod
    def _key32(cls, v: str) -> str:
        try:
            raw = base64.b64decode(v, validate=True)
        except ValueError:
            raise ValueError("must be base64") from None
        if len(raw) != 32:
            raise ValueError(f"must decode to 32 bytes, got {len(raw)}")
        return v

    def key_bytes(self, name: str) -> bytes:
        return base64.b64decode(getattr(self, name))


class TokensConfig(_Section):
    issuer: str = Field("superapp", min_length=1)
    access_ttl_seconds: int = Field(900, ge=30, le=3600)
    refresh_ttl_days: int = Field(30, ge=1, le=90)
    refresh_reuse_grace_seconds: float = Field(10.0, ge=0, le=60)
    signing_key_files: list[str] = Field(min_length=1)

    @field_validator("signing_key_files", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return _list_from_env(v)


class DevConfig(_Section):
    endpoints: bool | None = None
    load_demo_data: bool | None = None
    demo_dir: str = "config/demo"


class LogConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = True

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


class Settings(_Section):
    env: Literal["dev", "production"] = "dev"
    http: HttpConfig = HttpConfig()
    process: ProcessConfig = ProcessConfig()
    mongodb: MongoConfig = MongoConfig()
    redis: RedisConfig = RedisConfig()
    embedded: EmbeddedConfig = EmbeddedConfig()
    security: SecurityConfig
    tokens: TokensConfig
    codes: CodesConfig
    accounts: AccountsConfig = AccountsConfig()
    wallet: WalletConfig = WalletConfig()
    matters: MattersConfig = MattersConfig()
    tickets: TicketsConfig = TicketsConfig()
    halls: HallsConfig = HallsConfig()
    policies: PoliciesConfig = PoliciesConfig()
    payments: PaymentsConfig = PaymentsConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    wechat: WeChatConfig
    sms: SmsConfig = SmsConfig()
    verification: VerificationConfig = VerificationConfig()
    registry: RegistryConfig = RegistryConfig()
    dev: DevConfig = DevConfig()
    log: LogConfig = LogConfig()
    # Where relative paths (data_dir, demo_dir) are resolved from; not a config key.
    root: Path = Field(PROJECT_ROOT, exclude=True)

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @property
    def dev_endpoints(self) -> bool:
        return self.is_dev if self.dev.endpoints is None else self.dev.endpoints

    @property
    def load_demo_data(self) -> bool:
        return self.is_dev if self.dev.load_demo_data is None else self.dev.load_demo_data

    @property
    def serves_http(self) -> bool:
        return self.process.role in ("all", "web")

    @property
    def runs_workers(self) -> bool:
        return self.process.role in ("all", "worker")

    @property
    def embedded_mongodb(self) -> bool:
        return not self.mongodb.uri

    @property
    def embedded_redis(self) -> bool:
        r = self.redis
        return r.mode == "single" and not r.url

    def path(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.root / p


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Nested dict of overrides from the environment, and key -> variable name."""
    tree: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(dotted: str, value: str, var: str) -> None:
        node = tree
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(dotted, "conflicts with another variable", var)
        node[parts[-1]] = value
        sources[dotted] = var

    for var, value in environ.items():
        if not var.startswith(ENV_PREFIX):
            continue
        dotted = var[len(ENV_PREFIX):].lower().replace(NESTED, ".")
        if not dotted or dotted.startswith(".") or dotted.endswith("."):
            raise ConfigError(var, "malformed variable name", var)
        put(dotted, value, var)
    if environ.get("MONGODB_URI"):
        put("mongodb.uri", environ["MONGODB_URI"], "MONGODB_URI")
    if environ.get("REDIS_URL"):
        put("redis.url", environ["REDIS_URL"], "REDIS_URL")
    return tree, sources


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    overrides: dict[str, Any] | None = None,
    root: Path = PROJECT_ROOT,
) -> Settings:
    """Read the TOML file, apply environment and explicit overrides, validate."""
    import os

    environ = os.environ if environ is None else environ
    path = config_file or Path(environ.get("SUPERAPP_CONFIG_FILE", DEFAULT_CONFIG_FILE))
    env = {k: v for k, v in environ.items() if k != "SUPERAPP_CONFIG_FILE"}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("SUPERAPP_CONFIG_FILE", f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), f"not valid TOML: {e}") from None

    tree, sources = _env_overrides(env)
    data = _merge(data, tree)
    if overrides:
        data = _merge(data, overrides)
    data["root"] = root
    try:
        settings = Settings.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(key, msg, sources.get(key)) from None
    check_production(settings)
    return settings


def check_production(s: Settings) -> None:
    """Production refuses embedded servers, public dev secrets and dev switches."""
    if s.is_dev:
        return
    if s.embedded_mongodb:
        raise ConfigError("mongodb.uri", "production needs MONGODB_URI (embedded servers are dev only)")
    if s.embedded_redis:
        raise ConfigError("redis.url", "production needs REDIS_URL (embedded servers are dev only)")
    for key, dev_value in DEV_SECRETS.items():
        section, name = key.split(".")
        unused = key == "wechat.oa_secret" and not s.wechat.oa_appid
        if getattr(getattr(s, section), name) == dev_value and not unused:
            hint = " (or wechat.oa_appid empty: no paying inside WeChat's browser)" if key == "wechat.oa_secret" else ""
            raise ConfigError(key, "is the public development default; set a secret value for production" + hint)
    if s.wechat.oa_appid == DEV_OA_APPID:
        raise ConfigError("wechat.oa_appid", "is the development official account; set yours, or empty for none")
    if s.wechat.oa_appid and not s.wechat.oauth_base_url:
        raise ConfigError("wechat.oauth_base_url", "set it to https://open.weixin.qq.com/connect with an official account")
    if s.security.pii_encryption_key == s.security.blind_index_key:
        raise ConfigError("security.blind_index_key", "must differ from security.pii_encryption_key")
    if any(Path(s.path(f)).resolve() == (s.root / DEMO_TOKEN_KEY_FILE).resolve()
           for f in s.tokens.signing_key_files):
        raise ConfigError("tokens.signing_key_files", "includes the public demo key; use your own key files")
    if any(Path(s.path(f)).resolve() == (s.root / DEMO_CODE_KEY_FILE).resolve() for f in s.codes.signing_key_files):
        raise ConfigError("codes.signing_key_files", "includes the public demo key; use your own key files")
    if not s.wechat.api_base_url:
        raise ConfigError("wechat.api_base_url", "production needs the WeChat API (https://api.weixin.qq.com)")
    if s.sms.sender != "http" or not s.sms.gateway_url:
        raise ConfigError("sms.sender", "production needs sender = \"http\" with sms.gateway_url")
    if s.verification.provider != "http" or not s.verification.url:
        raise ConfigError("verification.provider", "production needs provider = \"http\" with verification.url")
    if s.registry.provider != "http" or not s.registry.url:
        raise ConfigError("registry.provider", "production needs provider = \"http\" with registry.url")
    if s.dev.endpoints:
        raise ConfigError("dev.endpoints", "dev endpoints must be off in production")
    if not s.http.public_base_url:
        raise ConfigError("http.public_base_url", "production needs the public address, e.g. https://app.example.gov.cn")
    if s.dev.load_demo_data:
        raise ConfigError("dev.load_demo_data", "demo data must not be loaded in production")
