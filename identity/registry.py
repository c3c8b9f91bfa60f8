"""Enterprise registry providers (法人库): does this code exist, what is it called, who
is its legal representative.

* ``DevEnterpriseRegistry``: the demo registry (``config/demo/enterprises.json``).
* ``HttpEnterpriseRegistry``: ``GET {url}/v1/enterprises/{uscc}`` with a bearer token ->
  200 ``{"uscc","name","type","status","legal_representative":{"name","id_number"},
  "address","established"}`` or 404 when unknown.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from identity.accounts.storage import RegistryStore
from server.errors import Unavailable
from server.pii import PiiCipher


@dataclass(frozen=True)
class EnterpriseRecord:
    uscc: str
    name: str
    type: str
    status: str
    legal_rep_name: str
    legal_rep_id_bidx: str  # blind index of the representative's ID number
    address: str
    established: str


class EnterpriseRegistry(Protocol):
    async def lookup(self, uscc: str) -> EnterpriseRecord | None: ...


class DevEnterpriseRegistry:
    def __init__(self, registry: RegistryStore):
        self.registry = registry

    async def lookup(self, uscc: str) -> EnterpriseRecord | None:
        doc = await self.registry.enterprise(uscc)
        if doc is None:
            return None
        return EnterpriseRecord(doc["uscc"], doc["name"], doc["type"], doc["status"], doc["legal_rep_name"],
                                doc["legal_rep_id_bidx"], doc["address"], doc["established"])


class HttpEnterpriseRegistry:
    def __init__(self, url: str, token: str, pii: PiiCipher, timeout: float = 5.0):
        self.url = url.rstrip("/")
        self.token = token
        self.pii = pii
        self.timeout = timeout
        self.http = AsyncHTTPClient()

    async def lookup(self, uscc: str) -> EnterpriseRecord | None:
        req = HTTPRequest(f"{self.url}/v1/enterprises/{uscc}", headers={"Authorization": f"Bearer {self.token}"},
                          request_timeout=self.timeout)
        try:
            resp = await self.http.fetch(req)
            d = json.loads(resp.body)
            rep = d["legal_representative"]
            return EnterpriseRecord(d["uscc"], d["name"], d["type"], d["status"], rep["name"],
                                    self.pii.blind_index(rep["id_number"], "id_number"),
                                    d.get("address", ""), d.get("established", ""))
        except HTTPClientError as e:
            if e.code == 404:
                return None
            raise Unavailable("企业登记信息查询服务暂时不可用", code="registry_unavailable") from None
        except (OSError, ValueError, KeyError, TypeError):
            raise Unavailable("企业登记信息查询服务暂时不可用", code="registry_unavailable") from None
