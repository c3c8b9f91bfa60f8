"""Demo data for dev mode: ``config/demo/*.json`` loaded idempotently at start-up.

Files (each ``{"_comment": ..., "items": [...]}``):

* ``residents.json``   development population registry (name, ID number, phone, ...)
* ``enterprises.json`` development enterprise registry (USCC, name, legal representative)
* ``staff.json``       department staff with passwords and TOTP secrets
* ``devices.json``     a kiosk device and its private key (the kiosk H5 is provisioned with it)
* ``issuers.json``     issuing authorities and their signing keys
* ``certificates.json`` certificates the demo issuers sign for demo residents and enterprises,
  through the real issuer path, so a newcomer's wallet, 免证办 and kiosk journeys have
  something to show (:func:`issue_demo_certificates`, after the services are built)

Loading inserts what is missing and never overwrites, so a second start (or a
second process) changes nothing. Production never loads these files and refuses to
start if any of their public keys is registered.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from card_wallet.issuing import storage as issuing_storage
from identity.accounts import storage as accounts_storage
from identity.devices import storage as devices_storage
from identity.staff import storage as staff_storage
from identity.staff.passwords import hash_password
from server.config import ConfigError
from server.errors import Conflict, Unprocessable
from server.keys import public_pem_from_private, thumbprint
from server.storage.mongo import insert_if_absent

if TYPE_CHECKING:
    from superapp.context import AppContext, Clients

log = logging.getLogger("superapp.demo")


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DemoResident(_Item):
    name: str
    id_number: str = Field(pattern=r"^[0-9]{17}[0-9X]$")
    phone: str = Field(pattern=r"^1[3-9][0-9]{9}$")
    gender: str
    nation: str = ""
    address: str
    birth_date: str
    document: str = "居民身份证"


class DemoLegalRep(_Item):
    name: str
    id_number: str


class DemoEnterprise(_Item):
    uscc: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
    name: str
    type: str
    legal_representative: DemoLegalRep
    address: str
    established: str
    registered_capital: str = ""
    business_scope: str = ""


class DemoStaff(_Item):
    username: str
    name: str
    department: str
    department_name: str
    roles: list[str]
    password: str
    totp_secret: str


class DemoDevice(_Item):
    device_id: str
    name: str
    location: str
    department: str
    scopes: list[str]
    items: list[str] = []
    private_key_pem: str


class DemoIssuer(_Item):
    code: str
    name: str
    department: str
    private_key_pem: str
    allowed_types: list[str] = []


class DemoCertificate(_Item):
    key: str = Field(pattern=r"^[a-z0-9-]{3,40}$", description="stable name: the serial is derived from it")
    issuer: str
    type: str
    resident: str | None = None
    enterprise: str | None = None
    valid_from: str
    valid_until: str | None = None
    fields: dict[str, Any]


FILES: dict[str, type[_Item]] = {
    "residents": DemoResident,
    "enterprises": DemoEnterprise,
    "staff": DemoStaff,
    "devices": DemoDevice,
    "issuers": DemoIssuer,
    "certificates": DemoCertificate,
}
LOADED_AT_START = ("residents", "enterprises", "staff", "devices", "issuers")


@dataclass(frozen=True)
class DemoData:
    residents: list[DemoResident]
    enterprises: list[DemoEnterprise]
    staff: list[DemoStaff]
    devices: list[DemoDevice]
    issuers: list[DemoIssuer]
    certificates: list[DemoCertificate] = field(default_factory=list)

    def thumbprints(self) -> list[str]:
        pems = [d.private_key_pem for d in self.devices] + [i.private_key_pem for i in self.issuers]
        return [thumbprint(public_pem_from_private(p)) for p in pems]


def read_demo(demo_dir: Path) -> DemoData:
    """Parse and validate every demo file; a bad file is a ConfigError naming it."""
    out: dict[str, list[Any]] = {}
    for name, model in FILES.items():
        path = demo_dir / f"{name}.json"
        try:
            items = json.loads(path.read_text(encoding="utf-8"))["items"]
        except FileNotFoundError:
            raise ConfigError("dev.demo_dir", f"missing demo file {path}") from None
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError("dev.demo_dir", f"{path.name} is invalid: {e}") from None
        out[name] = []
        for i, item in enumerate(items):
            try:
                out[name].append(model.model_validate(item))
            except ValidationError as e:
                err = e.errors()[0]
                where = ".".join(map(str, err["loc"]))
                raise ConfigError("dev.demo_dir", f"{path.name} is invalid: items[{i}].{where}: {err['msg']}") from None
    return DemoData(**out)


async def load_demo(clients: "Clients", data: DemoData) -> dict[str, int]:
    """Insert missing demo records; returns how many of each kind were new."""
    db, pii = clients.db, clients.pii
    counts = dict.fromkeys(LOADED_AT_START, 0)
    for r in data.residents:
        counts["residents"] += await insert_if_absent(
            db,
            accounts_storage.REGISTRY_PERSONS.name,
            {"id_bidx": pii.blind_index(r.id_number, "id_number")},
            {
                "id_enc": pii.encrypt(r.id_number, "id_number"),
                "name": r.name,
                "phone_bidx": pii.blind_index(r.phone, "phone"),
                "phone_enc": pii.encrypt(r.phone, "phone"),
                "gender": r.gender,
                "nation": r.nation,
                "birth_date": r.birth_date,
                "address": r.address,
                "document": r.document,
            },
        )
    for e in data.enterprises:
        counts["enterprises"] += await insert_if_absent(
            db,
            accounts_storage.REGISTRY_ENTERPRISES.name,
            {"uscc": e.uscc},
            {
                "name": e.name,
                "type": e.type,
                "legal_rep_name": e.legal_representative.name,
                "legal_rep_id_bidx": pii.blind_index(e.legal_representative.id_number, "id_number"),
                "address": e.address,
                "established": e.established,
                "registered_capital": e.registered_capital,
                "business_scope": e.business_scope,
                "status": "存续",
            },
        )
    for s in data.staff:
        counts["staff"] += await insert_if_absent(
            db,
            staff_storage.STAFF.name,
            {"username": s.username},
            {
                "name": s.name,
                "department": s.department,
                "department_name": s.department_name,
                "roles": s.roles,
                "password_hash": hash_password(s.password),
                "totp_secret_enc": pii.encrypt(s.totp_secret, "totp_secret"),
                "status": "active",
            },
        )
    for d in data.devices:
        pub = public_pem_from_private(d.private_key_pem)
        counts["devices"] += await insert_if_absent(
            db,
            devices_storage.DEVICES.name,
            {"device_id": d.device_id},
            {
                "name": d.name,
                "location": d.location,
                "department": d.department,
                "scopes": d.scopes,
                "items": d.items,
                "public_key_pem": pub,
                "key_thumbprint": thumbprint(pub),
                "status": "active",
            },
        )
    for i in data.issuers:
        pub = public_pem_from_private(i.private_key_pem)
        tp = thumbprint(pub)
        counts["issuers"] += await insert_if_absent(
            db,
            issuing_storage.ISSUERS.name,
            {"code": i.code},
            {"name": i.name, "department": i.department, "allowed_types": i.allowed_types, "status": "active"},
        )
        await insert_if_absent(
            db,
            issuing_storage.ISSUER_KEYS.name,
            {"kid": tp[:16]},
            {"issuer": i.code, "thumbprint": tp, "public_key_pem": pub, "status": "active"},
        )
    if any(counts.values()):
        log.info("demo data loaded: %s", ", ".join(f"{k} +{v}" for k, v in counts.items()))
    return counts


async def registered_demo_keys(clients: "Clients", data: DemoData) -> list[str]:
    """Devices and issuers whose registered public key is one of the public demo keys."""
    tps = data.thumbprints()
    devices = await devices_storage.devices_with_thumbprints(clients.db, tps)
    issuers = await issuing_storage.issuers_with_thumbprints(clients.db, tps)
    return [f"device {d}" for d in devices] + [f"issuer {i}" for i in issuers]


def _holder_facts(data: DemoData, c: DemoCertificate) -> tuple[dict[str, str], dict[str, Any]]:
    """The holder of a demo certificate, and the facts of the registry that fill its fields."""
    if c.resident:
        r = next((r for r in data.residents if r.id_number == c.resident), None)
        if r is None:
            raise ConfigError("dev.demo_dir", f"certificates.json: {c.key}: no demo resident {c.resident}")
        return ({"kind": "person", "id_number": r.id_number, "name": r.name},
                {"name": r.name, "owner": r.name, "id_number": r.id_number, "gender": r.gender, "nation": r.nation,
                 "birth_date": r.birth_date, "address": r.address})
    e = next((e for e in data.enterprises if e.uscc == c.enterprise), None)
    if e is None:
        raise ConfigError("dev.demo_dir", f"certificates.json: {c.key}: no demo enterprise {c.enterprise}")
    return {"kind": "enterprise", "uscc": e.uscc, "name": e.name}, {"name": e.name, "operator_name": e.name,
                                                                       "uscc": e.uscc}


async def issue_demo_certificates(ctx: "AppContext", data: DemoData) -> int:
    """Sign and issue every demo certificate not issued yet, as its issuer would (the issuer
    API's own checks apply); returns how many were new. Serials come from each entry's key,
    so a certificate is recognised at the next start and never issued twice."""
    import hashlib

    from card_wallet.issuer_client import IssuerClient
    from server.principal import ISSUER, Principal

    keys = {i.code: i.private_key_pem for i in data.issuers}
    new = 0
    for c in data.certificates:
        pem = keys[c.issuer]
        client = IssuerClient(c.issuer, thumbprint(public_pem_from_private(pem))[:16], pem)
        holder, facts = _holder_facts(data, c)
        ctype = ctx.catalog.get(c.type)
        if ctype is None:
            raise ConfigError("dev.demo_dir", f"certificates.json: {c.key}: unknown type {c.type}")
        fields = {k: facts[k] for k in ctype.schema["properties"] if k in facts and facts[k]} | c.fields
        serial = c.valid_from[:4] + str(int(hashlib.sha256(c.key.encode()).hexdigest(), 16))[:12]
        body = client.issue_body(f"demo-{c.key}", c.type, holder, fields, c.valid_from, c.valid_until, serial)
        if await ctx.issuing.issued(body["content"]["id"]):
            continue
        try:
            await ctx.issuing.issue(Principal(f"issuer:{c.issuer}", ISSUER, 0, "", 0), body)
        except (Conflict, Unprocessable):  # another process starting at the same time issued it
            if not await ctx.issuing.issued(body["content"]["id"]):
                raise
            continue
        new += 1
    if new:
        log.info("demo certificates issued: +%d", new)
    return new
