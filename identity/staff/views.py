"""HTTP handlers of staff login (password + TOTP) and refresh."""
from __future__ import annotations

from identity.sessions.models import RefreshIn, TokensOut, tokens_out
from identity.staff.models import StaffLoginIn, StaffLoginOut, StaffOut
from identity.staff.service import StaffService
from server.http.base import BaseHandler
from server.http.routing import operation, route

STAFF = ["工作人员 Staff"]


class _Base(BaseHandler):
    def initialize(self, staff: StaffService) -> None:
        self.staff = staff


class StaffLoginHandler(_Base):
    @operation("工作人员登录：用户名 + 密码 + 动态口令（TOTP）", tags=STAFF, body=StaffLoginIn,
               response=StaffLoginOut, errors=(401, 429))
    async def post(self, body: StaffLoginIn) -> StaffLoginOut:
        pair, staff = await self.staff.login(body.username, body.password, body.totp, self.client_ip)
        t = tokens_out(pair)
        return StaffLoginOut(access_token=t.access_token, expires_in=t.expires_in, refresh_token=t.refresh_token,
                             refresh_expires_at=t.refresh_expires_at,
                             staff=StaffOut(username=staff["username"], name=staff["name"],
                                            department=staff["department"],
                                            department_name=staff["department_name"], roles=staff["roles"]))


class StaffRefreshHandler(_Base):
    @operation("工作人员刷新登录凭证（轮换）", tags=STAFF, body=RefreshIn, response=TokensOut, errors=(401, 403))
    async def post(self, body: RefreshIn) -> TokensOut:
        return tokens_out(await self.staff.refresh(body.refresh_token))



def routes(staff: StaffService) -> list:
    deps = {"staff": staff}
    return [
        route(r"/api/v1/staff/login", StaffLoginHandler, **deps),
        route(r"/api/v1/staff/refresh", StaffRefreshHandler, **deps),
    ]
