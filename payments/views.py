"""HTTP handlers of fees: an application's payment order, paying it with WeChat Pay (JSAPI in
the mini-program and in WeChat's browser, H5 outside WeChat), WeChat Pay's notification, and the supervisor's
reconciliation."""
from __future__ import annotations

from payments.models import (H5PayIn, JsapiPayIn, NotificationIn, PaymentOut, PayOut, ReconciliationOut,
                             ReconciliationQuery)
from payments.reconciliation import Reconciliation
from payments.service import PaymentService
from server.http.base import BaseHandler
from server.http.routing import IDEMPOTENCY_KEY, Header, operation, route
from server.principal import PERSON_CHANNELS, STAFF, Principal

TAGS = ["缴费 Payments"]
STAFF_TAGS = ["缴费对账 Payment staff"]
APP_ID = r"(?P<app_id>a[0-9a-f]{24})"
ORDER_ID = r"(?P<order_id>po[0-9a-f]{24})"
WECHATPAY_HEADERS = {
    "Wechatpay-Signature": Header("微信支付平台对通知的签名（RSA-SHA256）", max_length=1024),
    "Wechatpay-Timestamp": Header("签名时间戳", max_length=20),
    "Wechatpay-Nonce": Header("签名随机串", max_length=64),
    "Wechatpay-Serial": Header("微信支付平台公钥 ID", max_length=100),
}


class _Base(BaseHandler):
    def initialize(self, payments: PaymentService, reconciliation: Reconciliation) -> None:
        self.payments = payments
        self.reconciliation = reconciliation


class ApplicationPaymentHandler(_Base):
    @operation("办件的缴费单：应缴项目与金额（分）、减免、缴费与退款状态、电子票据", tags=TAGS, auth=PERSON_CHANNELS,
               response=PaymentOut, errors=(404,), proxy="matters")
    async def get(self, principal: Principal, app_id: str) -> PaymentOut:
        return PaymentOut(**await self.payments.of_application(principal, app_id))


class JsapiPayHandler(_Base):
    @operation("微信支付（JSAPI）：返回 wx.requestPayment（小程序）或 getBrandWCPayRequest（微信内的 H5）的参数；"
               "付款人须在小程序中以微信登录，或经公众号网页授权",
               tags=TAGS, auth=PERSON_CHANNELS, body=JsapiPayIn, response=PayOut, status=201,
               errors=(400, 404, 409, 422), proxy="matters", headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    async def post(self, principal: Principal, order_id: str, body: JsapiPayIn) -> None:
        answer, created = await self.payments.pay(principal, order_id, "jsapi", self.idempotency_key(), self.client_ip,
                                                  client=body.client)
        self.send_json(PayOut(**answer), 201 if created else 200)


class H5PayHandler(_Base):
    @operation("微信支付（H5，微信外的浏览器）：返回收银台地址，支付后回到 return_path",
               tags=TAGS, auth=PERSON_CHANNELS, body=H5PayIn, response=PayOut, status=201,
               errors=(400, 404, 409, 422), proxy="matters", headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    async def post(self, principal: Principal, order_id: str, body: H5PayIn) -> None:
        answer, created = await self.payments.pay(principal, order_id, "h5", self.idempotency_key(), self.client_ip,
                                                  body.return_path)
        self.send_json(PayOut(**answer), 201 if created else 200)


class NotifyHandler(_Base):
    @operation("微信支付通知（支付成功、退款结果）：验签（平台公钥）、解密（APIv3 密钥）、核对商户、订单与金额；"
               "签名无效 401、未知订单 404、金额不符 422，均不作改变；重复通知只入账一次。成功应答 204",
               tags=STAFF_TAGS, body=NotificationIn, status=204, errors=(400, 401, 404, 409, 422),
               headers=WECHATPAY_HEADERS)
    async def post(self, body: NotificationIn) -> None:
        await self.payments.notify(self.request.headers, self.raw_body())


class ReconciliationHandler(_Base):
    @operation("对账（科长）：本部门收款商户某日的收款、退款流水与微信支付交易账单逐笔核对，列出不一致",
               tags=STAFF_TAGS, auth=[STAFF], query=ReconciliationQuery, response=ReconciliationOut,
               errors=(400, 403, 409))
    async def get(self, principal: Principal, query: ReconciliationQuery) -> ReconciliationOut:
        return ReconciliationOut(**await self.reconciliation.for_staff(principal, query.date))


def routes(payments: PaymentService, reconciliation: Reconciliation) -> list:
    deps = {"payments": payments, "reconciliation": reconciliation}
    return [
        route(rf"/api/v1/applications/{APP_ID}/payment", ApplicationPaymentHandler, **deps),
        route(rf"/api/v1/payments/{ORDER_ID}/wechat-jsapi", JsapiPayHandler, **deps),
        route(rf"/api/v1/payments/{ORDER_ID}/wechat-h5", H5PayHandler, **deps),
        route(r"/api/v1/payments/wechat/notify", NotifyHandler, **deps),
        route(r"/api/v1/staff/payments/reconciliation", ReconciliationHandler, **deps),
    ]
