"""Reading certificates as the wallet and its verifiers see them: content (decrypted),
status as of today, the signature and issuer-trust check, and whose wallet a certificate
belongs to. Shared by issuing and holding; verifying many certificates reads each issuer
and key once."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

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


class Certificates:
    def __init__(self, store: CertificateStore, directory: Directory, pii: PiiCipher):
        self.store = store
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
        keys = await self.store.keys_in(sorted({c["kid"] for c in certs}))
        issuers = await self.store.issuers_in(sorted({c["issuer"] for c in certs}))
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
