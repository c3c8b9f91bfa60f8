"""HTTP handlers of the holder's wallet, sharing (亮证) and verifying a share."""
from __future__ import annotations

from pathlib import Path

from card_wallet.holding.models import (
    ImageQuery,
    Reminder,
    ReminderList,
    RevealQuery,
    ShareImageQuery,
    ShareIn,
    ShareOut,
    ShareView,
    UsageItem,
    UsageList,
    UsageQuery,
    WalletDetail,
    WalletItem,
    WalletList,
)
from card_wallet.holding.service import HoldingService
from card_wallet.issuing.views import CERT_ID
from server.clock import to_datetime
from server.http.base import BaseHandler
from server.http.h5 import send_index, wants_page
from server.http.routing import operation, route
from server.principal import KIOSK, PERSON_CHANNELS, STAFF, Principal

WALLET = ["卡包 Wallet"]
VERIFY = ["核验 Verify"]
TOKEN = r"(?P<token>[A-Za-z0-9_-]{20,64})"


class _Base(BaseHandler):
    def initialize(self, wallet: HoldingService) -> None:
        self.wallet = wallet


class WalletHandler(_Base):
    @operation("我的卡包（或当前代表的企业的卡包，需“证照”授权）", tags=WALLET, auth=PERSON_CHANNELS, proxy="certificates",
               response=WalletList)
    async def get(self, principal: Principal) -> WalletList:
        return WalletList(items=[WalletItem(**c) for c in await self.wallet.list(principal)])


class WalletItemHandler(_Base):
    @operation("证照详情（敏感字段默认脱敏；reveal=1 仅持证人本人）与核验结果", tags=WALLET, auth=PERSON_CHANNELS, proxy="certificates",
               query=RevealQuery, response=WalletDetail, errors=(403, 404))
    async def get(self, principal: Principal, cert_id: str, query: RevealQuery) -> WalletDetail:
        return WalletDetail(**await self.wallet.detail(principal, cert_id, query.reveal, self.client_ip))


class WalletImageHandler(_Base):
    @operation("证照图片：带用途水印与核验二维码（亮证）", tags=WALLET, auth=PERSON_CHANNELS, proxy="certificates", query=ImageQuery,
               content_type="image/png", errors=(404, 409))
    async def get(self, principal: Principal, cert_id: str, query: ImageQuery) -> None:
        png = await self.wallet.image(principal, cert_id, query.purpose, self.client_ip)
        self.set_header("Content-Type", "image/png")
        self.finish(png)


class SharesHandler(_Base):
    @operation("亮证：选择要出示的字段、用途与有效期（≤10 分钟），得到核验令牌与链接", tags=WALLET,
               auth=PERSON_CHANNELS, proxy="certificates", body=ShareIn, response=ShareOut, status=201, errors=(404, 409))
    async def post(self, principal: Principal, cert_id: str, body: ShareIn) -> ShareOut:
        r = await self.wallet.share(principal, cert_id, body.purpose, body.fields, body.ttl, self.client_ip)
        return ShareOut(**{**r, "expires_at": to_datetime(r["expires_at"])})


class UsageHandler(_Base):
    @operation("用证记录：我的证照何时被谁以何用途查看", tags=WALLET, auth=PERSON_CHANNELS, proxy="certificates", query=UsageQuery,
               response=UsageList)
    async def get(self, principal: Principal, query: UsageQuery) -> UsageList:
        rows = await self.wallet.usage(principal, query.limit, query.before)
        return UsageList(items=[UsageItem(**{**r, "at": to_datetime(r["at"])}) for r in rows])


class RemindersHandler(_Base):
    @operation("证照到期提醒（30 天内到期）", tags=WALLET, auth=PERSON_CHANNELS, proxy="certificates", response=ReminderList)
    async def get(self, principal: Principal) -> ReminderList:
        return ReminderList(items=[Reminder(**r) for r in await self.wallet.reminders(principal)])


class VerifyShareHandler(_Base):
    def initialize(self, wallet: HoldingService, h5_dist: Path) -> None:
        super().initialize(wallet)
        self.h5_dist = h5_dist

    @operation("核验亮证码：只返回持证人选择出示的字段，附签名、发证机关与当前状态（无需登录）", tags=VERIFY,
               response=ShareView, errors=(404, 410, 429),
               description="二维码中的核验链接：手机浏览器（Accept: text/html）打开的是可读的核验页面，"
                           "页面再以 Accept: application/json 取数据；程序取到 JSON。")
    async def get(self, token: str) -> ShareView | None:
        if wants_page(self):  # a phone camera opening the QR: the readable page, which asks again for JSON
            await send_index(self, self.h5_dist)
            return None
        viewer = await self.optional_viewer()
        r = await self.wallet.view_share(token, viewer, self.client_ip)
        return ShareView(**{**r, "expires_at": to_datetime(r["expires_at"])})

    async def optional_viewer(self) -> dict[str, str]:
        """A kiosk, clerk or person may identify itself; anyone else is an anonymous verifier."""
        if not self.bearer_token():
            return {"type": "anonymous", "id": "", "name": "匿名核验"}
        principal = await self.authenticate(frozenset({*PERSON_CHANNELS, KIOSK, STAFF}))
        kind = {KIOSK: "device", STAFF: "staff"}.get(principal.channel, "person")
        name = principal.claims.get("name") or principal.subject.split(":", 1)[-1]
        return {"type": kind, "id": principal.subject, "name": name}


class ShareImageHandler(_Base):
    @operation("亮证码对应的证照图片（仅所出示的字段，带用途水印；masked=true 时敏感字段脱敏）", tags=VERIFY,
               content_type="image/png", query=ShareImageQuery, errors=(404, 410, 429))
    async def get(self, token: str, query: ShareImageQuery) -> None:
        png = await self.wallet.share_image(token, self.client_ip, query.masked)
        self.set_header("Content-Type", "image/png")
        self.finish(png)



class ShareQrHandler(_Base):
    @operation("亮证码的核验二维码图片（小程序展示用；扫码即打开核验页面）", tags=VERIFY, content_type="image/png",
               errors=(404, 410, 429))
    async def get(self, token: str) -> None:
        png = await self.wallet.share_qr(token, self.client_ip)
        self.set_header("Content-Type", "image/png")
        self.finish(png)


def routes(wallet: HoldingService, h5_dist: Path) -> list:
    deps = {"wallet": wallet}
    return [
        route(r"/api/v1/wallet", WalletHandler, **deps),
        route(r"/api/v1/wallet/usage", UsageHandler, **deps),
        route(r"/api/v1/wallet/reminders", RemindersHandler, **deps),
        route(rf"/api/v1/wallet/{CERT_ID}", WalletItemHandler, **deps),
        route(rf"/api/v1/wallet/{CERT_ID}/image", WalletImageHandler, **deps),
        route(rf"/api/v1/wallet/{CERT_ID}/shares", SharesHandler, **deps),
        route(rf"/api/v1/verify/shares/{TOKEN}", VerifyShareHandler, **deps, h5_dist=h5_dist),
        route(rf"/api/v1/verify/shares/{TOKEN}/image", ShareImageHandler, **deps),
        route(rf"/api/v1/verify/shares/{TOKEN}/qr", ShareQrHandler, **deps),
    ]
