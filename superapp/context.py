"""Building the product: storage clients first, then every service once, each given what it
needs in its constructor (nothing is wired afterwards). Where two domains need each other,
a port breaks the cycle: consent receives the wallet's certificate delivery as a function,
the codes service receives consent's purposes lookup, the ratings service tells the tickets'
lifecycle when a rectification closes."""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from card_wallet.catalog import Catalog, load_catalog
from card_wallet.certificates import Certificates, IssuerRegistry
from card_wallet.holding.service import HoldingService
from card_wallet.holding.storage import HoldingStore
from card_wallet.issuing.service import IssuingService
from card_wallet.issuing.storage import CertificateStore
from identity.accounts.service import AccountService
from card_wallet.audit_names import AUDIT_ACTIONS as wallet_actions
from halls.booking.service import BookingService
from halls.calling.service import CallingService
from halls.catalog import load_halls
from halls.live import QueueLive
from halls.queue.service import QueueService
from halls.service import HallService
from halls.storage import HallStore
from identity.dependents import Dependents
from identity.proxying import PersonActing
from proxies.service import ProxyService
from proxies.storage import GrantStore
from payments.audit_names import AUDIT_ACTIONS as payments_actions
from payments.provider import Merchant, WeChatPayGateway
from payments.receipts import Receipts
from payments.reconciliation import Reconciliation
from payments.service import PaymentService
from payments.settling import Settlement
from payments.storage import Ledger, OrderStore, ReconciliationStore
from policies.audit_names import AUDIT_ACTIONS as policies_actions
from policies.bank import HttpPayoutProvider, NoPayouts, PayoutProvider
from policies.catalog import load_policies
from policies.claims import ClaimService
from policies.service import PolicyService
from policies.storage import ClaimStore, RecheckStore
from identity.actors import ActorNames
from identity.audit_names import AUDIT_ACTIONS as identity_actions
from matters.audit_names import AUDIT_ACTIONS as matters_actions
from tickets.audit_names import AUDIT_ACTIONS as tickets_actions
from halls.audit_names import AUDIT_ACTIONS as halls_actions
from proxies.audit_names import AUDIT_ACTIONS as proxies_actions
from identity.accounts.sms import SmsCodes
from identity.accounts.storage import PersonStore, RegistryStore, SmsCodeStore
from identity.agreements.service import Agreements, load_agreements
from identity.agreements.storage import AcceptanceStore
from identity.authenticator import IdentityAuthenticator
from identity.closure.service import AccountClosure
from identity.codes.codec import CodeKeys, kid_of
from identity.codes.recorder import ScanRecorder
from identity.codes.service import CodeService
from identity.codes.storage import CodeStore
from identity.consent.service import ConsentService
from identity.consent.storage import ConsentStore
from identity.devices.service import DeviceService
from identity.devices.storage import DeviceStore
from identity.enterprises.service import EnterpriseService
from identity.enterprises.storage import EnterpriseStore
from identity.facade import Directory
from identity.items import ItemCatalog
from identity.registry import (
    DevEnterpriseRegistry,
    EnterpriseRegistry,
    HttpEnterpriseRegistry,
)
from identity.sessions.service import Sessions
from identity.sessions.storage import RefreshTokenStore, SessionState
from identity.sessions.tokens import AccessTokens, load_signing_keys
from identity.staff.service import StaffService
from identity.staff.storage import StaffStore
from identity.verification import (
    DevRegistryProvider,
    HttpVerificationProvider,
    VerificationProvider,
)
from identity.wechat_web.service import WebAuthorization
from identity.wechat_web.storage import AuthorizeStates
from matters.applicant import Sources
from matters.applying.service import ApplyingService
from matters.bundles.service import BundleService, load_bundles
from matters.bundles.storage import BundleStore
from matters.catalog import MatterCatalog, load_matters
from matters.kiosk.service import KioskMatters
from matters.lifecycle import Lifecycle
from matters.ratings.service import RatingService
from matters.ratings.storage import RatingStore
from matters.results import ResultIssuer, hosted_clients
from matters.reviewing.service import ReviewService
from matters.storage import ApplicationStore
from notifications.service import Notifications
from notifications.storage import NotificationStore
from tickets.catalog import load_ticket_catalog
from tickets.desk.service import TicketDesk
from tickets.lifecycle import TicketLifecycle
from tickets.open311.service import Open311
from tickets.service import TicketService
from tickets.storage import TicketStore
from server.audit import ActionNames, AuditTrail
from server.config import DEMO_CODE_KEY_FILE, DEMO_TOKEN_KEY_FILE, Settings
from server.events import EventHub
from server.idempotency import Idempotency
from server.keys import thumbprint
from server.pii import PiiCipher
from server.providers.sms import DevOutboxSender, HttpSmsSender, SmsSender
from server.providers.wechat import OfficialAccount, WeChatGateway
from server.storage import mongo as mongo_storage
from server.storage import redis as redis_storage
from server.storage.audit import AuditStore
from server.storage.idempotency import IdempotencyStore
from server.storage.limits import Limits

if TYPE_CHECKING:
    from superapp.demo import DemoData


log = logging.getLogger("superapp")

@dataclass
class Clients:
    """Connections and keys, made before anything else (no I/O yet)."""

    settings: Settings
    mongo: AsyncMongoClient
    db: AsyncDatabase
    redis: redis_storage.Client
    keys: redis_storage.Keys
    pii: PiiCipher
    executor: ThreadPoolExecutor
    redis_url: str

    @classmethod
    def make(cls, settings: Settings, mongo_uri: str, redis_url: str) -> "Clients":
        s = settings
        mongo = mongo_storage.make_client(s, mongo_uri)
        return cls(s, mongo, mongo_storage.database(mongo, s), redis_storage.make_client(s.redis, redis_url),
                   redis_storage.Keys(s.redis.key_prefix, one_node=s.redis.mode != "cluster"),
                   PiiCipher(s.security.key_bytes("pii_encryption_key"), s.security.key_bytes("blind_index_key")),
                   ThreadPoolExecutor(max_workers=8, thread_name_prefix="superapp-sync"), redis_url)

    async def close(self) -> None:
        """Close both clients, each within a few seconds: a server that has gone away must
        not hold up a shutdown."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        for name, closing in (("Redis", self.redis.aclose()), ("MongoDB", self.mongo.close())):
            try:
                await asyncio.wait_for(closing, 5)
            except (asyncio.TimeoutError, OSError) as e:
                log.warning("%s client did not close cleanly: %r", name, e)


@dataclass
class AppContext:
    clients: Clients
    audit: AuditTrail
    events: EventHub
    idempotency: Idempotency
    wechat: WeChatGateway
    sms_outbox: DevOutboxSender | None
    # identity
    sessions: Sessions
    authenticator: IdentityAuthenticator
    directory: Directory
    agreements: Agreements
    accounts: AccountService
    closure: AccountClosure
    wechat_web: WebAuthorization
    enterprises: EnterpriseService
    items: ItemCatalog
    codes: CodeService
    consents: ConsentService
    devices: DeviceService
    staff: StaffService
    recorder: ScanRecorder
    # wallet
    catalog: Catalog
    issuing: IssuingService
    wallet: HoldingService
    # notifications and matters
    notifications: Notifications
    matters_catalog: MatterCatalog
    lifecycle: Lifecycle
    applying: ApplyingService
    reviewing: ReviewService
    bundles: BundleService
    ratings: RatingService
    kiosk: KioskMatters
    # 12345
    ticket_lifecycle: TicketLifecycle
    tickets: TicketService
    ticket_desk: TicketDesk
    open311: Open311
    # service halls
    halls: HallService
    booking: BookingService
    hall_queue: QueueService
    calling: CallingService
    # 亲友代办
    proxies: ProxyService
    acting_persons: PersonActing
    # 政策兑现
    policies: PolicyService
    policy_claims: ClaimService
    # 缴费
    payments: PaymentService
    reconciliation: Reconciliation
    payment_gateway: WeChatPayGateway
    demo: "DemoData | None" = None
    started_at: float = field(default_factory=time.time)

    # Shortcuts to the clients (operations and tests).
    @property
    def settings(self) -> Settings:
        return self.clients.settings

    @property
    def db(self) -> AsyncDatabase:
        return self.clients.db

    @property
    def mongo(self) -> AsyncMongoClient:
        return self.clients.mongo

    @property
    def redis(self) -> redis_storage.Client:
        return self.clients.redis

    @property
    def keys(self) -> redis_storage.Keys:
        return self.clients.keys

    @property
    def pii(self) -> PiiCipher:
        return self.clients.pii

    async def close(self) -> None:
        self.wechat.close()
        await self.payment_gateway.close()
        await self.clients.close()


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


def hosted_issuer_keys(settings: Settings, demo: "DemoData | None") -> dict[str, str]:
    """Issuer code -> private key PEM of the departments whose results the platform signs."""
    from pathlib import Path

    keys: dict[str, str] = {}
    if demo is not None:
        keys.update({i.code: i.private_key_pem for i in demo.issuers})
    if settings.matters.hosted_issuer_keys_dir:
        for path in Path(settings.path(settings.matters.hosted_issuer_keys_dir)).glob("*.pem"):
            keys[path.stem] = path.read_text()
    return keys


def payout_provider(settings: Settings, bank_url: str) -> PayoutProvider:
    """The bank that pays policy claims: ``[policies] bank_url`` with its HMAC key
    (``SUPERAPP_POLICIES__BANK_KEY``), else in development the fake on loopback (``bank_url``)."""
    from superapp.fakes.bank import DEV_KEY

    url = settings.policies.bank_url or bank_url
    key = settings.policies.bank_key.encode() or (DEV_KEY if settings.is_dev else b"")
    return HttpPayoutProvider(url, key) if url and key else NoPayouts()


async def build_context(c: Clients, wechat_base_url: str, public_base_url: str,
                        demo: "DemoData | None" = None, bank_url: str = "",
                        wechatpay: tuple[str, dict[str, Merchant]] = ("", {})) -> AppContext:
    """``wechatpay``: WeChat Pay's gateway (empty: WeChat's) and the merchant accounts (in
    development, the fake's)."""
    """Every service, once. The storage must be reachable (hosted issuer keys are looked up)."""
    s, db, redis, keys, pii = c.settings, c.db, c.redis, c.keys, c.pii
    audit = AuditTrail(AuditStore(db))
    events = EventHub(redis, keys)
    idempotency = Idempotency(IdempotencyStore(db))
    limits = Limits(redis, keys)

    # -- identity -------------------------------------------------------------------------------
    signing_keys = load_signing_keys([s.path(f) for f in s.tokens.signing_key_files],
                                     forbidden_thumbprints=_demo_token_thumbprints(s))
    sessions = Sessions(AccessTokens(signing_keys, s.tokens.issuer, s.tokens.access_ttl_seconds),
                        RefreshTokenStore(db), SessionState(redis, keys),
                        s.tokens.refresh_ttl_days, s.tokens.refresh_reuse_grace_seconds, events)
    outbox = DevOutboxSender(redis, keys, pii) if s.sms.sender == "dev" else None
    sender: SmsSender = outbox or HttpSmsSender(s.sms.gateway_url, s.sms.gateway_token, s.sms.sign_name)
    verifier: VerificationProvider = (
        DevRegistryProvider(RegistryStore(db), pii, f"{public_base_url}/api/v1/dev/face")
        if s.verification.provider == "dev"
        else HttpVerificationProvider(s.verification.url, s.verification.token, s.verification.timeout_seconds))
    registry: EnterpriseRegistry = (
        DevEnterpriseRegistry(RegistryStore(db)) if s.registry.provider == "dev"
        else HttpEnterpriseRegistry(s.registry.url, s.registry.token, pii, s.registry.timeout_seconds))
    official_account = (OfficialAccount(s.wechat.oa_appid, s.wechat.oa_secret, s.wechat.oauth_base_url)
                        if s.wechat.oa_appid else None)
    wechat = WeChatGateway(wechat_base_url, s.wechat.appid, s.wechat.secret,
                           redis_storage.make_sync_client(s.redis, c.redis_url),
                           s.redis.key_prefix, c.executor, s.wechat.timeout_seconds, official_account)
    persons = PersonStore(db)
    enterprise_store = EnterpriseStore(db)
    directory = Directory(persons, enterprise_store, pii, s.wechat.appid, s.wechat.oa_appid)
    # The wallet's holding side, notifications and 政策兑现 first: identity (an enterprise bound)
    # and issuing (a certificate issued) tell policies through ports given at construction.
    catalog = load_catalog(s.path(s.wallet.catalog_file))
    certificate_store = CertificateStore(db, redis, keys)
    certificates = Certificates(certificate_store, IssuerRegistry(certificate_store), directory, pii)
    wallet = HoldingService(HoldingStore(db), certificate_store, certificates, catalog, directory, audit, limits,
                            s.wallet.share_misses_per_minute, public_base_url, s.wallet.font_path)
    notifications = Notifications(NotificationStore(db), directory, wechat, sender, events, s.notifications)
    sources = Sources(directory, wallet)
    policy_catalog = load_policies(s.path(s.policies.catalog_file), catalog)
    policy_claims = ClaimService(ClaimStore(db), policy_catalog, payout_provider(s, bank_url), pii, audit,
                                 notifications, f"{public_base_url}/api/v1/policy-payouts/callback")
    policies = PolicyService(policy_catalog, sources, directory, RecheckStore(db), policy_claims, notifications)
    agreements = Agreements(AcceptanceStore(db), load_agreements(s.path(s.accounts.agreements_dir)))
    staff_store, device_store = StaffStore(db), DeviceStore(db, redis, keys)
    actor_names = ActorNames(persons, staff_store, device_store, pii,
                             ActionNames(identity_actions, wallet_actions, matters_actions, tickets_actions,
                                         halls_actions, proxies_actions, policies_actions, payments_actions))
    sms_codes = SmsCodes(SmsCodeStore(redis, keys), sender, pii, s.sms)
    accounts = AccountService(persons, sessions, sms_codes, wechat, verifier, audit, pii, limits, agreements,
                              actor_names, public_base_url)
    enterprises = EnterpriseService(enterprise_store, persons, registry, audit, pii, sessions, actor_names,
                                    on_bound=policies.holder_changed)
    demo_code_key = _demo_public_key(s, DEMO_CODE_KEY_FILE)
    code_keys = CodeKeys.load([s.path(f) for f in s.codes.signing_key_files],
                              forbidden=[kid_of(demo_code_key)] if demo_code_key is not None else [])
    items = ItemCatalog()
    catalog.register_items(items)
    consent_store = ConsentStore(db)
    code_store = CodeStore(redis, keys, db)
    codes = CodeService(code_keys, code_store, directory, enterprises, items, audit, limits, s.codes,
                        purposes=consent_store.purposes_of)

    # -- wallet ---------------------------------------------------------------------------------
    issuing = IssuingService(certificate_store, certificates, catalog, sessions, limits, idempotency, audit, pii,
                             on_issued=policies.holder_changed)
    consents = ConsentService(consent_store, codes, directory, items, audit, events, s.codes,
                              certificate_source=wallet.deliver_for_consent)

    # -- notifications and matters ----------------------------------------------------------------
    matters_catalog = load_matters(s.path(s.matters.catalog_file), catalog)
    applications = ApplicationStore(db)
    # fees before the lifecycle: 受理 / 办结 wait for them, and each state change reaches them
    hosted = await hosted_clients(hosted_issuer_keys(s, demo), issuing)
    payment_gateway = WeChatPayGateway(wechatpay[1], s.payments.notify_url or
                                       f"{public_base_url}/api/v1/payments/wechat/notify", wechatpay[0],
                                       s.payments.timeout_seconds)
    ledger, orders = Ledger(db), OrderStore(db)
    settlement = Settlement(orders, ledger, payment_gateway, Receipts(hosted, issuing, directory), notifications,
                            audit)
    payments = PaymentService(orders, settlement, matters_catalog, sources, payment_gateway, directory, idempotency,
                              public_base_url, s.payments.expire_minutes)
    lifecycle = Lifecycle(applications, matters_catalog, audit, notifications, fees=payments)
    results = ResultIssuer(hosted, issuing)
    hall_directory = load_halls(s.path(s.halls.catalog_file), matters_catalog)
    hall_store = HallStore(db)
    halls = HallService(hall_directory, hall_store)  # built first: a matter's guide lists its halls
    applying = ApplyingService(matters_catalog, applications, lifecycle, sources, results, idempotency, audit,
                               s.path(s.matters.upload_dir), places=halls.places)
    ticket_store = TicketStore(db)
    ticket_catalog = load_ticket_catalog(s.path(s.tickets.catalog_file), s.path(s.tickets.knowledge_file))
    ticket_lifecycle = TicketLifecycle(ticket_store, ticket_catalog, audit, notifications)
    ratings = RatingService(RatingStore(db), applications, applying, lifecycle, codes, audit,
                            on_rectified=ticket_lifecycle.rectified)
    tickets = TicketService(ticket_store, ticket_catalog, ticket_lifecycle, directory, applying, ratings, codes,
                            idempotency, limits, pii)
    # -- service halls ------------------------------------------------------------------------------
    booking = BookingService(halls, hall_directory, hall_store, idempotency, audit, pii)
    hall_live = QueueLive(hall_directory, hall_store, events, notifications)
    hall_queue = QueueService(halls, hall_directory, hall_store, booking, codes, directory, hall_live, audit)
    # -- 亲友代办 ----------------------------------------------------------------------------------------
    proxies = ProxyService(GrantStore(db), directory, wallet, Dependents(persons, pii, audit), notifications, audit)
    acting_persons = PersonActing(sessions, directory, proxies, audit)
    closure = AccountClosure(persons, enterprise_store, sessions, codes, sms_codes, wechat, audit, pii,
                             obligations=[applying.open_obligations, payments.open_obligations],
                             erasers=[applying.forget_applicant, payments.forget_applicant],
                             resend_interval=s.sms.resend_interval_seconds)
    return AppContext(
        clients=c, audit=audit, events=events, idempotency=idempotency, wechat=wechat, sms_outbox=outbox,
        sessions=sessions, authenticator=IdentityAuthenticator(sessions, enterprises, acting_persons), directory=directory,
        agreements=agreements, accounts=accounts, closure=closure,
        wechat_web=WebAuthorization(AuthorizeStates(redis, keys), persons, wechat, audit, limits, public_base_url),
        enterprises=enterprises, items=items, codes=codes, consents=consents,
        devices=DeviceService(device_store, sessions, limits, audit,
                              s.codes.device_assertion_audience),
        staff=StaffService(staff_store, sessions, limits, pii, audit), recorder=ScanRecorder(code_store),
        catalog=catalog, issuing=issuing, wallet=wallet, notifications=notifications,
        matters_catalog=matters_catalog, lifecycle=lifecycle, applying=applying,
        reviewing=ReviewService(matters_catalog, applications, lifecycle, sources, results, wallet),
        bundles=BundleService(load_bundles(s.path(s.matters.bundles_file), matters_catalog), BundleStore(db),
                              applications, applying, lifecycle, idempotency),
        ratings=ratings, kiosk=KioskMatters(applying, applications, consents, codes, ratings),
        ticket_lifecycle=ticket_lifecycle, tickets=tickets,
        ticket_desk=TicketDesk(ticket_store, ticket_catalog, ticket_lifecycle, tickets, directory, applying, audit),
        open311=Open311(ticket_store, ticket_catalog, ticket_lifecycle, tickets, limits, pii, audit, public_base_url),
        halls=halls, booking=booking, hall_queue=hall_queue,
        calling=CallingService(hall_directory, hall_store, hall_queue, hall_live),
        proxies=proxies, acting_persons=acting_persons, policies=policies, policy_claims=policy_claims,
        payments=payments, reconciliation=Reconciliation(ledger, ReconciliationStore(db), orders, payment_gateway,
                                                         matters_catalog),
        payment_gateway=payment_gateway,
        demo=demo,
    )
