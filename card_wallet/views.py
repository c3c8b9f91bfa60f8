"""HTTP handlers of the wallet: catalog, issuer API, holder wallet, sharing, verification."""
from __future__ import annotations

from card_wallet.models import (AssertionIn, CertificateTypeList, CertificateTypeOut, ImageQuery, IssueIn, IssueOut,
                                IssuerIn, IssuerKeyIn, Reminder, ReminderList, RevealQuery, ShareIn, ShareOut,
                                ShareView, StatusChangeIn, UsageItem, UsageList, UsageQuery, WalletDetail, WalletItem,
                                WalletList)
from identity.code_models import AccessOut
from identity.sessions import Principal
from identity.tokens import ISSUER, PERSON_CHANNELS, STAFF
from server.clock import to_datetime
from server.http.base import BaseHandler
from server.http.routing import operation, route

WALLET = ["卡包 Wallet"]
ISSUERS = ["发证机关 Issuers"]
VERIFY = ["核验 Verify"]
CERT_ID = r"(?P<cert_id>1\.2\.156\.3005\.2\.[0-9A-Z]{21}\.[0-9A-Z]{18}\.[0-9A-Z]{1,20}\.[0-9]{3}\.[0-9A-Z])"
TOKEN = r"(?P<token>[A-Za-z0-9_-]{20,64})"


class CertificateTypesHandler(BaseHandler):
    @operation("证照目录：证照类型、字段（JSON Schema）、敏感字段与展示规则", tags=WALLET, response=CertificateTypeList)
    async def get(self) -> CertificateTypeList:
        self.set_header("Cache-Control", "public, max-age=300")
        return CertificateTypeList(items=[CertificateTypeOut(**t.public_dict()) for t in self.ctx.catalog.all()])


class IssuerTokenHandler(BaseHandler):
    @operation("发证机关以签名断言换取访问令牌（aud=issuer）", tags=ISSUERS, body=AssertionIn, response=AccessOut,
               errors=(401, 403))
    async def post(self, body: AssertionIn) -> AccessOut:
        token, ttl = await self.ctx.issuers.token(body.assertion)
        return AccessOut(access_token=token, expires_in=ttl)


class IssuerKeysHandler(BaseHandler):
    @operation("全部发证机关的验签公钥（JWKS，带 issuer 与 status），供离线核验", tags=ISSUERS)
    async def get(self) -> dict:
        self.set_header("Cache-Control", "public, max-age=300")
        return await self.ctx.issuers.public_keys()


class IssueHandler(BaseHandler):
    @operation("签发电子证照（发证机关签名；request_id 幂等）", tags=ISSUERS, auth=[ISSUER], body=IssueIn,
               response=IssueOut, status=201, errors=(403, 409, 422))
    async def post(self, principal: Principal, body: IssueIn) -> IssueOut:
        return IssueOut(**await self.ctx.wallet.issue(principal, body.model_dump()))


class UpdateHandler(BaseHandler):
    @operation("更新电子证照（新版本取代旧版本；request_id 幂等）", tags=ISSUERS, auth=[ISSUER], body=IssueIn,
               response=IssueOut, status=201, errors=(403, 404, 409, 422))
    async def post(self, principal: Principal, cert_id: str, body: IssueIn) -> IssueOut:
        return IssueOut(**await self.ctx.wallet.update(principal, cert_id, body.model_dump()))


class StatusHandler(BaseHandler):
    @operation("中止 / 恢复 / 撤销电子证照（suspend | reinstate | revoke；request_id 幂等）", tags=ISSUERS,
               auth=[ISSUER], body=StatusChangeIn, response=IssueOut, errors=(403, 404, 409, 422))
    async def post(self, principal: Principal, cert_id: str, action: str, body: StatusChangeIn) -> IssueOut:
        return IssueOut(**await self.ctx.wallet.change_status(principal, cert_id, action, body.model_dump()))


class WalletHandler(BaseHandler):
    @operation("我的卡包（或当前代表的企业的卡包，需“证照”授权）", tags=WALLET, auth=PERSON_CHANNELS,
               response=WalletList)
    async def get(self, principal: Principal) -> WalletList:
        return WalletList(items=[WalletItem(**c) for c in await self.ctx.wallet.list(principal)])


class WalletItemHandler(BaseHandler):
    @operation("证照详情（敏感字段默认脱敏；reveal=1 仅持证人本人）与核验结果", tags=WALLET, auth=PERSON_CHANNELS,
               query=RevealQuery, response=WalletDetail, errors=(403, 404))
    async def get(self, principal: Principal, cert_id: str, query: RevealQuery) -> WalletDetail:
        return WalletDetail(**await self.ctx.wallet.detail(principal, cert_id, query.reveal, self.client_ip))


class WalletImageHandler(BaseHandler):
    @operation("证照图片：带用途水印与核验二维码（亮证）", tags=WALLET, auth=PERSON_CHANNELS, query=ImageQuery,
               content_type="image/png", errors=(404, 409))
    async def get(self, principal: Principal, cert_id: str, query: ImageQuery) -> None:
        png = await self.ctx.wallet.image(principal, cert_id, query.purpose, self.client_ip)
        self.set_header("Content-Type", "image/png")
        self.finish(png)


class SharesHandler(BaseHandler):
    @operation("亮证：选择要出示的字段、用途与有效期（≤10 分钟），得到核验令牌与链接", tags=WALLET,
               auth=PERSON_CHANNELS, body=ShareIn, response=ShareOut, status=201, errors=(404, 409))
    async def post(self, principal: Principal, cert_id: str, body: ShareIn) -> ShareOut:
        r = await self.ctx.wallet.share(principal, cert_id, body.purpose, body.fields, body.ttl, self.client_ip)
        return ShareOut(**{**r, "expires_at": to_datetime(r["expires_at"])})


class UsageHandler(BaseHandler):
    @operation("用证记录：我的证照何时被谁以何用途查看", tags=WALLET, auth=PERSON_CHANNELS, query=UsageQuery,
               response=UsageList)
    async def get(self, principal: Principal, query: UsageQuery) -> UsageList:
        rows = await self.ctx.wallet.usage(principal, query.limit, query.before)
        return UsageList(items=[UsageItem(**{**r, "at": to_datetime(r["at"])}) for r in rows])


class RemindersHandler(BaseHandler):
    @operation("证照到期提醒（30 天内到期）", tags=WALLET, auth=PERSON_CHANNELS, response=ReminderList)
    async def get(self, principal: Principal) -> ReminderList:
        return ReminderList(items=[Reminder(**r) for r in await self.ctx.wallet.reminders(principal)])


class VerifyShareHandler(BaseHandler):
    @operation("核验亮证码：只返回持证人选择出示的字段，附签名、发证机关与当前状态（无需登录）", tags=VERIFY,
               response=ShareView, errors=(404, 410))
    async def get(self, token: str) -> ShareView:
        viewer = await self.optional_viewer()
        r = await self.ctx.wallet.view_share(token, viewer, self.client_ip)
        return ShareView(**{**r, "expires_at": to_datetime(r["expires_at"])})

    async def optional_viewer(self) -> dict[str, str]:
        """A kiosk, clerk or person may identify itself; anyone else is an anonymous verifier."""
        if not self.bearer_token():
            return {"type": "anonymous", "id": "", "name": "匿名核验"}
        principal = await self.authenticate(frozenset({*PERSON_CHANNELS, "kiosk", STAFF}))
        kind = {"kiosk": "device", STAFF: "staff"}.get(principal.channel, "person")
        name = principal.claims.get("name") or principal.subject.split(":", 1)[-1]
        return {"type": kind, "id": principal.subject, "name": name}


class ShareImageHandler(BaseHandler):
    @operation("亮证码对应的证照图片（仅所出示的字段，带用途水印）", tags=VERIFY, content_type="image/png",
               errors=(404, 410))
    async def get(self, token: str) -> None:
        png = await self.ctx.wallet.share_image(token)
        self.set_header("Content-Type", "image/png")
        self.finish(png)


class AdminIssuersHandler(BaseHandler):
    @operation("登记发证机关（平台管理员）：代码、名称、可签发的证照类型、签名公钥", tags=["管理 Admin"], auth=[STAFF],
               body=IssuerIn, status=201, errors=(403, 409))
    async def post(self, principal: Principal, body: IssuerIn) -> dict:
        return await self.ctx.issuers.register(principal, body.code, body.name, body.department, body.allowed_types,
                                               body.public_key_pem)


class AdminIssuerKeysHandler(BaseHandler):
    @operation("为发证机关增加签名公钥（密钥轮换）", tags=["管理 Admin"], auth=[STAFF], body=IssuerKeyIn, status=201,
               errors=(403, 404, 409))
    async def post(self, principal: Principal, code: str, body: IssuerKeyIn) -> dict:
        return await self.ctx.issuers.add_key(principal, code, body.public_key_pem)


def routes() -> list:
    return [
        route(r"/api/v1/certificate-types", CertificateTypesHandler),
        route(r"/api/v1/issuers/token", IssuerTokenHandler),
        route(r"/api/v1/issuers/keys", IssuerKeysHandler),
        route(r"/api/v1/issuer/certificates", IssueHandler),
        route(rf"/api/v1/issuer/certificates/{CERT_ID}/update", UpdateHandler),
        route(rf"/api/v1/issuer/certificates/{CERT_ID}/(?P<action>suspend|reinstate|revoke)", StatusHandler),
        route(r"/api/v1/wallet", WalletHandler),
        route(r"/api/v1/wallet/usage", UsageHandler),
        route(r"/api/v1/wallet/reminders", RemindersHandler),
        route(rf"/api/v1/wallet/{CERT_ID}", WalletItemHandler),
        route(rf"/api/v1/wallet/{CERT_ID}/image", WalletImageHandler),
        route(rf"/api/v1/wallet/{CERT_ID}/shares", SharesHandler),
        route(rf"/api/v1/verify/shares/{TOKEN}", VerifyShareHandler),
        route(rf"/api/v1/verify/shares/{TOKEN}/image", ShareImageHandler),
        route(r"/api/v1/admin/issuers", AdminIssuersHandler),
        route(r"/api/v1/admin/issuers/(?P<code>[0-9A-Z]{18})/keys", AdminIssuerKeysHandler),
    ]
