"""Fees paid in the app: one order per charged application, paid through WeChat Pay (JSAPI in
the mini-program, H5 outside WeChat), confirmed by WeChat's signed notification or — when
that is lost — by the worker's active query, refunded automatically when the application
ends without a decision in the applicant's favour, every charge, waiver, payment and refund
written once to the ledger.

An order's states: ``unpaid`` → ``paying`` (a WeChat order exists) → ``paid``; ``waived``
(a waiver rule applied: nothing to pay); ``refunding`` → ``refunded`` (denied, not accepted or
withdrawn after paying); ``closed`` (the application ended before anyone paid). Every attempt
to pay is a WeChat order of its own (``out_trade_no`` = order id + channel + attempt), so two
devices paying at once pay twice at most once: the second payment is refunded at once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from identity.facade import Directory
from matters.applicant import Sources
from matters.catalog import MatterCatalog
from matters.fees import DUE_NAMES, FeeCase
from matters.rules import evaluate
from notifications.service import Notifications
from payments.models import STATE_NAMES, as_payment
from payments.provider import BadNotification, ProviderError, WeChatPayGateway
from payments.receipts import Receipts
from payments.storage import Ledger, OrderStore
from server.audit import SYSTEM, AuditTrail
from server.clock import now_ms
from server.errors import Conflict, NotFound, Unauthenticated, Unprocessable
from server.idempotency import Idempotency
from server.principal import Principal, holder_chain

log = logging.getLogger("superapp.payments")
CHINA = timezone(timedelta(hours=8))
NOTICE_NAMES = {"charged": "待缴费", "waived": "已减免", "paid": "已缴费", "closed": "缴费单已关闭",
                "refund_succeeded": "已退款", "refund_failed": "退款未成功"}
PAYABLE = ("unpaid", "paying")
ENDED = ("denied", "not_accepted", "withdrawn")
CHANNELS = {"jsapi": "J", "h5": "H"}


def china_day(rfc3339: str | None) -> str:
    at = datetime.fromisoformat(rfc3339) if rfc3339 else datetime.now(CHINA)
    return at.astimezone(CHINA).date().isoformat()


def needs_sweep(order: dict[str, Any]) -> bool:
    """Something the worker must settle: an open WeChat order, a refund not yet confirmed, a
    receipt not yet issued."""
    return (order["state"] == "paying" or any(r["state"] != "succeeded" for r in order["refunds"])
            or (order["state"] in ("paid", "refunding", "refunded") and not order.get("receipt")))


class PaymentService:
    def __init__(self, store: OrderStore, ledger: Ledger, catalog: MatterCatalog, sources: Sources,
                 gateway: WeChatPayGateway, directory: Directory, receipts: Receipts, notifications: Notifications,
                 audit: AuditTrail, idempotency: Idempotency, public_base_url: str, expire_minutes: int = 30):
        self.store = store
        self.ledger = ledger
        self.catalog = catalog
        self.sources = sources
        self.gateway = gateway
        self.directory = directory
        self.receipts = receipts
        self.notifications = notifications
        self.audit = audit
        self.idempotency = idempotency
        self.public_base_url = public_base_url.rstrip("/")
        self.expire_minutes = expire_minutes

    # -- the matters lifecycle's port (matters.fees.Fees) -----------------------------------------

    async def on_state(self, case: FeeCase) -> None:
        matter = self.catalog.get(case.matter)
        charges = matter.charges if matter else None
        if not charges:
            return
        due_now = {"submitted": "submission", "approved": "approval"}.get(case.state)
        if due_now == charges["due"]:
            await self._charge(case, charges)
        elif case.state in ENDED:
            order = await self.store.of_application(case.application_id)
            if order is not None:
                await self._unwind(order, "申请已撤回" if case.state == "withdrawn" else "申请未获批准")

    async def status(self, application_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {o["application_id"]: {"order_id": o["_id"], "state": o["state"], "state_name": STATE_NAMES[o["state"]],
                                      "amount_fen": o["amount_fen"], "due": o["due"]}
                for o in await self.store.of_applications(application_ids)}

    async def _charge(self, case: FeeCase, charges: dict[str, Any]) -> None:
        if await self.store.of_application(case.application_id) is not None:
            return
        matter = self.catalog.get(case.matter)
        applicant = await self.sources.of_key(case.applicant_key, case.applicant_name, case.person_id)
        certs = await self.sources.certificates(applicant, [matter]) if matter else {}
        facts = self.sources.rule_facts(applicant, case.form, certs, datetime.now(CHINA).date())
        waiver = next((w for w in charges.get("waivers", []) if evaluate(w["rule"], facts)), None)
        gross = sum(i["amount_fen"] for i in charges["items"])
        now = now_ms()
        order = {
            "_id": f"po{case.application_id[1:]}", "application_id": case.application_id, "number": case.number,
            "matter": case.matter, "matter_name": case.matter_name, "applicant_key": case.applicant_key,
            "applicant_name": case.applicant_name, "person_id": case.person_id,
            "merchant": charges["collector"]["merchant"], "collector": charges["collector"], "items": charges["items"],
            "gross_fen": gross, "amount_fen": 0 if waiver else gross, "due": charges["due"],
            "waiver": {"name": waiver["name"]} if waiver else None, "state": "waived" if waiver else "unpaid",
            "attempts": [], "attempt_refs": [], "paid": None, "refunds": [], "receipt": None, "sweep": False,
            "version": 1, "created_at": now, "updated_at": now,
        }
        order["mchid"] = self.gateway.merchants[order["merchant"]].mchid if order["merchant"] in \
            self.gateway.merchants else ""
        if not await self.store.insert(order):
            return
        await self._entry("charge", order, gross, order["_id"])
        if waiver:
            await self._entry("waiver", order, gross, order["_id"], note=waiver["name"])
        await self._tell(order, "charged" if not waiver else "waived",
                         f"减免：{waiver['name']}" if waiver else
                         f"应缴 {order['amount_fen'] / 100:.2f} 元（{DUE_NAMES[order['due']]}），请在办件详情中缴费")

    # -- the applicant's order -----------------------------------------------------------------

    async def _own(self, principal: Principal, order: dict[str, Any] | None) -> dict[str, Any]:
        applicant = await self.sources.applicant(principal)
        if order is None or order["applicant_key"] != applicant.key:
            raise NotFound("未找到该缴费单", code="payment_not_found")
        return order

    async def of_application(self, principal: Principal, application_id: str) -> dict[str, Any]:
        return as_payment(await self._own(principal, await self.store.of_application(application_id)))

    async def pay(self, principal: Principal, order_id: str, channel: str, idem_key: str, client_ip: str,
                  return_path: str = "") -> tuple[dict[str, Any], bool]:
        """A WeChat order to pay with (``jsapi``: the parameters of ``wx.requestPayment``; ``h5``:
        the pay page's URL). The same channel's open attempt is reused."""
        order = await self._own(principal, await self.store.get(order_id))
        payer = principal.proxy.proxy_id if principal.proxy is not None else principal.subject
        openid = None
        if channel == "jsapi":
            openid = (await self.directory.contact(payer)).openid
            if not openid:
                raise Conflict("请在微信小程序中登录后支付", code="wechat_payer_unknown")

        async def work(reserved: str, rerun: bool) -> dict[str, Any]:
            attempt = await self._attempt(order_id, channel, openid, client_ip)
            out = {"order_id": order_id, "channel": f"wechat-{channel}", "out_trade_no": attempt["out_trade_no"]}
            if channel == "jsapi":
                out["params"] = self.gateway.jsapi_params(order["merchant"], attempt["prepay_id"])
            else:
                back = f"{self.public_base_url}{return_path or '/applications/' + order['application_id']}"
                out["h5_url"] = f"{attempt['h5_url']}&redirect_url={quote(back, safe='')}"
            return out

        return await self.idempotency.run(f"payments.pay:{principal.subject}", idem_key,
                                          {"order": order_id, "channel": channel, "return": return_path}, work)

    async def _attempt(self, order_id: str, channel: str, openid: str | None, client_ip: str) -> dict[str, Any]:
        for _ in range(5):
            order = await self.store.get(order_id)
            if order is None:
                raise NotFound("未找到该缴费单", code="payment_not_found")
            if order["state"] not in PAYABLE:
                raise Conflict(f"该缴费单{STATE_NAMES[order['state']]}，无须支付", code="payment_not_payable",
                               extra={"state": order["state"]})
            now = now_ms()
            reusable = [a for a in order["attempts"] if a["channel"] == channel and a.get("open", True)
                        and a["expires_at"] - 5 * 60_000 > now and a.get("openid") == openid]
            if reusable:
                return reusable[-1]
            out_trade_no = f"{order_id}{CHANNELS[channel]}{len(order['attempts']) + 1}"
            expire = datetime.now(CHINA) + timedelta(minutes=self.expire_minutes)
            answer = await self._provider(self.gateway.prepay(
                order["merchant"], channel, out_trade_no, f"{order['collector']['department_name']}-{order['matter_name']}",
                order["amount_fen"], expire, openid, client_ip))
            attempt = {"out_trade_no": out_trade_no, "channel": channel, "openid": openid, "open": True,
                       "prepay_id": answer.get("prepay_id"), "h5_url": answer.get("h5_url"), "at": now,
                       "expires_at": int(expire.timestamp() * 1000)}
            moved = await self._move(order, {"state": "paying", "attempts": [*order["attempts"], attempt],
                                             "attempt_refs": [*order["attempt_refs"], out_trade_no]})
            if moved is not None:
                return attempt
            # another device created an attempt meanwhile: re-read, reuse it if it is this channel's
        raise Conflict("该缴费单正被同时操作，请稍后重试", code="payment_busy")

    # -- WeChat's notifications and the worker's queries ---------------------------------------------

    async def notify(self, headers: Any, body: bytes) -> None:
        """A signed, encrypted notification from WeChat Pay: verified (signature, merchant,
        order, amount) and applied once, however often it is delivered."""
        try:
            merchant, data = await self.gateway.decode_notification(headers, body.decode("utf-8", "replace"))
        except BadNotification:
            raise Unauthenticated("通知签名无效", code="notification_signature_invalid") from None
        resource = data["resource"]
        order = await self.store.by_attempt(resource.get("out_trade_no", ""))
        if order is None or order["mchid"] != merchant.mchid:
            raise NotFound("未找到该订单", code="payment_not_found")
        if data.get("event_type") == "TRANSACTION.SUCCESS":
            await self.settle_payment(order, resource)
        elif str(data.get("event_type", "")).startswith("REFUND."):
            await self.settle_refund(order, resource)

    async def settle_payment(self, order: dict[str, Any], trans: dict[str, Any]) -> dict[str, Any]:
        """A trade WeChat reports paid (notification or query)."""
        ref = trans.get("out_trade_no")
        if trans.get("trade_state") != "SUCCESS" or ref not in order["attempt_refs"]:
            raise Unprocessable("订单未支付成功", code="payment_not_successful")
        if trans.get("mchid") != order["mchid"] or (trans.get("amount") or {}).get("total") != order["amount_fen"]:
            log.error("payment %s: amount or merchant differs from order %s", ref, order["_id"])
            raise Unprocessable("支付金额或商户与缴费单不符", code="payment_amount_mismatch")
        if await self._entry("payment", order, order["amount_fen"], ref, trans.get("transaction_id", ""),
                             china_day(trans.get("success_time"))):
            log.info("payment %s of order %s recorded", ref, order["_id"])
        for _ in range(5):
            if order["paid"] and order["paid"]["out_trade_no"] == ref:
                return order  # told before
            attempts = [{**a, "open": False} if a["out_trade_no"] == ref else a for a in order["attempts"]]
            if order["state"] in PAYABLE:
                paid = {"out_trade_no": ref, "transaction_id": trans.get("transaction_id"),
                        "channel": next(a["channel"] for a in attempts if a["out_trade_no"] == ref),
                        "at": trans.get("success_time")}
                moved = await self._move(order, {"state": "paid", "paid": paid, "attempts": attempts})
                if moved is not None:
                    await self._tell(moved, "paid", f"已缴费 {moved['amount_fen'] / 100:.2f} 元，电子票据将放入卡包")
                    await self._close_others(moved)
                    return await self._issue_receipt(moved)
            elif any(r["out_trade_no"] == ref for r in order["refunds"]):
                return order  # paid twice (or after the application ended): its refund is under way
            else:
                why = "重复支付，自动退款" if order["paid"] else "申请已结束，自动退款"
                moved = await self._move(order, {"attempts": attempts, "refunds": [*order["refunds"], self._refund_of(
                    ref, order["amount_fen"], why, f"{ref}R")]})
                if moved is not None:
                    return await self._request_refunds(moved)
            order = await self.store.get(order["_id"]) or order
        raise Conflict("该缴费单正被同时操作，请稍后重试", code="payment_busy")

    async def settle_refund(self, order: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
        ref = refund.get("out_refund_no")
        mine = next((r for r in order["refunds"] if r["out_refund_no"] == ref), None)
        if mine is None:
            raise NotFound("未找到该退款", code="refund_not_found")
        status = refund.get("refund_status") or refund.get("status")
        if status not in ("SUCCESS", "CLOSED", "ABNORMAL"):
            return order
        if status == "SUCCESS":
            await self._entry("refund", order, mine["amount_fen"], ref, refund.get("refund_id", ""),
                              china_day(refund.get("success_time")))
        for _ in range(5):
            mine = next(r for r in order["refunds"] if r["out_refund_no"] == ref)
            if mine["state"] in ("succeeded", "failed"):
                return order
            state = "succeeded" if status == "SUCCESS" else "failed"
            refunds = [{**r, "state": state, "refund_id": refund.get("refund_id"), "done_at": now_ms()}
                       if r["out_refund_no"] == ref else r for r in order["refunds"]]
            main = order["state"] == "refunding" and order["paid"] and mine["out_trade_no"] == order["paid"][
                "out_trade_no"]
            moved = await self._move(order, {"refunds": refunds, **({"state": "refunded"} if main and state ==
                                                                     "succeeded" else {})})
            if moved is not None:
                await self._tell(moved, f"refund_{state}", f"{mine['reason']}：{mine['amount_fen'] / 100:.2f} 元"
                                 + ("已原路退回" if state == "succeeded" else "退款未成功，工作人员将与您联系"), ref)
                return moved
            order = await self.store.get(order["_id"]) or order
        raise Conflict("该缴费单正被同时操作，请稍后重试", code="payment_busy")

    async def sweep(self, older_than_seconds: float = 120) -> int:
        """Worker: what notifications did not settle — open WeChat orders are queried (a lost
        notification, a crash between WeChat's success and our update), refunds asked for
        again or queried, missing receipts issued."""
        n = 0
        for order in await self.store.waiting(now_ms() - int(older_than_seconds * 1000)):
            try:
                await self._settle(order)
                n += 1
            except Exception:  # noqa: BLE001 - the next round tries again
                log.warning("payments sweep: order %s left for the next round", order["_id"], exc_info=True)
        return n

    async def _settle(self, order: dict[str, Any]) -> None:
        for a in [a for a in order["attempts"] if a.get("open", True)]:
            trans = await self.gateway.query(order["merchant"], a["out_trade_no"])
            if trans and trans.get("trade_state") in ("SUCCESS", "REFUND"):
                order = await self.settle_payment(order, {**trans, "trade_state": "SUCCESS"})
            elif a["expires_at"] < now_ms() or (trans or {}).get("trade_state") == "CLOSED":
                await self.gateway.close_trade(order["merchant"], a["out_trade_no"])
                current = await self.store.get(order["_id"]) or order
                attempts = [{**x, "open": False} if x["out_trade_no"] == a["out_trade_no"] else x
                            for x in current["attempts"]]
                reopened = {"state": "unpaid"} if current["state"] == "paying" and not any(
                    x.get("open", True) for x in attempts) else {}
                order = await self._move(current, {"attempts": attempts, **reopened}) or current
        order = await self._request_refunds(order)
        for r in [r for r in order["refunds"] if r["state"] == "processing"]:
            found = await self.gateway.query_refund(order["merchant"], r["out_refund_no"])
            if found:
                order = await self.settle_refund(order, found)
        if order["state"] in ("paid", "refunding", "refunded") and not order.get("receipt"):
            order = await self._issue_receipt(order)
        await self._move(order, {})  # touched: the next round looks again later, if still needed

    # -- ending without a decision in the applicant's favour ------------------------------------------

    async def _unwind(self, order: dict[str, Any], reason: str) -> None:
        for _ in range(5):
            if order["state"] == "paid":
                moved = await self._move(order, {"state": "refunding", "refunds": [*order["refunds"], self._refund_of(
                    order["paid"]["out_trade_no"], order["amount_fen"], f"{reason}，自动退款", f"{order['_id']}R")]})
                if moved is not None:
                    await self._request_refunds(moved)
                    return
            elif order["state"] in PAYABLE:
                for a in [a for a in order["attempts"] if a.get("open", True)]:
                    if not await self._provider(self.gateway.close_trade(order["merchant"], a["out_trade_no"])):
                        trans = await self._provider(self.gateway.query(order["merchant"], a["out_trade_no"]))
                        order = await self.settle_payment(order, trans or {})
                        break  # paid at the last moment: refunded on the next turn
                else:
                    attempts = [{**a, "open": False} for a in order["attempts"]]
                    if await self._move(order, {"state": "closed", "attempts": attempts}) is not None:
                        await self._tell(order, "closed", f"{reason}，缴费单已关闭，无须缴费")
                        return
            else:
                return  # waived, closed, or already refunding
            order = await self.store.get(order["_id"]) or order

    @staticmethod
    def _refund_of(out_trade_no: str, amount_fen: int, reason: str, out_refund_no: str) -> dict[str, Any]:
        return {"out_refund_no": out_refund_no, "out_trade_no": out_trade_no, "amount_fen": amount_fen,
                "reason": reason, "state": "requested", "refund_id": None, "at": now_ms()}

    async def _request_refunds(self, order: dict[str, Any]) -> dict[str, Any]:
        """Ask WeChat for each refund not yet asked (the same out_refund_no is never refunded twice)."""
        for r in [r for r in order["refunds"] if r["state"] == "requested"]:
            try:
                answer = await self.gateway.refund(order["merchant"], r["out_trade_no"], r["out_refund_no"],
                                                   r["amount_fen"], order["amount_fen"], r["reason"])
            except ProviderError as e:
                log.warning("refund %s not accepted yet (%s); the sweep asks again", r["out_refund_no"], e)
                continue
            for _ in range(5):
                refunds = [{**x, "state": "processing", "refund_id": answer.get("refund_id")}
                           if x["out_refund_no"] == r["out_refund_no"] and x["state"] == "requested" else x
                           for x in order["refunds"]]
                moved = await self._move(order, {"refunds": refunds})
                if moved is not None:
                    order = moved
                    break
                order = await self.store.get(order["_id"]) or order
        return order

    async def _close_others(self, order: dict[str, Any]) -> None:
        """Paid: the other open WeChat orders are closed (one that was paid too is refunded when
        WeChat tells us, or when the sweep finds it)."""
        for a in [a for a in order["attempts"] if a.get("open", True)]:
            try:
                await self.gateway.close_trade(order["merchant"], a["out_trade_no"])
            except ProviderError:
                log.warning("could not close %s; the sweep will look at it", a["out_trade_no"])

    async def _issue_receipt(self, order: dict[str, Any]) -> dict[str, Any]:
        try:
            receipt = await self.receipts.issue(order)
        except Exception:  # noqa: BLE001 - the payment stands; the sweep issues it later
            log.warning("receipt of %s left for the sweep", order["_id"], exc_info=True)
            return order
        return await self._move(order, {"receipt": receipt}) or order

    # -- common ------------------------------------------------------------------------------------

    async def _provider(self, call: Any) -> Any:
        try:
            return await call
        except ProviderError as e:
            log.warning("WeChat Pay: %s", e)
            raise Conflict("微信支付暂时无法处理，请稍后重试", code="payment_provider_unavailable",
                           extra={"provider_code": e.code}) from None

    async def _move(self, order: dict[str, Any], set_: dict[str, Any]) -> dict[str, Any] | None:
        after = {**order, **set_}
        return await self.store.move(order["_id"], order["version"], {**set_, "sweep": needs_sweep(after)})

    async def _entry(self, kind: str, order: dict[str, Any], amount_fen: int, ref: str, provider_ref: str = "",
                     day: str | None = None, note: str = "") -> bool:
        return await self.ledger.add({
            "_id": f"{kind}:{ref}", "kind": kind, "order_id": order["_id"], "application_id": order["application_id"],
            "merchant": order["merchant"], "mchid": order["mchid"], "amount_fen": amount_fen, "ref": ref,
            "provider_ref": provider_ref, "day": day or china_day(None),
            "note": note, "at": now_ms()})

    async def _tell(self, order: dict[str, Any], what: str, comment: str, ref: str = "") -> None:
        """The applicant's audit trail and a notification."""
        chain = holder_chain(order["applicant_key"])
        await self.audit.record(chain, SYSTEM, f"payment.{what}", target={"type": "application",
                                                                         "id": order["application_id"]},
                                details={"number": order["number"], "amount_fen": order["amount_fen"],
                                         "comment": comment}, event=f"payment:{order['_id']}:{what}:{ref}")
        await self.notifications.enqueue([{
            "_id": f"{order['_id']}:{what}:{ref}", "application_id": order["application_id"], "number": order["number"],
            "person_id": order["person_id"], "department": order["collector"]["department"],
            "title": f"{order['matter_name']}（缴费）", "state": what, "state_name": NOTICE_NAMES[what],
            "comment": comment, "at": now_ms(), "page": f"affairs/application/index?id={order['application_id']}"}])
