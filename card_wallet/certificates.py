"""Reading certificates as the wallet and its verifiers see them: content (decrypted),
status as of today, the signature and issuer-trust check, and whose wallet a certificate
belongs to. Shared by issuing and holding; verifying many certificates reads each issuer
and key once."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

from card_wallet.issuing.storage import CertificateStore
from card_wallet.signing import verify_content
from identity.facade import Directory
from server.pii import PiiCipher

CHINA = timezone(timedelta(hours=8))
EXPIRING_DAYS = 30


def today() -> date:
    return datetime.now(CHINA).date()


def status_of(cert: dict[str, Any]) -> str:
    """valid / expiring (30 days) / expired / suspended / revoked / superseded, as of today."""
    if cert["status"] in ("revoked", "suspended", "superseded"):
        return cert["status"]
    if cert.get("valid_until"):
        end = date.fromisoformat(cert["valid_until"])
        if end < today():
            return "expired"
        if (end - today()).days <= EXPIRING_DAYS:
            return "expiring"
    return "valid"


class IssuerRegistry:
    """Issuing authorities and their keys, as every verification needs them. Kept in each
    process and checked against a version number in Redis at every use (one GET instead of
    two MongoDB reads); a change through the issuing service bumps the version, so every
    process sees it at its next use. An unknown code or key id reloads once (e.g. records
    inserted by the demo loader). After changing issuers in the database by hand, bump the
    version too (``INCR <prefix>issuer-registry:version``)."""

    def __init__(self, store: CertificateStore):
        self.store = store
        self._version: bytes | None = None
        self._issuers: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, dict[str, Any]] = {}

    async def snapshot(self, codes: Iterable[str] = (), kids: Iterable[str] = ()
                       ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """(issuers by code, keys by kid), current as of now."""
        version = await self.store.registry_version()
        stale = version != self._version
        if stale or any(c not in self._issuers for c in codes) or any(k not in self._keys for k in kids):
            self._issuers = {i["code"]: i for i in await self.store.all_issuers()}
            self._keys = {k["kid"]: k for k in await self.store.all_keys()}
            self._version = version
        return self._issuers, self._keys

    async def issuer(self, code: str) -> dict[str, Any] | None:
        return (await self.snapshot(codes=[code]))[0].get(code)

    async def key(self, kid: str) -> dict[str, Any] | None:
        return (await self.snapshot(kids=[kid]))[1].get(kid)

    async def issuers(self) -> list[dict[str, Any]]:
        return sorted((await self.snapshot())[0].values(), key=lambda i: i["code"])

    async def keys(self) -> list[dict[str, Any]]:
        return list((await self.snapshot())[1].values())

    async def changed(self) -> None:
        """Call after registering or changing an issuer or a key."""
        await self.store.registry_changed()


class Certificates:
    def __init__(self, store: CertificateStore, registry: IssuerRegistry, directory: Directory, pii: PiiCipher):
        self.store = store
        self.registry = registry
        self.directory = directory
        self.pii = pii

    def content(self, cert: dict[str, Any]) -> dict[str, Any]:
        try:
            return json.loads(self.pii.decrypt(cert["content_enc"], "certificate"))
        except Exception:  # noqa: BLE001 - a changed ciphertext
            return {}

    def holder_index(self, kind: str, ident: str) -> str:
        """The blind index a certificate's holder (ID number or USCC) is stored under."""
        return self.directory.id_index(ident) if kind == "person" else self.directory.uscc_index(ident)

    async def verify(self, cert: dict[str, Any]) -> dict[str, Any]:
        return (await self.verify_many([cert]))[0]

    async def verify_many(self, certs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Signature, issuer trust, status and validity window of each, as of now."""
        if not certs:
            return []
        issuers, keys = await self.registry.snapshot({c["issuer"] for c in certs}, {c["kid"] for c in certs})
        return [self._verified(c, keys.get(c["kid"]), issuers.get(c["issuer"])) for c in certs]

    def _verified(self, cert: dict[str, Any], key: dict[str, Any] | None, issuer: dict[str, Any] | None
                  ) -> dict[str, Any]:
        content = self.content(cert)
        signature_valid = bool(content) and key is not None and content.get("id") == cert["_id"] \
            and verify_content(content, cert["signature"], key["public_key_pem"])
        issuer_trusted = (issuer is not None and issuer.get("status") == "active" and key is not None
                          and key["issuer"] == cert["issuer"] and key["status"] in ("active", "retired")
                          and cert["type"] in issuer.get("allowed_types", []))
        status = status_of(cert)
        within = status not in ("expired",) and date.fromisoformat(cert["valid_from"]) <= today()
        return {"signature_valid": signature_valid, "issuer_trusted": issuer_trusted, "status": status,
                "within_validity": within,
                "valid": signature_valid and issuer_trusted and within and status in ("valid", "expiring")}

    async def holder_key(self, cert: dict[str, Any]) -> str | None:
        """``person:<id>`` / ``enterprise:<id>`` whose wallet holds it, or None (not registered yet)."""
        holder = self.content(cert).get("holder", {})
        if cert["holder_kind"] == "person":
            owner = await self.directory.person_with_id_index(cert["holder_bidx"])
            return f"person:{owner}" if owner else None
        e = await self.directory.enterprise_by_uscc(holder.get("uscc") or "")
        return f"enterprise:{e.id}" if e else None
