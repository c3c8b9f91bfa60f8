"""The application context: every dependency, built once at start-up and passed in."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from card_wallet.catalog import Catalog, load_catalog
from card_wallet.issuers import IssuerService
from card_wallet.service import WalletService
from card_wallet.storage import WalletStore
from identity.code_service import CodeService
from server.matters.catalog import load_matters
from server.matters.bundles import BundleService, load_bundles
from server.matters.ratings import RatingService
from server.matters.kiosk import KioskMatters
from server.notifications import Notifier
from server.storage.notifications import NotificationStore
from server.matters.service import MatterService
from server.matters.storage import MatterStore, RatingStore
from identity.code_storage import CodeStore
from identity.codes import CodeKeys, kid_of
from identity.consent import ConsentService
from identity.devices import DeviceService
from identity.enterprises import EnterpriseService
from identity.items import ItemCatalog
from identity.staff import StaffService
from identity.registry import DevEnterpriseRegistry, EnterpriseRegistry, HttpEnterpriseRegistry
from identity.service import IdentityService
from identity.sessions import Sessions
from identity.sms import DevOutboxSender, HttpSmsSender, SmsCodes, SmsSender
from identity.storage import (AttemptCounter, DeviceStore, EnterpriseStore, PersonStore, RefreshTokenStore,
                              RegistryStore, SessionState, SmsCodeStore, StaffStore)
from identity.tokens import AccessTokens, load_signing_keys
from identity.verification import DevRegistryProvider, HttpVerificationProvider, VerificationProvider
from identity.wechat import WeChatGateway
from server.audit import AuditTrail
from server.config import DEMO_CODE_KEY_FILE, DEMO_TOKEN_KEY_FILE, Settings
from server.events import EventHub
from server.keys import thumbprint
from server.pii import PiiCipher
from server.recorder import ScanRecorder
from server.storage import mongo as mongo_storage
from server.storage import redis as redis_storage
from server.storage.audit import AuditStore
from server.storage.fastredis import FastRedis

if TYPE_CHECKING:
    from server.demo import DemoData


@dataclass
class AppContext:
    settings: Settings
    mongo: AsyncMongoClient
    db: AsyncDatabase
    redis: aioredis.Redis
    fast_redis: FastRedis
    keys: redis_storage.Keys
    pii: PiiCipher
    executor: ThreadPoolExecutor
    audit: AuditTrail
    sessions: Sessions
    wechat: WeChatGateway
    identity: IdentityService
    enterprises: EnterpriseService
    items: ItemCatalog
    catalog: Catalog
    wallet: WalletService
    issuers: IssuerService
    matters: MatterService
    ratings: RatingService
    kiosk_matters: KioskMatters
    bundles: BundleService
    notifier: Notifier
    codes: CodeService
    consents: ConsentService
    devices: DeviceService
    staff: StaffService
    events: EventHub
    recorder: ScanRecorder
    sms_outbox: DevOutboxSender | None
    demo: "DemoData | None" = None
    started_at: float = field(default_factory=time.time)

    async def close(self) -> None:
        self.wechat.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        await self.fast_redis.close()
        await self.redis.aclose()
        await self.mongo.close()


def _demo_public_key(settings: Settings, relative: str):  # noqa: ANN202
    """The public half of a committed demo key, which production refuses under any file name."""
    from cryptography.hazmat.primitives import serialization

    path = settings.root / relative
    if settings.is_dev or not path.exists():
        return None
    return serialization.load_pem_private_key(path.read_bytes(), password=None).public_key()


def _demo_token_thumbprints(settings: Settings) -> list[str]:
    from cryptography.hazmat.primitives import serialization

    key = _demo_public_key(settings, DEMO_TOKEN_KEY_FILE)
    if key is None:
        return []
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return [thumbprint(pem.decode())]


async def build_context(settings: Settings, mongo_uri: str, redis_url: str, wechat_base_url: str) -> AppContext:
    s = settings
    mongo = mongo_storage.make_client(s, mongo_uri)
    redis = redis_storage.make_client(redis_url)
    fast = FastRedis(redis_url)
    keys = redis_storage.Keys(s.redis.key_prefix)
    db = mongo_storage.database(mongo, s)
    pii = PiiCipher(s.security.key_bytes("pii_encryption_key"), s.security.key_bytes("blind_index_key"))
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="superapp-sync")

    signing_keys = load_signing_keys([s.path(f) for f in s.tokens.signing_key_files],
                                     forbidden_thumbprints=_demo_token_thumbprints(s))
    sessions = Sessions(
        AccessTokens(signing_keys, s.tokens.issuer, s.tokens.access_ttl_seconds),
        RefreshTokenStore(db), SessionState(redis, keys, fast),
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
    enterprise_store = EnterpriseStore(db)
    enterprises = EnterpriseService(enterprise_store, persons, registry, audit, pii, sessions)
    demo_code_key = _demo_public_key(s, DEMO_CODE_KEY_FILE)
    code_keys = CodeKeys.load([s.path(f) for f in s.codes.signing_key_files],
                              forbidden=[kid_of(demo_code_key)] if demo_code_key is not None else [])
    items = ItemCatalog()
    catalog = load_catalog(s.path(s.wallet.catalog_file))
    catalog.register_items(items)
    code_store = CodeStore(redis, keys, db, fast)
    attempts = AttemptCounter(redis, keys)
    wallet_store = WalletStore(db)
    wallet = WalletService(wallet_store, catalog, persons, enterprise_store, audit, pii, s.http.public_base_url,
                           s.wallet.font_path)
    consents = ConsentService(code_store, persons, enterprise_store, items, audit, pii, s.codes)
    consents.certificate_source = wallet.deliver_for_consent
    matter_store = MatterStore(db)
    matters = MatterService(load_matters(s.path(s.matters.catalog_file), catalog), matter_store, persons,
                            enterprise_store, wallet, audit, pii, s.path(s.matters.upload_dir), {})
    events = EventHub(redis, keys)
    notifier = Notifier(NotificationStore(db), matter_store, persons, pii, wechat, sender, events, s)
    matters.notifier = notifier
    ratings = RatingService(RatingStore(db), matters, audit, code_store)
    return AppContext(
        settings=s, mongo=mongo, db=db, redis=redis, fast_redis=fast, keys=keys, pii=pii, executor=executor, audit=audit,
        sessions=sessions, wechat=wechat, identity=identity, enterprises=enterprises, items=items,
        catalog=catalog, wallet=wallet, issuers=IssuerService(wallet_store, catalog, sessions, attempts, audit),
        codes=CodeService(code_keys, code_store, persons, enterprises, enterprise_store, items, audit, s.codes),
        consents=consents,
        matters=matters, ratings=ratings, kiosk_matters=KioskMatters(matters, consents, ratings, persons), notifier=notifier,
        bundles=BundleService(load_bundles(s.path(s.matters.bundles_file), matters.catalog), matters),
        devices=DeviceService(DeviceStore(db), code_store, sessions, attempts, audit, s.codes.device_assertion_audience),
        staff=StaffService(StaffStore(db), sessions, attempts, pii, audit),
        events=events, recorder=ScanRecorder(code_store), sms_outbox=outbox,
    )
