"""Every collection and index the product uses, gathered from each storage module."""
from __future__ import annotations

from types import ModuleType

from card_wallet.holding import storage as holding_storage
from card_wallet.issuing import storage as issuing_storage
from halls import storage as halls_storage
from identity.accounts import storage as accounts_storage
from identity.agreements import storage as agreements_storage
from identity.codes import storage as codes_storage
from identity.consent import storage as consent_storage
from identity.devices import storage as devices_storage
from identity.enterprises import storage as enterprises_storage
from identity.sessions import storage as sessions_storage
from identity.staff import storage as staff_storage
from matters import storage as matters_storage
from matters.bundles import storage as bundles_storage
from matters.ratings import storage as ratings_storage
from notifications import storage as notifications_storage
from payments import storage as payments_storage
from policies import storage as policies_storage
from proxies import storage as proxies_storage
from tickets import storage as tickets_storage
from server.storage import audit as audit_storage
from server.storage import idempotency as idempotency_storage
from server.storage.mongo import CollectionSpec

STORAGE_MODULES: list[ModuleType] = [
    audit_storage, idempotency_storage,
    accounts_storage, agreements_storage, sessions_storage, enterprises_storage, staff_storage, devices_storage, codes_storage,
    consent_storage,
    issuing_storage, holding_storage,
    matters_storage, bundles_storage, ratings_storage,
    notifications_storage,
    tickets_storage,
    halls_storage,
    proxies_storage,
    policies_storage,
    payments_storage,
]


def all_collections() -> list[CollectionSpec]:
    return [spec for module in STORAGE_MODULES for spec in module.COLLECTIONS]
