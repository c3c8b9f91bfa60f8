"""Settling orders with what WeChat Pay says: payments and refunds from its notifications or
from the worker's queries, refunds when an application ends, duplicate payments refunded,
other WeChat orders closed, receipts issued (and voided when the money goes back).

Every change to an order is a version-guarded move (:meth:`Settlement.move`), retried a few
times on a conflict and then raised (the notification is answered non-2xx, the outbox or the
sweep tries again) — never given up silently. Every ledger entry and every word to the person
has a natural key, so doing a step again writes nothing twice.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Awaitable, Callable

from notifications.service import Notifications
from payments.models import NOTICE_NAMES, attempt_of
from payments.provider import BadNotification, ProviderError, WeChatPayGateway
from payments.receipts import Receipts
from payments.storage import Ledger, OrderStore
from server.audit import SYSTEM, AuditTrail
from server.calendar import CHINA
from server.clock import now_ms
from server.errors import Conflict, NotFound, Unauthenticated, Unprocessable
from server.principal import holder_chain

log = logging.getLogger("superapp.payments")
PAYABLE = ("unpaid", "paying")
OPEN_REFUNDS = ("requested", "processing")


def china_day(rfc3339: str | None) -> str:
    at = datetime.fromisoformat(rfc3339) if rfc3339 else datetime.now(CHINA)
    return at.astimezone(CHINA).date().isoformat()


def needs_sweep(order: dict[str, Any]) -> bool:
    """Something the worker must settle: a WeChat order not known closed or paid, a refund not
    yet confirmed, a receipt to issue or to void."""
    return (any(a.get("open", True) for a in order["attempts"])
            or any(r["state"] in OPEN_REFUNDS for r in order["refunds"])
            or (order["state"] == "paid" and not order.get("receipt"))
            or (order["state"] == "refunded" and (order.get("receipt") or {}).get("certificate_id") is not None
                and not order["receipt"].get("voided")))


class Settlement:
    def __init__(self, store: OrderStore, ledger: Ledger, gateway: WeChatPayGateway, receipts: Receipts,
                 notifications: Notifications, audit: AuditTrail):
        self.store = store
        self.ledger = ledger
        self.gateway = gateway
        self.receipts = receipts
        self.notifications = notifications
        self.audit = audit

    # -- what WeChat tells us --------------------------------------------------------------------

    async def notify(self, headers: Any, body: bytes) -> None:
        """A signed, encrypted notification: verified (signature, merchant, order, amount) and
        applied once, however often it is delivered."""
        try:
            merchant, data = await self.gateway.decode_notification(headers, body.decode("utf-8", "replace"))
        except BadNotification:
            raise Unauthenticated("通知签名无效", code="notification_signature_invalid") from None
        resource = data["resource"]
        order = await self.store.by_attempt(resource.get("out_trade_no", ""))
        attempt = attempt_of(order, resource.get("out_trade_no", "")) if order else None
        if attempt is None or attempt["mchid"] != merchant.mchid:
            raise NotFound("未找到该订单", code="payment_not_found")
        if data.get("event_type") == "TRANSACTION.SUCCESS":
            await self.settle_payment(order, resource)
        elif str(data.get("event_type", "")).startswith("REFUND."):
            await self.settle_refund(order, resource)

    async def settle_payment(self, order: dict[str, Any], trans: dict[str, Any]) -> dict[str, Any]:
        """A trade WeChat reports paid (notification or query): the order paid by it, or — when
        another payment or the application's end came first — this one refunded."""
        ref = trans.get("out_trade_no", "")
        attempt = attempt_of(order, ref)
        if trans.get("trade_state") != "SUCCESS" or attempt is None:
            raise Unprocessable("订单未支付成功", code="payment_not_successful")
        if trans.get("mchid") != attempt["mchid"] or (trans.get("amount") or {}).get("total") != order["amount_fen"]:
            log.error("payment %s: amount or merchant differs from order %s", ref, order["_id"])
            raise Unprocessable("支付金额或商户与缴费单不符", code="payment_amount_mismatch")
        await self.entry("payment", order, order["amount_fen"], ref, trans.get("transaction_id", ""),
                         china_day(trans.get("success_time")), mchid=attempt["mchid"])

        async def step(o: dict[str, Any]) -> dict[str, Any] | None:
            if o["paid"] and o["paid"]["out_trade_no"] == ref or any(r["out_trade_no"] == ref for r in o["refunds"]):
                return o  # told before; or paid twice and its refund is under way
            attempts = [{**a, "open": False} if a["out_trade_no"] == ref else a for a in o["attempts"]]
            if o["state"] in PAYABLE:
                paid = {"out_trade_no": ref, "transaction_id": trans.get("transaction_id"),
                        "channel": attempt["channel"], "at": trans.get("success_time")}
                moved = await self.move(o, {"state": "paid", "paid": paid, "attempts": attempts})
                if moved is not None:
                    await self.tell(moved, "paid", f"已缴费 {moved['amount_fen'] / 100:.2f} 元，电子票据将放入卡包")
                    return await self.issue_receipt(await self.close_others(moved))
                return None
            why = "重复支付，自动退款" if o["paid"] else "申请已结束，自动退款"
            moved = await self.move(o, {"attempts": attempts, "refunds": [
                *o["refunds"], refund_of(ref, o["amount_fen"], why, f"{ref}R")]})
            return await self.request_refunds(moved) if moved is not None else None

        return await self.retrying(order, step)

    async def settle_refund(self, order: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
        ref = refund.get("out_refund_no")
        if next((r for r in order["refunds"] if r["out_refund_no"] == ref), None) is None:
            raise NotFound("未找到该退款", code="refund_not_found")
        status = refund.get("refund_status") or refund.get("status")
        if status not in ("SUCCESS", "CLOSED", "ABNORMAL"):
            return order
        mine = next(r for r in order["refunds"] if r["out_refund_no"] == ref)
        if status == "SUCCESS":
            await self.entry("refund", order, mine["amount_fen"], ref, refund.get("refund_id", ""),
                             china_day(refund.get("success_time")))

        async def step(o: dict[str, Any]) -> dict[str, Any] | None:
            mine = next(r for r in o["refunds"] if r["out_refund_no"] == ref)
            # a refund WeChat closed or found abnormal may still succeed later (re-submitted by the merchant)
            if mine["state"] == "succeeded" or mine["state"] == "failed" and status != "SUCCESS":
                return o
            state = "succeeded" if status == "SUCCESS" else "failed"
            refunds = [{**r, "state": state, "refund_id": refund.get("refund_id"), "done_at": now_ms()}
                       if r["out_refund_no"] == ref else r for r in o["refunds"]]
            main = o["paid"] is not None and mine["out_trade_no"] == o["paid"]["out_trade_no"]
            failed = any(r["state"] == "failed" for r in refunds)  # the department's to follow up (对账)
            moved = await self.move(o, {"refunds": refunds, "refund_failed": failed,
                                        **({"state": "refunded"} if main and state == "succeeded" else {})})
            if moved is not None:
                await self.tell(moved, f"refund_{state}", f"{mine['reason']}：{mine['amount_fen'] / 100:.2f} 元"
                                + ("已原路退回" if state == "succeeded" else "退款未成功，工作人员将与您联系"), ref)
                if moved["state"] == "refunded":
                    moved = await self.void_receipt(moved)
            return moved

        return await self.retrying(order, step)

    # -- the worker ------------------------------------------------------------------------------

    async def sweep(self, older_than_seconds: float = 120) -> int:
        """What notifications did not settle: WeChat orders not known closed or paid are queried
        (a lost notification, a crash between WeChat's success and our update), refunds asked
        for again or queried, receipts issued or voided."""
        n = 0
        for order in await self.store.waiting(now_ms() - int(older_than_seconds * 1000)):
            try:
                await self.settle(order)
                n += 1
            except Exception:  # noqa: BLE001 - the next round tries again
                log.warning("payments sweep: order %s left for the next round", order["_id"], exc_info=True)
        return n

    async def settle(self, order: dict[str, Any]) -> None:
        for a in [a for a in order["attempts"] if a.get("open", True)]:
            trans = await self.gateway.query(order["merchant"], a["out_trade_no"])
            if trans and trans.get("trade_state") in ("SUCCESS", "REFUND"):
                order = await self.settle_payment(order, {**trans, "trade_state": "SUCCESS"})
            elif a["expires_at"] < now_ms() or order["state"] not in PAYABLE or \
                    (trans or {}).get("trade_state") == "CLOSED":
                order = await self.close_attempt(order, a["out_trade_no"])
        order = await self.request_refunds(order)
        for r in [r for r in order["refunds"] if r["state"] == "processing"]:
            found = await self.gateway.query_refund(order["merchant"], r["out_refund_no"])
            if found:
                order = await self.settle_refund(order, found)
        if order["state"] == "paid" and not order.get("receipt"):
            order = await self.issue_receipt(order)
        if order["state"] == "refunded":
            order = await self.void_receipt(order)
        await self.move(order, {})  # touched: the next round looks again later, if still needed

    # -- ending, closing, refunding ----------------------------------------------------------------

    async def unwind(self, order: dict[str, Any], reason: str) -> None:
        """The application ended without the fee being owed: a payment is refunded, open WeChat
        orders closed (one paid at the last moment is refunded too)."""
        async def step(o: dict[str, Any]) -> dict[str, Any] | None:
            if o["state"] == "paid":
                moved = await self.move(o, {"state": "refunding", "refunds": [*o["refunds"], refund_of(
                    o["paid"]["out_trade_no"], o["amount_fen"], f"{reason}，自动退款", f"{o['_id']}R")]})
                return await self.request_refunds(moved) if moved is not None else None
            if o["state"] in PAYABLE:
                moved = await self.move(o, {"state": "closed"})  # no new attempt from here on
                if moved is None:
                    return None
                for a in [a for a in moved["attempts"] if a.get("open", True)]:
                    moved = await self.close_attempt(moved, a["out_trade_no"])
                await self.tell(moved, "closed", f"{reason}，缴费单已关闭，无须缴费")
                return moved
            return o  # waived, closed, or already refunding

        await self.retrying(order, step)

    async def close_attempt(self, order: dict[str, Any], out_trade_no: str) -> dict[str, Any]:
        """Close one WeChat order; found paid instead, it is settled (kept or refunded)."""
        try:
            closed = await self.gateway.close_trade(order["merchant"], out_trade_no)
        except ProviderError:
            log.warning("could not close %s; the sweep looks at it again", out_trade_no)
            return order
        if not closed:
            trans = await self.gateway.query(order["merchant"], out_trade_no)
            return await self.settle_payment(order, {**(trans or {}), "trade_state": "SUCCESS"})

        async def step(o: dict[str, Any]) -> dict[str, Any] | None:
            attempts = [{**a, "open": False} if a["out_trade_no"] == out_trade_no else a for a in o["attempts"]]
            back = {"state": "unpaid"} if o["state"] == "paying" and not any(a.get("open", True) for a in attempts) \
                else {}
            return await self.move(o, {"attempts": attempts, **back})

        return await self.retrying(order, step)

    async def close_others(self, order: dict[str, Any]) -> dict[str, Any]:
        """Paid: the other WeChat orders are closed; one paid as well is refunded at once, and one
        that cannot be closed now stays for the sweep (``needs_sweep``)."""
        for a in [a for a in order["attempts"] if a.get("open", True)]:
            order = await self.close_attempt(order, a["out_trade_no"])
        return order

    async def request_refunds(self, order: dict[str, Any]) -> dict[str, Any]:
        """Ask WeChat for each refund not yet asked (the same out_refund_no is never refunded twice)."""
        for r in [r for r in order["refunds"] if r["state"] == "requested"]:
            try:
                answer = await self.gateway.refund(order["merchant"], r["out_trade_no"], r["out_refund_no"],
                                                   r["amount_fen"], order["amount_fen"], r["reason"])
            except ProviderError as e:
                log.warning("refund %s not accepted yet (%s); the sweep asks again", r["out_refund_no"], e)
                continue

            async def step(o: dict[str, Any], r: dict[str, Any] = r, answer: dict[str, Any] = answer):
                refunds = [{**x, "state": "processing", "refund_id": answer.get("refund_id")}
                           if x["out_refund_no"] == r["out_refund_no"] and x["state"] == "requested" else x
                           for x in o["refunds"]]
                return await self.move(o, {"refunds": refunds})

            order = await self.retrying(order, step)
        return order

    async def issue_receipt(self, order: dict[str, Any]) -> dict[str, Any]:
        try:
            receipt = await self.receipts.issue(order)
        except Exception:  # noqa: BLE001 - the payment stands; the sweep issues it later
            log.warning("receipt of %s left for the sweep", order["_id"], exc_info=True)
            return order
        return await self.move(order, {"receipt": receipt}) or order

    async def void_receipt(self, order: dict[str, Any]) -> dict[str, Any]:
        """The money went back: the 电子票据 is revoked (作废), so it proves no payment."""
        receipt = order.get("receipt") or {}
        if not receipt.get("certificate_id") or receipt.get("voided"):
            return order
        try:
            await self.receipts.void(order)
        except Exception:  # noqa: BLE001 - the sweep voids it later
            log.warning("receipt of %s not voided yet", order["_id"], exc_info=True)
            return order
        return await self.move(order, {"receipt": {**receipt, "voided": True}}) or order

    # -- common --------------------------------------------------------------------------------------

    async def retrying(self, order: dict[str, Any],
                       step: Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]) -> dict[str, Any]:
        """``step`` on the order, read again after each version conflict; raised after five."""
        for _ in range(5):
            done = await step(order)
            if done is not None:
                return done
            order = await self.store.get(order["_id"]) or order
        raise Conflict("该缴费单正被同时操作，请稍后重试", code="payment_busy")

    async def move(self, order: dict[str, Any], set_: dict[str, Any]) -> dict[str, Any] | None:
        return await self.store.move(order["_id"], order["version"], {**set_, "sweep": needs_sweep({**order, **set_})})

    async def entry(self, kind: str, order: dict[str, Any], amount_fen: int, ref: str, provider_ref: str = "",
                    day: str | None = None, note: str = "", mchid: str | None = None) -> bool:
        return await self.ledger.add({
            "_id": f"{kind}:{ref}", "kind": kind, "order_id": order["_id"], "application_id": order["application_id"],
            "merchant": order["merchant"], "mchid": mchid if mchid is not None else order["mchid"],
            "amount_fen": amount_fen, "ref": ref, "provider_ref": provider_ref, "day": day or china_day(None),
            "note": note, "at": now_ms()})

    async def tell(self, order: dict[str, Any], what: str, comment: str, ref: str = "") -> None:
        """The applicant's audit trail and a notification, once each (told again, nothing new)."""
        chain, event = holder_chain(order["applicant_key"]), f"payment:{order['_id']}:{what}:{ref}"
        if not await self.audit.recorded_events(chain, [event]):
            await self.audit.record(chain, SYSTEM, f"payment.{what}",
                                    target={"type": "application", "id": order["application_id"]},
                                    details={"number": order["number"], "amount_fen": order["amount_fen"],
                                             "comment": comment}, event=event)
        await self.notifications.enqueue([{
            "_id": f"{order['_id']}:{what}:{ref}", "application_id": order["application_id"], "number": order["number"],
            "person_id": order["person_id"], "department": order["collector"]["department"],
            "title": f"{order['matter_name']}（缴费）", "state": what, "state_name": NOTICE_NAMES[what],
            "comment": comment, "at": now_ms(), "page": f"affairs/application/index?id={order['application_id']}"}])


def refund_of(out_trade_no: str, amount_fen: int, reason: str, out_refund_no: str) -> dict[str, Any]:
    return {"out_refund_no": out_refund_no, "out_trade_no": out_trade_no, "amount_fen": amount_fen,
            "reason": reason, "state": "requested", "refund_id": None, "at": now_ms()}
