"""对账: a day's ledger against WeChat Pay's trade bill, per merchant account — and the refunds
WeChat did not complete, which the department must follow up.

Each payment and refund of the day in the ledger must be on the bill with the same amount,
and each row of the bill in the ledger: what differs is listed (``missing_in_bill``,
``missing_in_ledger``, ``amount_differs``) and the report kept. The worker reconciles the
day before once a day; a department's supervisor reads (or re-runs) any day.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from matters.catalog import MatterCatalog
from payments.provider import ProviderError, WeChatPayGateway
from payments.storage import Ledger, OrderStore, ReconciliationStore
from server.calendar import CHINA
from server.clock import now_ms
from server.errors import Conflict, InvalidInput, PermissionDenied
from server.principal import Principal, require_role

log = logging.getLogger("superapp.payments")
KIND_NAMES = {"payment": "收款", "refund": "退款"}
MISMATCH_NAMES = {"missing_in_bill": "账单中没有（本平台已入账）", "missing_in_ledger": "本平台未入账（账单中有）",
                  "amount_differs": "金额不一致"}


def report_id(merchant: str, day: str) -> str:
    # merchant first: nx-27017 does not find a string _id that begins with an ISO date
    return f"{merchant}:{day}"


def compare(ledger: list[dict[str, Any]], bill: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ours = {(e["kind"], e["ref"]): e for e in ledger if e["kind"] in KIND_NAMES}
    theirs = {(r["kind"], r["ref"]): r for r in bill}
    out = []
    for key in sorted(ours.keys() | theirs.keys()):
        e, r = ours.get(key), theirs.get(key)
        kind = ("missing_in_bill" if r is None else "missing_in_ledger" if e is None
                else "amount_differs" if e["amount_fen"] != r["amount_fen"] else None)
        if kind:
            out.append({"kind": kind, "kind_name": MISMATCH_NAMES[kind], "type": key[0], "type_name": KIND_NAMES[key[0]],
                        "ref": key[1], "ledger_fen": e["amount_fen"] if e else None,
                        "bill_fen": r["amount_fen"] if r else None,
                        "application_id": e["application_id"] if e else None})
    return out


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    pay = [r for r in rows if r["kind"] == "payment"]
    ref = [r for r in rows if r["kind"] == "refund"]
    return {"payments": len(pay), "payment_fen": sum(r["amount_fen"] for r in pay), "refunds": len(ref),
            "refund_fen": sum(r["amount_fen"] for r in ref)}


class Reconciliation:
    def __init__(self, ledger: Ledger, reports: ReconciliationStore, orders: OrderStore, gateway: WeChatPayGateway,
                 catalog: MatterCatalog):
        self.ledger = ledger
        self.orders = orders
        self.reports = reports
        self.gateway = gateway
        # merchant -> its collecting department (from the catalog's charges)
        self.collectors = {m.charges["collector"]["merchant"]: m.charges["collector"]
                           for m in catalog.matters.values() if m.charges}

    async def run(self, day: str, merchants: list[str] | None = None, by: str = "worker") -> dict[str, Any]:
        out = []
        for merchant in merchants if merchants is not None else sorted(self.collectors):
            entries = [e for e in await self.ledger.of_day(day, merchant) if e["kind"] in KIND_NAMES]
            try:
                bill = await self.gateway.bill(merchant, day)
            except ProviderError as e:
                raise Conflict("暂时无法下载微信支付账单，请稍后重试", code="bill_unavailable",
                               extra={"provider_code": e.code}) from None
            report = {"_id": report_id(merchant, day), "date": day, "merchant": merchant,
                      "mchid": self.gateway.merchants[merchant].mchid if merchant in self.gateway.merchants else "",
                      "department_name": self.collectors.get(merchant, {}).get("department_name", merchant),
                      "ledger": _totals(entries), "bill": _totals(bill), "mismatches": compare(entries, bill),
                      "checked_at": now_ms(), "by": by}
            await self.reports.save(report)
            if report["mismatches"]:
                log.warning("reconciliation %s: %d mismatches", report["_id"], len(report["mismatches"]))
            out.append({**{k: v for k, v in report.items() if k not in ("_id", "by")},
                        "failed_refunds": await self.failed_refunds(merchant)})
        return {"date": day, "merchants": out, "mismatches": sum(len(m["mismatches"]) for m in out)}

    async def failed_refunds(self, merchant: str) -> list[dict[str, Any]]:
        """Refunds WeChat closed or found abnormal: money the department still owes back (the
        person was told staff would contact them), whatever the day."""
        return [{"application_id": o["application_id"], "number": o["number"], "out_refund_no": r["out_refund_no"],
                 "amount_fen": r["amount_fen"], "reason": r["reason"], "at": r.get("done_at") or r["at"]}
                for o in await self.orders.with_failed_refunds(merchant) for r in o["refunds"]
                if r["state"] == "failed"]

    async def for_staff(self, principal: Principal, day: str) -> dict[str, Any]:
        """A supervisor's reconciliation of the day for their department's merchant accounts."""
        require_role(principal, "supervisor")
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise InvalidInput("日期格式应为 YYYY-MM-DD", code="date_invalid") from None
        if when > datetime.now(CHINA).date():
            raise InvalidInput("不能核对未来的日期", code="date_in_future")
        dept = principal.claims.get("dept", "")
        mine = sorted(m for m, c in self.collectors.items() if c["department"] == dept)
        if not mine:
            raise PermissionDenied("本部门没有收费事项，无须对账", code="no_merchant_account")
        return await self.run(when.isoformat(), mine, by="staff")

    async def daily(self) -> int:
        """Worker: yesterday's reconciliation, once (a supervisor's earlier look at the day, perhaps
        before its bill was complete, does not count)."""
        day = (datetime.now(CHINA).date() - timedelta(days=1)).isoformat()
        todo = [m for m in sorted(self.collectors)
                if ((await self.reports.get(report_id(m, day))) or {}).get("by") != "worker"]
        if todo:
            await self.run(day, todo)
        return len(todo)
