"""Fees paid in the app: one order per charged application, paid through WeChat Pay (JSAPI in
the mini-program and in WeChat's browser, H5 outside WeChat), confirmed by WeChat's signed notification or — when
that is lost — by the worker's active query (:mod:`payments.settling`), refunded
automatically when the application ends without a decision in the applicant's favour, every
charge, waiver, payment and refund written once to the ledger.

An order's states: ``unpaid`` → ``paying`` (a WeChat order exists) → ``paid``; ``waived``
(a waiver rule applied: nothing to pay); ``refunding`` → ``refunded`` (denied, not accepted or
withdrawn after paying); ``closed`` (the application ended before anyone paid — also the
placeholder written when it ended before any charge, so a late charge cannot follow). Every
attempt to pay is a WeChat order of its own (``out_trade_no`` = order id + channel + attempt,
with the 商户号 it was made with), so two devices paying at once pay twice at most once: the
second payment is refunded at once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from identity.facade import Directory
from matters.applicant import Sources
from matters.catalog import MatterCatalog
from matters.fees import DUE_NAMES, FeeCase
from matters.rules import evaluate
from payments.models import STATE_NAMES, as_payment
from payments.provider import ProviderError, WeChatPayGateway
from payments.settling import PAYABLE, Settlement
from payments.storage import OrderStore
from server.calendar import CHINA
from server.clock import now_ms
from server.errors import Conflict, NotFound
from server.idempotency import Idempotency
from server.principal import Principal

log = logging.getLogger("superapp.payments")
ENDED = ("denied", "not_accepted", "withdrawn")
CHANNELS = {"jsapi": "J", "h5": "H"}


class PaymentService:
    def __init__(self, store: OrderStore, settlement: Settlement, catalog: MatterCatalog, sources: Sources,
                 gateway: WeChatPayGateway, directory: Directory, idempotency: Idempotency, public_base_url: str,
                 expire_minutes: int = 30):
        self.store = store
        self.settlement = settlement
        self.catalog = catalog
        self.sources = sources
        self.gateway = gateway
        self.directory = directory
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
            if order is None:  # ended before any charge: a late charge (a stale outbox round) finds this
                await self.store.insert(self._order(case, charges, None, "closed"))
            elif not order.get("placeholder"):
                await self.settlement.unwind(order, "申请已撤回" if case.state == "withdrawn" else "申请未获批准")

    async def status(self, application_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {o["application_id"]: {"order_id": o["_id"], "state": o["state"], "state_name": STATE_NAMES[o["state"]],
                                      "amount_fen": o["amount_fen"], "due": o["due"]}
                for o in await self.store.of_applications(application_ids) if not o.get("placeholder")}

    def _order(self, case: FeeCase, charges: dict[str, Any], waiver: dict[str, Any] | None, state: str
               ) -> dict[str, Any]:
        gross, now = sum(i["amount_fen"] for i in charges["items"]), now_ms()
        merchant = self.gateway.merchants.get(charges["collector"]["merchant"])
        return {
            "_id": f"po{case.application_id[1:]}", "application_id": case.application_id, "number": case.number,
            "matter": case.matter, "matter_name": case.matter_name, "applicant_key": case.applicant_key,
            "applicant_name": case.applicant_name, "person_id": case.person_id,
            "merchant": charges["collector"]["merchant"], "mchid": merchant.mchid if merchant else "",
            "collector": charges["collector"], "items": charges["items"], "gross_fen": gross,
            "amount_fen": 0 if waiver else gross, "due": charges["due"],
            "waiver": {"name": waiver["name"]} if waiver else None, "state": state,
            "attempts": [], "attempt_refs": [], "paid": None, "refunds": [], "receipt": None, "sweep": False,
            **({"placeholder": True} if state == "closed" else {}), "version": 1, "created_at": now, "updated_at": now,
        }

    async def _charge(self, case: FeeCase, charges: dict[str, Any]) -> None:
        """The order, once; its ledger entries and the word to the person are written again on a
        retry (each once: natural keys), so a failure half-way loses none of them."""
        order = await self.store.of_application(case.application_id)
        if order is None:
            matter = self.catalog.get(case.matter)
            applicant = await self.sources.of_key(case.applicant_key, case.applicant_name, case.person_id)
            certs = await self.sources.certificates(applicant, [matter]) if matter else {}
            facts = self.sources.rule_facts(applicant, case.form, certs, datetime.now(CHINA).date())
            waiver = next((w for w in charges.get("waivers", []) if evaluate(w["rule"], facts)), None)
            await self.store.insert(self._order(case, charges, waiver, "waived" if waiver else "unpaid"))
            order = await self.store.of_application(case.application_id)
        if order is None or order.get("placeholder"):
            return
        s = self.settlement
        await s.entry("charge", order, order["gross_fen"], order["_id"])
        if order["waiver"]:
            await s.entry("waiver", order, order["gross_fen"], order["_id"], note=order["waiver"]["name"])
            await s.tell(order, "waived", f"减免：{order['waiver']['name']}")
        else:
            await s.tell(order, "charged", f"应缴 {order['amount_fen'] / 100:.2f} 元（{DUE_NAMES[order['due']]}），"
                                           "请在办件详情中缴费")

    async def notify(self, headers: Any, body: bytes) -> None:
        await self.settlement.notify(headers, body)

    async def sweep(self, older_than_seconds: float = 120) -> int:
        return await self.settlement.sweep(older_than_seconds)

    # -- the applicant's order -----------------------------------------------------------------

    async def _own(self, principal: Principal, order: dict[str, Any] | None) -> dict[str, Any]:
        applicant = await self.sources.applicant(principal)
        if order is None or order["applicant_key"] != applicant.key:
            raise NotFound("未找到该缴费单", code="payment_not_found")
        return order

    async def of_application(self, principal: Principal, application_id: str) -> dict[str, Any]:
        return as_payment(await self._own(principal, await self.store.of_application(application_id)))

    async def pay(self, principal: Principal, order_id: str, channel: str, idem_key: str, client_ip: str,
                  return_path: str = "", client: str = "miniprogram") -> tuple[dict[str, Any], bool]:
        """A WeChat order to pay with (``jsapi``: the parameters of ``wx.requestPayment``, or of
        ``getBrandWCPayRequest`` for the ``official_account`` client — the H5 in WeChat's
        browser; ``h5``: the pay page's URL). The same channel and payer's open attempt is reused."""
        order = await self._own(principal, await self.store.get(order_id))
        if order["state"] not in PAYABLE:
            raise Conflict(f"该缴费单{STATE_NAMES[order['state']]}，无须支付", code="payment_not_payable",
                           extra={"state": order["state"]})
        payer = principal.proxy.proxy_id if principal.proxy is not None else principal.subject
        openid = appid = None
        if channel == "jsapi":
            openid, appid = await self._jsapi_payer(payer, order["merchant"], client)

        async def work(reserved: str, rerun: bool) -> dict[str, Any]:
            attempt = await self._attempt(order_id, channel, openid, client_ip, appid)
            out = {"order_id": order_id, "channel": f"wechat-{channel}", "out_trade_no": attempt["out_trade_no"]}
            if channel == "jsapi":
                out["params"] = self.gateway.jsapi_params(order["merchant"], attempt["prepay_id"], attempt.get("appid"))
            else:
                back = f"{self.public_base_url}{return_path or '/applications/' + order['application_id']}"
                out["h5_url"] = f"{attempt['h5_url']}&redirect_url={quote(back, safe='')}"
            return out

        return await self.idempotency.run(f"payments.pay:{principal.subject}", idem_key,
                                          {"order": order_id, "channel": channel, "return": return_path,
                                           "client": client}, work)

    async def _jsapi_payer(self, payer: str, merchant_id: str, client: str) -> tuple[str, str | None]:
        """The payer's openid for JSAPI and the appid it belongs to (None: the mini-program's)."""
        contact = await self.directory.contact(payer)
        if client == "miniprogram":
            if not contact.openid:
                raise Conflict("请在微信小程序中登录后支付", code="wechat_payer_unknown")
            return contact.openid, None
        merchant = self.gateway.merchants.get(merchant_id)
        if merchant is None:
            raise Conflict("该事项暂未开通在线缴费，请到办理窗口缴纳", code="payment_channel_unavailable")
        if not contact.oa_appid or merchant.oa_appid != contact.oa_appid:
            raise Conflict("该事项暂不支持在微信内的网页缴费，请在“政务超级应用”小程序中缴费",
                           code="payment_channel_unavailable")
        if not contact.oa_openid:
            raise Conflict("请先允许微信授权，再继续支付", code="wechat_oa_authorize_needed")
        return contact.oa_openid, contact.oa_appid

    async def _attempt(self, order_id: str, channel: str, openid: str | None, client_ip: str,
                       appid: str | None = None) -> dict[str, Any]:
        for _ in range(5):
            order = await self.store.get(order_id)
            if order is None:
                raise NotFound("未找到该缴费单", code="payment_not_found")
            if order["state"] not in PAYABLE:
                raise Conflict(f"该缴费单{STATE_NAMES[order['state']]}，无须支付", code="payment_not_payable",
                               extra={"state": order["state"]})
            now = now_ms()
            reusable = [a for a in order["attempts"] if a["channel"] == channel and a.get("open", True)
                        and a["expires_at"] - 5 * 60_000 > now and a.get("openid") == openid and a.get("appid") == appid]
            if reusable:
                return reusable[-1]
            out_trade_no = f"{order_id}{CHANNELS[channel]}{len(order['attempts']) + 1}"
            expire = datetime.now(CHINA) + timedelta(minutes=self.expire_minutes)
            answer = await self._provider(self.gateway.prepay(
                order["merchant"], channel, out_trade_no, f"{order['collector']['department_name']}-{order['matter_name']}",
                order["amount_fen"], expire, openid, client_ip, appid))
            attempt = {"out_trade_no": out_trade_no, "channel": channel, "openid": openid, "open": True,
                       **({"appid": appid} if appid else {}),
                       "mchid": self.gateway.merchant(order["merchant"]).mchid,
                       "prepay_id": answer.get("prepay_id"), "h5_url": answer.get("h5_url"), "at": now,
                       "expires_at": int(expire.timestamp() * 1000)}
            moved = await self.settlement.move(order, {"state": "paying", "attempts": [*order["attempts"], attempt],
                                             "attempt_refs": [*order["attempt_refs"], out_trade_no]})
            if moved is not None:
                return attempt
            # another device created an attempt meanwhile: re-read, reuse it if it is this channel's
        raise Conflict("该缴费单正被同时操作，请稍后重试", code="payment_busy")

    async def _provider(self, call: Any) -> Any:
        try:
            return await call
        except ProviderError as e:
            log.warning("WeChat Pay: %s", e)
            if e.code == "MERCHANT_NOT_CONFIGURED":
                raise Conflict("该事项暂未开通在线缴费，请到办理窗口缴纳", code="payment_channel_unavailable") from None
            raise Conflict("微信支付暂时无法处理，请稍后再试", code="payment_provider_unavailable") from None

    # -- when an account closes (ports of identity's AccountClosure) ------------------------------

    async def open_obligations(self, person_id: str) -> list[dict[str, Any]]:
        """Money still moving: a payment not yet confirmed, a refund not yet back."""
        return [{"kind": "payment", "title": f"“{o['matter_name']}”的费用{STATE_NAMES[o['state']]}",
                 "detail": "请等待支付确认或退款到账后再注销", "link": f"/applications/{o['application_id']}"}
                for o in await self.store.unsettled_of_person(person_id)]

    async def forget_applicant(self, person_id: str, pseudonym: str) -> None:
        """The orders and the ledger stay (财务凭证); the payer is shown by the pseudonym."""
        await self.store.rename_payer(person_id, pseudonym)
