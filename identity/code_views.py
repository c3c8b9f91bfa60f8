"""HTTP handlers: the holder's service codes and consents, staff login, device tokens."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from identity.code_models import (AccessOut, AssertionIn, CodeOut, CodeQuery, ConsentDecisionIn, ConsentList,
                                  ConsentListQuery, ConsentOut, HistoryQuery, PngQuery, RevokeOut, ScanHistory,
                                  ScanHistoryItem, StaffLoginIn, StaffLoginOut, StaffOut)
from identity.code_service import IssuedCode
from identity.enterprise_views import ID
from identity.models import RefreshIn, TokensOut
from identity.sessions import Principal
from identity.tokens import PERSON_CHANNELS
from identity.views import IdentityHandler, tokens_out
from server.clock import to_datetime
from server.http.routing import operation, route

CODES = ["服务码 Codes"]
CONSENT = ["授权 Consent"]
STAFF = ["工作人员 Staff"]


def code_out(issued: IssuedCode, png_path: str) -> CodeOut:
    from urllib.parse import quote

    return CodeOut(code=issued.code, short_code=issued.short_code,
                   expires_at=to_datetime(issued.expires_at * 1000),
                   refresh_after=to_datetime(issued.refresh_after * 1000), subject_type=issued.subject_type,
                   preauthorized_items=issued.items, png_url=f"{png_path}?c={quote(issued.code, safe='')}")


def consent_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "state": doc["state"], "purpose": doc["purpose"], "requester": doc["requester"],
            "items": doc["items"], "created_at": to_datetime(doc["created_at"]),
            "expires_at": to_datetime(doc["expires_at"]), "decided_at": to_datetime(doc.get("decided_at"))}


class PersonCodeHandler(IdentityHandler):
    @operation("我的服务码（一人一码）：60 秒有效，可选预授权信息项（需 L2）", tags=CODES, auth=PERSON_CHANNELS,
               min_level=2, query=CodeQuery, response=CodeOut, errors=(400,))
    async def get(self, principal: Principal, query: CodeQuery) -> CodeOut:
        issued = await self.ctx.codes.issue(principal, None, query.items)
        return code_out(issued, "/api/v1/codes/person/png")


class EnterpriseCodeHandler(IdentityHandler):
    @operation("企业服务码（一企一码）：需该企业“企业码”授权", tags=CODES, auth=PERSON_CHANNELS,
               query=CodeQuery, response=CodeOut, errors=(404,))
    async def get(self, principal: Principal, enterprise_id: str, query: CodeQuery) -> CodeOut:
        issued = await self.ctx.codes.issue(principal, enterprise_id, query.items)
        return code_out(issued, f"/api/v1/codes/enterprise/{enterprise_id}/png")


class CodePngHandler(IdentityHandler):
    @operation("服务码二维码图片（PNG）", tags=CODES, auth=PERSON_CHANNELS, query=PngQuery, content_type="image/png",
               errors=(404, 422))
    async def get(self, principal: Principal, query: PngQuery, enterprise_id: str | None = None) -> None:
        png = await self.ctx.codes.png(principal, query.c)
        self.set_header("Content-Type", "image/png")
        self.set_header("Cache-Control", "private, max-age=60")
        self.finish(png)


class RevokeIn(BaseModel):
    enterprise_id: str | None = Field(None, pattern=r"^e[0-9a-f]{24}$")


class RevokeAllHandler(IdentityHandler):
    @operation("作废我（或企业）所有已出示的服务码（如手机丢失）", tags=CODES, auth=PERSON_CHANNELS, body=RevokeIn,
               response=RevokeOut, errors=(404,))
    async def post(self, principal: Principal, body: RevokeIn) -> RevokeOut:
        at = await self.ctx.codes.revoke_all(principal, body.enterprise_id, self.caller(principal.channel))
        return RevokeOut(revoked_before=to_datetime(at))


class HistoryQueryE(HistoryQuery):
    enterprise_id: str | None = Field(None, pattern=r"^e[0-9a-f]{24}$")


class CodeHistoryHandler(IdentityHandler):
    @operation("用码记录：我的服务码何时被哪个终端或窗口扫过", tags=CODES, auth=PERSON_CHANNELS, query=HistoryQueryE,
               response=ScanHistory)
    async def get(self, principal: Principal, query: HistoryQueryE) -> ScanHistory:
        rows = await self.ctx.codes.history(principal, query.enterprise_id, query.limit, query.before)
        return ScanHistory(items=[ScanHistoryItem(
            scan_id=r["_id"], at=to_datetime(r["at"]), by=r["actor"]["name"], location=r["location"],
            department=r["department"], mode=r.get("mode", "online"), purpose=r.get("purpose")) for r in rows])


class CodeKeysHandler(IdentityHandler):
    @operation("服务码验签公钥（JWKS），供终端离线验码", tags=CODES)
    async def get(self) -> dict:
        self.set_header("Cache-Control", "public, max-age=300")
        return self.ctx.codes.jwks()


class ConsentsHandler(IdentityHandler):
    @operation("我收到的授权请求（如 state=pending 待处理）", tags=CONSENT, auth=PERSON_CHANNELS,
               query=ConsentListQuery, response=ConsentList)
    async def get(self, principal: Principal, query: ConsentListQuery) -> ConsentList:
        docs = await self.ctx.consents.mine(principal, query.state)
        return ConsentList(items=[ConsentOut(**consent_out(d)) for d in docs])


class ConsentDecisionBase(IdentityHandler):
    async def decide(self, principal: Principal, consent_id: str, body: ConsentDecisionIn, approve: bool
                     ) -> ConsentOut:
        doc = await self.ctx.consents.decide(principal, consent_id, approve, body.items,
                                             self.caller(principal.channel))
        return ConsentOut(**consent_out(doc))


class ConsentApproveHandler(ConsentDecisionBase):
    @operation("同意授权请求（可逐项同意）", tags=CONSENT, auth=PERSON_CHANNELS, body=ConsentDecisionIn,
               response=ConsentOut, errors=(404, 409))
    async def post(self, principal: Principal, consent_id: str, body: ConsentDecisionIn) -> ConsentOut:
        return await self.decide(principal, consent_id, body, True)


class ConsentRejectHandler(ConsentDecisionBase):
    @operation("拒绝授权请求", tags=CONSENT, auth=PERSON_CHANNELS, body=ConsentDecisionIn, response=ConsentOut,
               errors=(404, 409))
    async def post(self, principal: Principal, consent_id: str, body: ConsentDecisionIn) -> ConsentOut:
        return await self.decide(principal, consent_id, body, False)


class StaffLoginHandler(IdentityHandler):
    @operation("工作人员登录：用户名 + 密码 + 动态口令（TOTP）", tags=STAFF, body=StaffLoginIn,
               response=StaffLoginOut, errors=(401, 429))
    async def post(self, body: StaffLoginIn) -> StaffLoginOut:
        pair, staff = await self.ctx.staff.login(body.username, body.password, body.totp, self.client_ip)
        t = tokens_out(pair)
        return StaffLoginOut(access_token=t.access_token, expires_in=t.expires_in, refresh_token=t.refresh_token,
                             refresh_expires_at=t.refresh_expires_at,
                             staff=StaffOut(username=staff["username"], name=staff["name"],
                                            department=staff["department"],
                                            department_name=staff["department_name"], roles=staff["roles"]))


class StaffRefreshHandler(IdentityHandler):
    @operation("工作人员刷新登录凭证（轮换）", tags=STAFF, body=RefreshIn, response=TokensOut, errors=(401, 403))
    async def post(self, body: RefreshIn) -> TokensOut:
        return tokens_out(await self.ctx.staff.refresh(body.refresh_token))


class DeviceTokenHandler(IdentityHandler):
    @operation("终端以设备私钥签名的断言换取访问令牌（aud=kiosk）", tags=["终端 Kiosk"], body=AssertionIn,
               response=AccessOut, errors=(401, 403))
    async def post(self, body: AssertionIn) -> AccessOut:
        token, ttl = await self.ctx.devices.token(body.assertion)
        return AccessOut(access_token=token, expires_in=ttl)


CONSENT_ID = r"(?P<consent_id>c[0-9a-f]{24})"


def routes() -> list:
    return [
        route(r"/api/v1/codes/person", PersonCodeHandler),
        route(r"/api/v1/codes/person/png", CodePngHandler),
        route(rf"/api/v1/codes/enterprise/{ID}", EnterpriseCodeHandler),
        route(rf"/api/v1/codes/enterprise/{ID}/png", CodePngHandler),
        route(r"/api/v1/codes/revoke-all", RevokeAllHandler),
        route(r"/api/v1/codes/history", CodeHistoryHandler),
        route(r"/api/v1/codes/keys", CodeKeysHandler),
        route(r"/api/v1/consents", ConsentsHandler),
        route(rf"/api/v1/consents/{CONSENT_ID}/approve", ConsentApproveHandler),
        route(rf"/api/v1/consents/{CONSENT_ID}/reject", ConsentRejectHandler),
        route(r"/api/v1/staff/login", StaffLoginHandler),
        route(r"/api/v1/staff/refresh", StaffRefreshHandler),
        route(r"/api/v1/devices/token", DeviceTokenHandler),
    ]
