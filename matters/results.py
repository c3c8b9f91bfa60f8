"""Result certificates: approving a matter with a result issues it as an e-certificate
through the issuer path, signed with the department's hosted issuer key, so it lands in
the applicant's wallet.

Departments whose key is "hosted" (dev: the demo issuers; production: PEM files
``<issuer USCC>.pem`` in ``matters.hosted_issuer_keys_dir``) get their results issued
here; the others issue from their own systems through the issuer API.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from card_wallet.issuer_client import IssuerClient
from card_wallet.issuing.service import IssuingService
from matters.applicant import Applicant
from matters.catalog import Matter
from matters.lifecycle import china_today
from server.keys import public_pem_from_private, thumbprint
from server.principal import ISSUER, Principal


async def hosted_clients(private_keys: dict[str, str], issuing: IssuingService) -> dict[str, IssuerClient]:
    """Department -> a client holding its issuer's key, for the registered, active issuers among ``private_keys``
    (issuer code -> private key PEM)."""
    out: dict[str, IssuerClient] = {}
    for code, pem in private_keys.items():
        department = await issuing.department_of(code)
        if department is not None:
            out.setdefault(department, IssuerClient(code, thumbprint(public_pem_from_private(pem))[:16], pem))
    return out


class ResultIssuer:
    def __init__(self, hosted: dict[str, IssuerClient], issuing: IssuingService):
        self.hosted = hosted
        self.issuing = issuing

    async def issue(self, app: dict[str, Any], matter: Matter, applicant: Applicant,
                    values: dict[str, Any]) -> dict[str, Any] | None:
        spec = matter.raw.get("result")
        if not spec:
            return None
        client = self.hosted.get(matter.department)
        if client is None:
            return {"certificate_id": None, "note": "该部门未托管签发密钥，结果证照由部门系统签发"}
        fields: dict[str, Any] = {}
        for f, source in spec["fields"].items():
            if source.startswith("form."):
                fields[f] = app["form"].get(source[5:])
            elif source.startswith("const:"):
                fields[f] = source[6:]
            elif source.startswith("generated:"):
                fields[f] = source[10:] + f"{secrets.randbelow(10**14):014d}"
            else:
                fields[f] = values.get(source)
        if applicant.kind == "person":
            holder = {"kind": "person", "id_number": values["identity.id_number"], "name": values["identity.name"]}
        else:
            holder = {"kind": "enterprise", "uscc": values["enterprise.uscc"], "name": values["enterprise.name"]}
        today = china_today()
        until = today.replace(year=today.year + spec["valid_years"]) - timedelta(days=1) if spec.get("valid_years") \
            else None
        body = client.issue_body(f"app-{app['_id']}", spec["certificate_type"], holder,
                                 {k: v for k, v in fields.items() if v is not None}, today.isoformat(),
                                 until.isoformat() if until else None)
        issued = await self.issuing.issue(Principal(f"issuer:{client.code}", ISSUER, 0, "", 0), body)
        return {"certificate_id": issued["id"], "type": spec["certificate_type"], "type_name": spec["type_name"]}
