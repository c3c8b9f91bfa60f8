"""Configuration: TOML defaults, SUPERAPP_ overrides, one-line errors naming the key,
and production refusing embedded servers, public secrets and dev switches."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import ConfigError, load_settings
from tests.support import production_env

ROOT = Path(__file__).resolve().parents[2]
PROD_OK = {
    **production_env("/run/secrets/jwt-es256.pem", "/run/secrets/codes-es256.pem"),
    "MONGODB_URI": "mongodb://db.internal:27017/?replicaSet=rs0",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def test_defaults_are_dev_with_embedded_servers():
    s = load_settings(environ={})
    assert s.env == "dev" and s.is_dev
    assert s.embedded_mongodb and s.embedded_redis
    assert s.dev_endpoints and s.load_demo_data
    assert s.mongodb.write_concern_w == "majority" and s.mongodb.write_concern_journal
    assert s.http.port == 8000


def test_environment_overrides_nested_keys():
    s = load_settings(environ={
        "SUPERAPP_HTTP__PORT": "9001",
        "SUPERAPP_HTTP__CORS_ORIGINS": "https://a.gov.cn, https://b.gov.cn",
        "SUPERAPP_MONGODB__WRITE_CONCERN_W": "1",
        "SUPERAPP_LOG__LEVEL": "debug",
        "MONGODB_URI": "mongodb://127.0.0.1:1/",
        "REDIS_URL": "redis://127.0.0.1:2/0",
    })
    assert s.http.port == 9001
    assert s.http.cors_origins == ["https://a.gov.cn", "https://b.gov.cn"]
    assert s.mongodb.write_concern_w == 1
    assert s.log.level == "DEBUG"
    assert not s.embedded_mongodb and not s.embedded_redis


@pytest.mark.parametrize(
    "env, key, var",
    [
        ({"SUPERAPP_HTTP__PORT": "abc"}, "http.port", "SUPERAPP_HTTP__PORT"),
        ({"SUPERAPP_HTTP__PORT": "70000"}, "http.port", "SUPERAPP_HTTP__PORT"),
        ({"SUPERAPP_HTTP__PROT": "1"}, "http.prot", "SUPERAPP_HTTP__PROT"),
        ({"SUPERAPP_ENV": "staging"}, "env", "SUPERAPP_ENV"),
        ({"MONGODB_URI": "postgres://x"}, "mongodb.uri", "MONGODB_URI"),
        ({"REDIS_URL": "http://x"}, "redis.url", "REDIS_URL"),
        ({"SUPERAPP_REDIS__MODE": "cluster"}, "redis", None),
        ({"SUPERAPP_REDIS__MODE": "sentinel"}, "redis", None),
        ({"SUPERAPP_REDIS__MODE": "shard"}, "redis.mode", "SUPERAPP_REDIS__MODE"),
        ({"SUPERAPP_REDIS__MODE": "cluster", "SUPERAPP_REDIS__NODES": "10.0.0.1"}, "redis.nodes", None),
        ({"SUPERAPP_REDIS__KEY_PREFIX": "a{b}:"}, "redis.key_prefix", None),
        ({"SUPERAPP_SECURITY__PII_ENCRYPTION_KEY": "c2hvcnQ="}, "security.pii_encryption_key", None),
        ({"SUPERAPP_LOG__LEVEL": "LOUD"}, "log.level", "SUPERAPP_LOG__LEVEL"),
    ],
)
def test_bad_value_is_one_line_naming_the_key(env, key, var):
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    msg = str(info.value)
    assert "\n" not in msg
    assert info.value.key == key and key in msg
    if var:
        assert var in msg


def test_redis_modes_from_the_environment():
    s = load_settings(environ={"SUPERAPP_REDIS__MODE": "cluster",
                               "SUPERAPP_REDIS__NODES": "10.0.0.1:7000, 10.0.0.2:7000,10.0.0.3:7000"})
    assert s.redis.nodes == ["10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"] and not s.embedded_redis
    s = load_settings(environ={"SUPERAPP_REDIS__MODE": "sentinel", "SUPERAPP_REDIS__SENTINELS": "10.0.0.9:26379",
                               "SUPERAPP_REDIS__SERVICE_NAME": "superapp"})
    assert s.redis.sentinels == ["10.0.0.9:26379"] and s.redis.service_name == "superapp" and not s.embedded_redis


def test_unknown_setting_says_so():
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(environ={"SUPERAPP_NOPE__X": "1"})


def test_invalid_toml_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[http\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={"SUPERAPP_CONFIG_FILE": str(bad)})
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(environ={"SUPERAPP_CONFIG_FILE": str(tmp_path / "missing.toml")})


def test_production_with_real_servers_and_secrets_starts_clean():
    s = load_settings(environ=PROD_OK)
    assert s.env == "production"
    assert not s.dev_endpoints and not s.load_demo_data


def test_production_without_an_official_account_needs_none_of_its_settings():
    env = {**PROD_OK, "SUPERAPP_WECHAT__OA_APPID": ""}
    del env["SUPERAPP_WECHAT__OA_SECRET"], env["SUPERAPP_WECHAT__OAUTH_BASE_URL"]
    assert load_settings(environ=env).wechat.oa_appid == ""


@pytest.mark.parametrize(
    "change, key",
    [
        ({"MONGODB_URI": ""}, "mongodb.uri"),
        ({"REDIS_URL": ""}, "redis.url"),
        ({"SUPERAPP_SECURITY__PII_ENCRYPTION_KEY": None}, "security.pii_encryption_key"),
        ({"SUPERAPP_SECURITY__BLIND_INDEX_KEY": None}, "security.blind_index_key"),
        ({"SUPERAPP_WECHAT__SECRET": None}, "wechat.secret"),
        ({"SUPERAPP_WECHAT__API_BASE_URL": None}, "wechat.api_base_url"),
        ({"SUPERAPP_WECHAT__OA_SECRET": None}, "wechat.oa_secret"),
        ({"SUPERAPP_WECHAT__OAUTH_BASE_URL": None}, "wechat.oauth_base_url"),
        ({"SUPERAPP_WECHAT__OA_APPID": None}, "wechat.oa_appid"),
        ({"SUPERAPP_TOKENS__SIGNING_KEY_FILES": None}, "tokens.signing_key_files"),
        ({"SUPERAPP_TOKENS__SIGNING_KEY_FILES": "config/demo/token-signing-key.pem"}, "tokens.signing_key_files"),
        ({"SUPERAPP_CODES__SIGNING_KEY_FILES": "config/demo/code-signing-key.pem"}, "codes.signing_key_files"),
        ({"SUPERAPP_SMS__SENDER": "dev"}, "sms.sender"),
        ({"SUPERAPP_VERIFICATION__PROVIDER": None}, "verification.provider"),
        ({"SUPERAPP_REGISTRY__URL": None}, "registry.provider"),
        ({"SUPERAPP_DEV__ENDPOINTS": "true"}, "dev.endpoints"),
        ({"SUPERAPP_DEV__LOAD_DEMO_DATA": "true"}, "dev.load_demo_data"),
    ],
)
def test_production_refuses_dev_things_and_says_which(change, key):
    env = dict(PROD_OK)
    for k, v in change.items():
        if v is None:
            env.pop(k)
        else:
            env[k] = v
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    assert info.value.key == key


def _run_cli(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_") and k not in ("MONGODB_URI", "REDIS_URL")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "superapp"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_bad_config_prints_one_line_and_exits_2():
    proc = _run_cli({"SUPERAPP_HTTP__PORT": "eighty"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "http.port" in lines[0] and "SUPERAPP_HTTP__PORT" in lines[0]
    assert "Traceback" not in proc.stderr


def test_cli_production_with_embedded_defaults_refuses():
    proc = _run_cli({"SUPERAPP_ENV": "production"})
    assert proc.returncode == 2
    assert "mongodb.uri" in proc.stderr and "Traceback" not in proc.stderr
