"""HTTP handlers of service codes: the holder shows a code (一人一码 / 一企一码), kiosks and
windows scan it (here too: a scan handler lives with the codes it scans)."""
from __future__ import annotations

from urllib.parse import quote

from pydantic import Field

from identity.codes.models import (
    CodeOut,
    CodeQuery,
    EnterpriseCodeQuery,
    HistoryQuery,
    OfflineScanResult,
    OfflineScansIn,
    OfflineScansOut,
    PngQuery,
    RevokeOut,
    ScanHistory,
    ScanHistoryItem,
    ScanIn,
    ScanOut,
)
from identity.codes.service import CodeService, IssuedCode
from identity.devices.service import DeviceService
from identity.enterprises.views import ID
from server.clock import to_datetime
from server.errors import AppError
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.models import Input
from server.principal import KIOSK, PERSON_CHANNELS, STAFF, Principal

CODES = ["服务码 Codes"]
KIOSK_TAGS = ["终端与窗口 Kiosk & window"]
SCANNERS = [KIOSK, STAFF]


def code_out(issued: IssuedCode, png_path: str) -> CodeOut:
    return CodeOut(code=issued.code, short_code=issued.short_code,
                   expires_at=to_datetime(issued.expires_at * 1000),
                   refresh_after=to_datetime(issued.refresh_after * 1000), subject_type=issued.subject_type,
                   preauthorized_items=issued.items, png_url=f"{png_path}?c={quote(issued.code, safe='')}")


class _Base(BaseHandler):
    def initialize(self, codes: CodeService, devices: DeviceService) -> None:
        self.codes = codes
        self.devices = devices


class PersonCodeHandler(_Base):
    @operation("我的服务码（一人一码）：60 秒有效，可选预授权信息项（需 L2）", tags=CODES, auth=PERSON_CHANNELS,
               min_level=2, query=CodeQuery, response=CodeOut, errors=(400,))
    async def get(self, principal: Principal, query: CodeQuery) -> CodeOut:
        issued = await self.codes.issue(principal, None, query.items)
        return code_out(issued, "/api/v1/codes/person/png")


class EnterpriseCodeHandler(_Base):
    @operation("企业服务码（一企一码）：需该企业“企业码”授权", tags=CODES, auth=PERSON_CHANNELS,
               query=EnterpriseCodeQuery, response=CodeOut, errors=(404,))
    async def get(self, principal: Principal, enterprise_id: str, query: EnterpriseCodeQuery) -> CodeOut:
        issued = await self.codes.issue(principal, enterprise_id, query.items)
        return code_out(issued, f"/api/v1/codes/enterprise/{enterprise_id}/png")


class CodePngHandler(_Base):
    @operation("服务码二维码图片（PNG）", tags=CODES, auth=PERSON_CHANNELS, query=PngQuery, content_type="image/png",
               errors=(404, 422))
    async def get(self, principal: Principal, query: PngQuery, enterprise_id: str | None = None) -> None:
        png = await self.codes.png(principal, query.c)
        self.set_header("Content-Type", "image/png")
        self.set_header("Cache-Control", "private, max-age=60")
        self.finish(png)


class RevokeIn(Input):
    enterprise_id: str | None = Field(None, pattern=r"^e[0-9a-f]{24}$")


class RevokeAllHandler(_Base):
    @operation("作废我（或企业）所有已出示的服务码（如手机丢失）", tags=CODES, auth=PERSON_CHANNELS, body=RevokeIn,
               response=RevokeOut, errors=(404,))
    async def post(self, principal: Principal, body: RevokeIn) -> RevokeOut:
        at = await self.codes.revoke_all(principal, body.enterprise_id, self.caller(principal.channel))
        return RevokeOut(revoked_before=to_datetime(at))


class HistoryQueryE(HistoryQuery):
    enterprise_id: str | None = Field(None, pattern=r"^e[0-9a-f]{24}$")


class CodeHistoryHandler(_Base):
    @operation("用码记录：我的服务码何时被哪个终端或窗口扫过", tags=CODES, auth=PERSON_CHANNELS, query=HistoryQueryE,
               response=ScanHistory)
    async def get(self, principal: Principal, query: HistoryQueryE) -> ScanHistory:
        rows = await self.codes.history(principal, query.enterprise_id, query.limit, query.before)
        return ScanHistory(items=[ScanHistoryItem(
            scan_id=r["_id"], at=to_datetime(r["at"]), by=r["actor"]["name"], location=r["location"],
            department=r["department"], mode=r.get("mode", "online"), purpose=r.get("purpose")) for r in rows])


class CodeKeysHandler(_Base):
    @operation("服务码验签公钥（JWKS），供终端离线验码", tags=CODES)
    async def get(self) -> dict:
        self.set_header("Cache-Control", "public, max-age=300")
        return self.codes.jwks()


class ScansHandler(_Base):
    # Hot path: the token's revocation is checked inside the scan's single Redis call.
    @operation("扫码：校验服务码并记录（一码一用），返回脱敏的持码人信息", tags=KIOSK_TAGS, auth=SCANNERS,
               revocation_in_service=True, body=ScanIn, response=ScanOut, errors=(403, 409, 422, 429))
    async def post(self, principal: Principal, body: ScanIn) -> ScanOut:
        result = await self.codes.scan(self.devices.scan_actor(principal), body.code, body.short_code)
        return ScanOut(scan_id=result.scan_id, subject_type=result.subject_type, name=result.name,
                       level=result.level, preauthorized_items=result.preauthorized_items)


class OfflineScansHandler(_Base):
    @operation("同步离线验码记录（联网后补做一码一用与作废检查）", tags=KIOSK_TAGS, auth=[KIOSK],
               body=OfflineScansIn, response=OfflineScansOut)
    async def post(self, principal: Principal, body: OfflineScansIn) -> OfflineScansOut:
        actor = self.devices.scan_actor(principal)
        results = []
        for item in body.scans:
            try:
                r = await self.codes.scan_offline(actor, item.code, item.scanned_at)
                results.append(OfflineScanResult(code_ok=True, scan_id=r.scan_id, error=None))
            except AppError as e:
                results.append(OfflineScanResult(code_ok=False, scan_id=None, error=e.code))
        return OfflineScansOut(results=results)



def routes(codes: CodeService, devices: DeviceService) -> list:
    deps = {"codes": codes, "devices": devices}
    return [
        # The scan first: it is the hot path and Tornado tries routes in order.
        route(r"/api/v1/scans", ScansHandler, **deps),
        route(r"/api/v1/scans/offline", OfflineScansHandler, **deps),
        route(r"/api/v1/codes/person", PersonCodeHandler, **deps),
        route(r"/api/v1/codes/person/png", CodePngHandler, **deps),
        route(rf"/api/v1/codes/enterprise/{ID}", EnterpriseCodeHandler, **deps),
        route(rf"/api/v1/codes/enterprise/{ID}/png", CodePngHandler, **deps),
        route(r"/api/v1/codes/revoke-all", RevokeAllHandler, **deps),
        route(r"/api/v1/codes/history", CodeHistoryHandler, **deps),
        route(r"/api/v1/codes/keys", CodeKeysHandler, **deps),
    ]
