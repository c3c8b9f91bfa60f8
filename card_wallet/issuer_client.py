"""What an issuing authority does, as a small library (used by the demo, the tests, and
the matters domain when a department issues a result certificate). See README, "Issuers".

    client = IssuerClient(issuer_code, kid, private_key_pem)
    body = client.issue_body(request_id, type_code, holder, fields, valid_from, valid_until)
    POST /api/v1/issuer/certificates  (Authorization: Bearer <issuer token>)  body
"""
from __future__ import annotations

import secrets
import time
from datetime import date
from typing import Any

import jwt

from card_wallet.identifier import CertificateId
from card_wallet.signing import sign_content


class IssuerClient:
    def __init__(self, issuer_code: str, kid: str, private_key_pem: str, audience: str = "superapp-issuer-token"):
        self.code = issuer_code
        self.kid = kid
        self.key = private_key_pem
        self.audience = audience

    def assertion(self, lifetime: int = 60) -> str:
        now = int(time.time())
        return jwt.encode({"iss": self.code, "sub": self.code, "aud": self.audience, "iat": now,
                           "exp": now + lifetime, "jti": secrets.token_hex(8)}, self.key, algorithm="ES256",
                          headers={"kid": self.kid})

    def content(self, type_code: str, serial: str, version: int, holder: dict[str, str], fields: dict[str, Any],
                valid_from: str, valid_until: str | None) -> dict[str, Any]:
        cid = CertificateId(type_code, self.code, serial, version)
        return {"id": str(cid), "type": type_code, "issuer": self.code, "version": version, "holder": holder,
                "fields": fields, "valid_from": valid_from, "valid_until": valid_until}

    def issue_body(self, request_id: str, type_code: str, holder: dict[str, str], fields: dict[str, Any],
                   valid_from: str | None = None, valid_until: str | None = None, serial: str | None = None,
                   version: int = 1) -> dict[str, Any]:
        serial = serial or f"{date.today().year}{secrets.randbelow(10**12):012d}"
        content = self.content(type_code, serial, version, holder, fields,
                               valid_from or date.today().isoformat(), valid_until)
        return {"request_id": request_id, "content": content, "kid": self.kid,
                "signature": sign_content(content, self.key)}

    def update_body(self, request_id: str, current_id: str, fields: dict[str, Any], holder: dict[str, str],
                    valid_from: str, valid_until: str | None) -> dict[str, Any]:
        from card_wallet.identifier import parse_certificate_id

        cid = parse_certificate_id(current_id)
        return self.issue_body(request_id, cid.type_code, holder, fields, valid_from, valid_until, cid.serial,
                               cid.version + 1)
