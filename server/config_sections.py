"""The configuration sections of the domains' services (codes, wallet, matters, notifications,
WeChat, SMS, the verification and registry providers, accounts). ``server.config`` builds
``Settings`` from them; import them from there."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _list_from_env(v: Any) -> Any:
    import json

    if isinstance(v, str):
        s = v.strip()
        if s.startswith("["):
            return json.loads(s)
        return [part.strip() for part in s.split(",") if part.strip()]
    return v


class CodesConfig(_Section):
    ttl_seconds: int = Field(60, ge=10, le=600)
    refresh_after_seconds: int = Field(45, ge=5, le=600)
    leeway_seconds: int = Field(5, ge=0, le=60)
    short_codes: bool = True
    consent_ttl_seconds: int = Field(300, ge=30, le=3600)
    # Unknown short codes a device (or all devices of one hall) may try in a minute before
    # every short code it types is refused for a minute (429): 8 digits are guessable.
    short_code_misses_per_minute: int = Field(10, ge=1, le=10_000)
    signing_key_files: list[str] = Field(min_length=1)
    device_assertion_audience: str = Field("superapp-device-token", min_length=1)

    @field_validator("signing_key_files", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return _list_from_env(v)


class WalletConfig(_Section):
    font_path: str = ""
    catalog_file: str = "config/catalog/certificate_types.json"
    # Unknown share tokens one address may try in a minute (亮证 links are verified without login).
    share_misses_per_minute: int = Field(20, ge=1, le=10_000)


class MattersConfig(_Section):
    catalog_file: str = "config/catalog/matters.json"
    bundles_file: str = "config/catalog/bundles.json"
    upload_dir: str = "var/uploads"
    hosted_issuer_keys_dir: str = ""


class NotificationsConfig(_Section):
    max_attempts: int = Field(5, ge=1, le=20)
    base_backoff_seconds: float = Field(2.0, ge=0.01, le=600)
    lease_seconds: float = Field(30.0, ge=0.5, le=600)
    poll_seconds: float = Field(0.5, ge=0.01, le=60)
    wechat_template_id: str = Field("tpl-application-progress-dev", min_length=1)


class WeChatConfig(_Section):
    appid: str = Field(pattern=r"^wx[0-9a-zA-Z]{16}$")
    secret: str = Field(min_length=1)
    api_base_url: str = ""
    timeout_seconds: float = Field(5.0, gt=0, le=60)
    # The official account (公众号/服务号) whose web authorisation (snsapi_base) gives the H5,
    # opened inside WeChat, the payer's openid for JSAPI payment. Empty: no paying inside
    # WeChat's browser (the H5 points to the mini-program). oauth_base_url: WeChat's
    # https://open.weixin.qq.com/connect in production; empty = <api_base_url>/connect (the fake).
    oa_appid: str = Field("", pattern=r"^(wx[0-9a-zA-Z]{16})?$")
    oa_secret: str = ""
    oauth_base_url: str = ""

    @model_validator(mode="after")
    def _oa(self) -> "WeChatConfig":
        if self.oa_appid and not self.oa_secret:
            raise ValueError("oa_secret is required with oa_appid")
        return self

    @field_validator("api_base_url", "oauth_base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/")


class SmsConfig(_Section):
    sender: Literal["dev", "http"] = "dev"
    gateway_url: str = ""
    gateway_token: str = ""
    sign_name: str = "政务超级应用"
    code_ttl_seconds: int = Field(300, ge=1, le=1800)
    max_wrong_attempts: int = Field(5, ge=1, le=20)
    resend_interval_seconds: int = Field(60, ge=1, le=600)
    daily_limit_per_phone: int = Field(10, ge=1, le=100)
    hourly_sends_per_ip: int = Field(30, ge=1, le=10_000)
    verifies_per_ip_per_minute: int = Field(30, ge=1, le=10_000)
    # Login codes by region: the gateway's template id and sign. Hong Kong, Macao and Taiwan
    # (+852 / +853 / +886) get traditional characters, other countries English.
    login_template: str = Field("login_code", min_length=1, max_length=64)
    login_template_hmt: str = Field("login_code_hmt", min_length=1, max_length=64)
    login_template_international: str = Field("login_code_intl", min_length=1, max_length=64)
    sign_name_hmt: str = Field("政務超級應用", min_length=1, max_length=32)
    sign_name_international: str = Field("Gov Super App", min_length=1, max_length=32)
    # Messages to numbers outside the mainland (HMT included) cost more: at most this many a
    # day (China time) for the whole platform; then 429 sms_international_budget_exhausted.
    international_daily_budget: int = Field(2000, ge=0, le=10_000_000)


class VerificationConfig(_Section):
    provider: Literal["dev", "http"] = "dev"
    url: str = ""
    token: str = ""
    timeout_seconds: float = Field(5.0, gt=0, le=60)


class RegistryConfig(_Section):
    provider: Literal["dev", "http"] = "dev"
    url: str = ""
    token: str = ""
    timeout_seconds: float = Field(5.0, gt=0, le=60)


class AccountsConfig(_Section):
    # 用户协议 and 隐私政策: one Markdown file per document, its version in the front matter.
    agreements_dir: str = "config/agreements"


class HallsConfig(_Section):
    # Service halls: the map, opening hours, windows, queues and appointment rules.
    catalog_file: str = "config/catalog/halls.json"
    no_show_every_seconds: float = Field(300.0, ge=5, le=3600)


class PoliciesConfig(_Section):
    # 政策兑现: the policy catalog and the bank or treasury that pays claims (HMAC-signed
    # requests; in development a fake on loopback). The key comes from the environment:
    # SUPERAPP_POLICIES__BANK_KEY.
    catalog_file: str = "config/catalog/policies.json"
    bank_url: str = ""
    bank_key: str = ""


class PaymentsConfig(_Section):
    # Fees paid with WeChat Pay API v3. merchants_file: JSON {merchant id: {mchid, appid, serial_no,
    # private_key_file, public_key_id, public_key_file}} (ids as the matter catalog's
    # charges.collector.merchant); each merchant's APIv3 key from the environment:
    # SUPERAPP_PAYMENTS__APIV3_KEYS='{"gz-psb": "..."}'. Empty in development: fake merchants on
    # a fake WeChat Pay on loopback. api_base_url: another gateway (WeChat's when empty).
    merchants_file: str = ""
    apiv3_keys: str = ""  # JSON object: merchant id -> APIv3 key (a secret: from the environment)
    api_base_url: str = ""
    notify_url: str = ""  # default: <public base URL>/api/v1/payments/wechat/notify
    expire_minutes: int = Field(30, ge=5, le=120)
    # an order not confirmed by a notification is queried after this long (the worker's sweep)
    query_after_seconds: float = Field(120.0, ge=1, le=3600)
    sweep_every_seconds: float = Field(60.0, ge=1, le=3600)
    timeout_seconds: float = Field(10.0, gt=0, le=60)


class TicketsConfig(_Section):
    # 12345: kinds, time limits, categories and departments; the knowledge base.
    catalog_file: str = "config/catalog/tickets.json"
    knowledge_file: str = "config/catalog/knowledge.json"
    supervise_every_seconds: float = Field(60.0, ge=1, le=3600)
