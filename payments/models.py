"""Request and response models of fees and payments (amounts in integer fen)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from matters.fees import DUE_NAMES
from server.models import Input

STATE_NAMES = {"pending": "缴费单生成中", "unpaid": "待缴费", "paying": "支付中", "paid": "已缴费", "waived": "已减免",
               "refunding": "退款中", "refunded": "已退款", "closed": "已关闭"}
CHANNEL_NAMES = {"jsapi": "微信支付（小程序）", "h5": "微信支付（H5）", "official_account": "微信支付（微信内网页）"}
NOTICE_NAMES = {"charged": "待缴费", "waived": "已减免", "paid": "已缴费", "closed": "缴费单已关闭",
                "refund_succeeded": "已退款", "refund_failed": "退款未成功"}
REFUND_NAMES = {"requested": "退款申请中", "processing": "退款处理中", "succeeded": "已退回", "failed": "退款未成功"}


class FeeItem(BaseModel):
    name: str
    amount_fen: int


class RefundOut(BaseModel):
    amount_fen: int
    reason: str
    state: Literal["requested", "processing", "succeeded", "failed"]
    state_name: str


class PaymentOut(BaseModel):
    id: str = Field(description="缴费单号")
    application_id: str
    number: str = Field(description="办件编号")
    matter_name: str
    collector: str = Field(description="执收单位")
    items: list[FeeItem]
    gross_fen: int = Field(description="应收（分）")
    amount_fen: int = Field(description="应缴（分）：减免后")
    due: Literal["submission", "approval"]
    due_name: str
    state: Literal["unpaid", "paying", "paid", "waived", "refunding", "refunded", "closed"]
    state_name: str
    waiver: dict[str, str] | None = Field(description="减免的规则（name）")
    paid: dict[str, Any] | None = Field(description="缴费时间（at）、方式（channel）、微信支付单号（transaction_id）")
    refunds: list[RefundOut]
    receipt: dict[str, Any] | None = Field(description="电子票据（certificate_id，在卡包中）")
    created_at: int


class H5PayIn(Input):
    return_path: str = Field("", max_length=200, pattern=r"^(/|/[A-Za-z0-9_\-.?=&%][A-Za-z0-9_\-./?=&%]*)?$",
                             description="支付后回到的本站页面（以 / 开头），默认办件详情")


class JsapiPayIn(Input):
    client: Literal["miniprogram", "official_account"] = Field(
        "miniprogram", description="miniprogram：小程序内（wx.requestPayment）；official_account：微信内打开的 H5"
        "（WeixinJSBridge getBrandWCPayRequest，付款人须先经公众号网页授权，否则 409 wechat_oa_authorize_needed）")


class PayOut(BaseModel):
    order_id: str
    channel: Literal["wechat-jsapi", "wechat-h5"]
    out_trade_no: str
    params: dict[str, str] | None = Field(None, description="wx.requestPayment / getBrandWCPayRequest 的参数")
    h5_url: str | None = Field(None, description="微信支付 H5 收银台地址（微信外的浏览器）")


class NotificationResource(BaseModel):
    original_type: str = Field(max_length=40)
    algorithm: str = Field(max_length=40)
    ciphertext: str = Field(max_length=20000)
    associated_data: str = Field("", max_length=200)
    nonce: str = Field(max_length=64)


class NotificationIn(BaseModel):
    id: str = Field(max_length=64)
    create_time: str = Field(max_length=40)
    resource_type: str = Field(max_length=40)
    event_type: str = Field(max_length=60)
    summary: str = Field("", max_length=200)
    resource: NotificationResource


class ReconciliationQuery(Input):
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="对账日期 YYYY-MM-DD（北京时间）")


class Mismatch(BaseModel):
    kind: Literal["missing_in_bill", "missing_in_ledger", "amount_differs"]
    kind_name: str
    type: Literal["payment", "refund"]
    type_name: str
    ref: str = Field(description="商户订单号 / 商户退款单号")
    ledger_fen: int | None
    bill_fen: int | None
    application_id: str | None


class FailedRefund(BaseModel):
    application_id: str
    number: str
    out_refund_no: str
    amount_fen: int
    reason: str
    at: int


class MerchantReconciliation(BaseModel):
    date: str
    merchant: str
    mchid: str
    department_name: str
    ledger: dict[str, int]
    bill: dict[str, int]
    mismatches: list[Mismatch]
    checked_at: int
    failed_refunds: list[FailedRefund] = Field(default_factory=list,
                                               description="退款未成功（微信关闭或异常）的退款：须人工跟进，不限日期")


class ReconciliationOut(BaseModel):
    date: str
    merchants: list[MerchantReconciliation]
    mismatches: int


def attempt_of(order: dict[str, Any], out_trade_no: str) -> dict[str, Any] | None:
    return next((a for a in order["attempts"] if a["out_trade_no"] == out_trade_no), None)


def _paid_with(order: dict[str, Any]) -> str:
    """How it was paid, by the attempt that paid it (one in the official account's AppID: in WeChat's browser)."""
    attempt = attempt_of(order, order["paid"]["out_trade_no"]) or {}
    return CHANNEL_NAMES["official_account" if attempt.get("appid") else order["paid"]["channel"]]


def as_payment(order: dict[str, Any]) -> dict[str, Any]:
    """An order as its payer sees it."""
    return {
        "id": order["_id"], "application_id": order["application_id"], "number": order["number"],
        "matter_name": order["matter_name"], "collector": order["collector"]["department_name"],
        "items": order["items"], "gross_fen": order["gross_fen"], "amount_fen": order["amount_fen"],
        "due": order["due"], "due_name": DUE_NAMES[order["due"]], "state": order["state"],
        "state_name": STATE_NAMES[order["state"]], "waiver": order["waiver"],
        "paid": {"at": order["paid"]["at"], "channel": _paid_with(order),
                 "transaction_id": order["paid"]["transaction_id"]} if order["paid"] else None,
        "refunds": [{"amount_fen": r["amount_fen"], "reason": r["reason"], "state": r["state"],
                     "state_name": REFUND_NAMES[r["state"]]} for r in order["refunds"]],
        "receipt": order.get("receipt"), "created_at": order["created_at"],
    }
