"""Every collection and index the product uses, gathered from each domain's storage module."""
from __future__ import annotations

from card_wallet import storage as wallet_storage
from identity import code_storage
from identity import storage as identity_storage
from server.matters import storage as matters_storage
from server.storage import audit as audit_storage
from server.storage import notifications as notification_storage
from server.storage.mongo import CollectionSpec


def all_collections() -> list[CollectionSpec]:
    return [*audit_storage.COLLECTIONS, *identity_storage.COLLECTIONS, *code_storage.COLLECTIONS,
            *wallet_storage.COLLECTIONS, *matters_storage.COLLECTIONS, *notification_storage.COLLECTIONS]
