"""电子票据: a paid fee's receipt, issued as an e-certificate (非税收入电子票据) into the payer's
wallet, signed by the collecting department through the issuer path — the department's
hosted issuer key, as results are (``matters.results``). An enterprise applicant's receipt,
or a department without a hosted key, is left to the department's own billing system."""
from __future__ import annotations

from typing import Any

from card_wallet.issuer_client import IssuerClient
from card_wallet.issuing.service import IssuingService
from identity.facade import Directory
from server.errors import AppError
from server.principal import ISSUER, Principal

RECEIPT_TYPE = "11100000000013127D001"
RECEIPT_NAME = "非税收入电子票据"
BILL_NAME = "广东省非税收入电子票据"


class Receipts:
    def __init__(self, hosted: dict[str, IssuerClient], issuing: IssuingService, directory: Directory):
        self.hosted = hosted  # department -> its issuer client (matters.results.hosted_clients)
        self.issuing = issuing
        self.directory = directory

    async def issue(self, order: dict[str, Any]) -> dict[str, Any]:
        client = self.hosted.get(order["collector"]["department"])
        kind, ident = order["applicant_key"].split(":", 1)
        person = await self.directory.person(ident) if kind == "person" else None
        if client is None or person is None or not person.verified:
            return {"certificate_id": None, "note": "电子票据由收费部门另行开具"}
        paid = order["paid"]
        fields = {"bill_name": BILL_NAME, "bill_number": order["_id"][-20:].upper(), "payer": person.name,
                  "id_number": person.id_number,
                  "items": "；".join(f"{i['name']} {i['amount_fen'] / 100:.2f} 元" for i in order["items"]),
                  "amount": f"{order['amount_fen'] / 100:.2f}", "collector": order["collector"]["department_name"],
                  "application_number": order["number"], "paid_at": (paid.get("at") or "")[:19].replace("T", " "),
                  "transaction_id": paid.get("transaction_id") or ""}
        # The serial is the order's, so the certificate's id is known before it is issued: a retry
        # after a crash (the same request id, a fresh ECDSA signature) finds it issued.
        body = client.issue_body(f"receipt-{order['_id']}", RECEIPT_TYPE,
                                 {"kind": "person", "id_number": person.id_number, "name": person.name}, fields,
                                 serial=order["_id"][-20:].upper())
        try:
            issued_id = (await self.issuing.issue(Principal(f"issuer:{client.code}", ISSUER, 0, "", 0), body))["id"]
        except AppError as e:
            if e.code != "request_id_reused":
                raise
            issued_id = body["content"]["id"]
        return {"certificate_id": issued_id, "type_name": RECEIPT_NAME}

    async def void(self, order: dict[str, Any]) -> None:
        """作废: the fee went back, so its receipt is revoked by the department that issued it."""
        client = self.hosted.get(order["collector"]["department"])
        if client is None:
            return
        try:
            await self.issuing.change_status(Principal(f"issuer:{client.code}", ISSUER, 0, "", 0),
                                             order["receipt"]["certificate_id"], "revoke",
                                             {"request_id": f"receipt-void-{order['_id']}",
                                              "reason": "费用已退回，票据作废"})
        except AppError as e:
            if e.code != "certificate_revoked":
                raise
