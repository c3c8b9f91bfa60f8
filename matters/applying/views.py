"""HTTP handlers of the matter catalog, prefill, uploads, and the applicant's applications."""
from __future__ import annotations

from typing import Any

from matters.applying.models import (
    ApplicantActionIn,
    Application,
    ApplicationIn,
    ApplicationList,
    MatterList,
    MatterQuery,
    MatterSummary,
    UploadOut,
    UploadQuery,
)
from matters.applying.service import ApplyingService
from server.http.base import BaseHandler
from server.http.routing import IDEMPOTENCY_KEY, operation, route
from server.principal import PERSON_CHANNELS, STAFF, Principal

TAGS = ["办事 Matters"]
APP_ID = r"(?P<app_id>a[0-9a-f]{24})"
MATTER = r"(?P<code>[0-9A-Za-z-]{3,40})"
UPLOAD_LIMIT = 10 * 1024 * 1024


class _Base(BaseHandler):
    def initialize(self, applying: ApplyingService) -> None:
        self.applying = applying


def summary(m: Any) -> MatterSummary:
    r = m.raw
    return MatterSummary(code=m.code, name=m.name, department=m.department, department_name=m.department_name,
                         target=m.target, min_level=m.min_level, promised_limit_days=r["promised_limit_days"],
                         legal_limit_days=r["legal_limit_days"], visits=r["visits"], online=r["online"],
                         fees=r["fees"], instant_approval=bool(m.instant_rules), tongban=m.tongban,
                         cross_border=bool(r.get("cross_border")))


class MattersHandler(_Base):
    @operation("事项检索（中文关键词、面向对象、部门）", tags=TAGS, query=MatterQuery, response=MatterList)
    async def get(self, query: MatterQuery) -> MatterList:
        found = self.applying.catalog.search(query.q, query.target, query.department, query.tongban,
                                             query.cross_border)
        return MatterList(items=[summary(m) for m in found])


class MatterHandler(_Base):
    @operation("办事指南：条件、情形、材料、表单、时限、跑动次数、收费、流程、办理地点与时间、咨询与监督投诉电话",
               tags=TAGS, errors=(404,))
    async def get(self, code: str) -> dict:
        return {**self.applying.guide(code), "summary": summary(self.applying.matter(code)).model_dump()}


class PrefillHandler(_Base):
    @operation("预填申请表：从身份与卡包取值，并标出卡包可免交的材料（免证办）", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters",
               errors=(404,))
    async def get(self, principal: Principal, code: str) -> dict:
        return await self.applying.prefill(principal, code)


class UploadsHandler(_Base):
    max_body_bytes = UPLOAD_LIMIT + 1  # the service answers "too large" in Chinese with the limit

    @operation("上传材料文件（请求体为文件本身；JPEG / PNG / PDF，≤ 10 MB）", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters",
               query=UploadQuery, response=UploadOut, status=201, errors=(413, 415))
    async def post(self, principal: Principal, query: UploadQuery) -> UploadOut:
        doc = await self.applying.upload(principal, self.request.headers.get("Content-Type", ""), query.filename,
                                            self.raw_body(), UPLOAD_LIMIT)
        return UploadOut(id=doc["_id"], sha256=doc["sha256"], size=doc["size"], content_type=doc["content_type"],
                         filename=doc["filename"])


class UploadHandler(_Base):
    @operation("读取上传的文件（上传者本人或受理部门）", tags=TAGS, auth=[*PERSON_CHANNELS, STAFF],
               content_type="application/octet-stream", errors=(404,))
    async def get(self, principal: Principal, upload_id: str) -> None:
        doc, data = await self.applying.read_upload(principal, upload_id)
        self.set_header("Content-Type", doc["content_type"])
        self.set_header("Content-Disposition", "inline")
        self.finish(data)


class ApplicationsHandler(_Base):
    @operation("提交申请（须带 Idempotency-Key：同一键同一内容只生成一份申请）", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters",
               body=ApplicationIn, response=Application, status=201, errors=(403, 404, 409, 422),
               headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    async def post(self, principal: Principal, body: ApplicationIn) -> None:
        key = self.idempotency_key()
        app, created = await self.applying.submit(principal, key, body.model_dump())
        self.send_json(Application(**await self.applying.lifecycle.present(app)), 201 if created else 200)

    @operation("我的申请（或当前代表的企业的申请）", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters", response=ApplicationList)
    async def get(self, principal: Principal) -> ApplicationList:
        return ApplicationList(items=[Application(**a) for a in await self.applying.mine(principal)])


class ApplicationHandler(_Base):
    @operation("申请详情与完整办理进程", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters", response=Application, errors=(404,))
    async def get(self, principal: Principal, app_id: str) -> Application:
        return Application(**await self.applying.get_mine(principal, app_id))


class ApplicantActionHandler(_Base):
    @operation("申请人操作：submit 提交草稿 | resubmit 补正后重新提交 | withdraw 撤回", tags=TAGS,
               auth=PERSON_CHANNELS, proxy="matters", body=ApplicantActionIn, response=Application, errors=(404, 409, 422))
    async def post(self, principal: Principal, app_id: str, action: str, body: ApplicantActionIn) -> Application:
        return Application(**await self.applying.applicant_action(
            principal, app_id, action, body.version, body.comment, [m.model_dump() for m in body.materials]))



def routes(applying: ApplyingService) -> list:
    deps = {"applying": applying}
    return [
        route(r"/api/v1/matters", MattersHandler, **deps),
        route(rf"/api/v1/matters/{MATTER}", MatterHandler, **deps),
        route(rf"/api/v1/matters/{MATTER}/prefill", PrefillHandler, **deps),
        route(r"/api/v1/uploads", UploadsHandler, **deps),
        route(r"/api/v1/uploads/(?P<upload_id>f[0-9a-f]{24})", UploadHandler, **deps),
        route(r"/api/v1/applications", ApplicationsHandler, **deps),
        route(rf"/api/v1/applications/{APP_ID}", ApplicationHandler, **deps),
        route(rf"/api/v1/applications/{APP_ID}/(?P<action>submit|resubmit|withdraw)", ApplicantActionHandler, **deps),
    ]
