"""The application context: every dependency, built once at start-up and passed in."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from identity.enterprises import EnterpriseService
from identity.registry import DevEnterpriseRegistry, EnterpriseRegistry, HttpEnterpriseRegistry
from identity.service import IdentityService
from identity.sessions import Sessions
from identity.sms import DevOutboxSender, HttpSmsSender, SmsCodes, SmsSender
from identity.storage import (AttemptCounter, EnterpriseStore, PersonStore, RefreshTokenStore, RegistryStore,
                              SessionState, SmsCodeStore)
from identity.tokens import AccessTokens, load_signing_keys
from identity.verification import DevRegistryProvider, HttpVerificationProvider, VerificationProvider
from identity.wechat import WeChatGateway
from server.audit import AuditTrail
from server.config import DEMO_TOKEN_KEY_FILE, Settings
from server.keys import thumbprint
from server.pii import PiiCipher
from server.storage import mongo as mongo_storage
from server.storage import redis as redis_storage
from server.storage.audit import AuditStore

if TYPE_CHECKING:
    from server.demo import DemoData


@dataclass
class AppContext:
    settings: Settings
    mongo: AsyncMongoClient
    db: AsyncDatabase
    redis: aioredis.Redis
    keys: redis_storage.Keys
    pii: PiiCipher
    executor: ThreadPoolExecutor
    audit: AuditTrail
    sessions: Sessions
    wechat: WeChatGateway
    identity: IdentityService
    enterprises: EnterpriseService
    sms_outbox: DevOutboxSender | None
    demo: "DemoData | None" = None
    started_at: float = field(default_factory=time.time)

    async def close(self) -> None:
        self.wechat.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        await self.redis.aclose()
        await self.mongo.close()


def _demo_token_thumbprints(settings: Settings) -> list[str]:
    """Production refuses the public demo signing key, wherever the file is copied to."""
    if settings.is_dev:
        return []
    from cryptography.hazmat.primitives import serialization

    path = settings.root / DEMO_TOKEN_KEY_FILE
    if not path.exists():
        return []
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return [thumbprint(pem.decode())]


async def build_context(settings: Settings, mongo_uri: str, redis_url: str, wechat_base_url: str) -> AppContext:
    s = settings
    mongo = mongo_storage.make_client(s, mongo_uri)
    redis = redis_storage.make_client(redis_url)
    keys = redis_storage.Keys(s.redis.key_prefix)
    db = mongo_storage.database(mongo, s)
    pii = PiiCipher(s.security.key_bytes("pii_encryption_key"), s.security.key_bytes("blind_index_key"))
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="superapp-sync")

    signing_keys = load_signing_keys([s.path(f) for f in s.tokens.signing_key_files],
                                     forbidden_thumbprints=_demo_token_thumbprints(s))
    sessions = Sessions(
        AccessTokens(signing_keys, s.tokens.issuer, s.tokens.access_ttl_seconds),
        RefreshTokenStore(db), SessionState(redis, keys),
        s.tokens.refresh_ttl_days, s.tokens.refresh_reuse_grace_seconds,
    )
    sms_store = SmsCodeStore(redis, keys)
    outbox = DevOutboxSender(sms_store, pii) if s.sms.sender == "dev" else None
    sender: SmsSender = outbox or HttpSmsSender(s.sms.gateway_url, s.sms.gateway_token, s.sms.sign_name)
    verifier: VerificationProvider = (
        DevRegistryProvider(RegistryStore(db), pii) if s.verification.provider == "dev"
        else HttpVerificationProvider(s.verification.url, s.verification.token, s.verification.timeout_seconds)
    )
    wechat = WeChatGateway(wechat_base_url, s.wechat.appid, s.wechat.secret, redis_url, s.redis.key_prefix,
                           executor, s.wechat.timeout_seconds)
    audit = AuditTrail(AuditStore(db))
    persons = PersonStore(db)
    identity = IdentityService(
        persons, sessions, SmsCodes(sms_store, sender, pii, s.sms), wechat, verifier, audit, pii,
        AttemptCounter(redis, keys),
    )
    registry: EnterpriseRegistry = (
        DevEnterpriseRegistry(RegistryStore(db)) if s.registry.provider == "dev"
        else HttpEnterpriseRegistry(s.registry.url, s.registry.token, pii, s.registry.timeout_seconds)
    )
    enterprises = EnterpriseService(EnterpriseStore(db), persons, registry, audit, pii, sessions)
    return AppContext(
        settings=s, mongo=mongo, db=db, redis=redis, keys=keys, pii=pii, executor=executor, audit=audit,
        sessions=sessions, wechat=wechat, identity=identity, enterprises=enterprises, sms_outbox=outbox,
    )
