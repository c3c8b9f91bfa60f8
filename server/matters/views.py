"""HTTP handlers of matters: catalog, prefill, uploads, applications, staff queue."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from identity.sessions import Principal
from identity.tokens import PERSON_CHANNELS, STAFF
from server.errors import FieldError, InvalidInput
from server.http.base import BaseHandler
from server.http.routing import operation, route
from identity.service import Caller
from identity.tokens import KIOSK
from server.matters.models import (AnswerIn, ApplicantActionIn, Application, ApplicationIn, ApplicationList,
                                   BundleApplication, BundleApplicationIn,
                                   KioskRatingIn, KioskApplicationIn, KioskApplicationOut, AwaitingRatingList, MatterList, MatterQuery, MatterStats, MatterSummary, QueueQuery,
                                   RatingIn, RatingOut, RectificationList, RectificationOut, RectificationQuery,
                                   StaffActionIn, StaffApplication, StatsOut, UploadOut, UploadQuery)

TAGS = ["办事 Matters"]
STAFF_TAGS = ["审批 Staff console"]
APP_ID = r"(?P<app_id>a[0-9a-f]{24})"
MATTER = r"(?P<code>[0-9A-Za-z-]{3,40})"
UPLOAD_LIMIT = 10 * 1024 * 1024


def summary(m: Any) -> MatterSummary:
    r = m.raw
    return MatterSummary(code=m.code, name=m.name, department=m.department, department_name=m.department_name,
                         target=m.target, min_level=m.min_level, promised_limit_days=r["promised_limit_days"],
                         legal_limit_days=r["legal_limit_days"], visits=r["visits"], online=r["online"],
                         fees=r["fees"])


class MattersHandler(BaseHandler):
    @operation("事项检索（中文关键词、面向对象、部门）", tags=TAGS, query=MatterQuery, response=MatterList)
    async def get(self, query: MatterQuery) -> MatterList:
        found = self.ctx.matters.catalog.search(query.q, query.target, query.department)
        return MatterList(items=[summary(m) for m in found])


class MatterHandler(BaseHandler):
    @operation("办事指南：条件、材料、表单、时限、跑动次数、收费、流程", tags=TAGS, errors=(404,))
    async def get(self, code: str) -> dict:
        m = self.ctx.matters.matter(code)
        return {**m.raw, "summary": summary(m).model_dump()}


class PrefillHandler(BaseHandler):
    @operation("预填申请表：从身份与卡包取值，并标出卡包可免交的材料（免证办）", tags=TAGS, auth=PERSON_CHANNELS,
               errors=(404,))
    async def get(self, principal: Principal, code: str) -> dict:
        return await self.ctx.matters.prefill(principal, code)


class UploadsHandler(BaseHandler):
    max_body_bytes = UPLOAD_LIMIT + 1  # the service answers "too large" in Chinese with the limit

    @operation("上传材料文件（请求体为文件本身；JPEG / PNG / PDF，≤ 10 MB）", tags=TAGS, auth=PERSON_CHANNELS,
               query=UploadQuery, response=UploadOut, status=201, errors=(413, 415))
    async def post(self, principal: Principal, query: UploadQuery) -> UploadOut:
        doc = await self.ctx.matters.upload(principal, self.request.headers.get("Content-Type", ""), query.filename,
                                            self.raw_body(), UPLOAD_LIMIT)
        return UploadOut(id=doc["_id"], sha256=doc["sha256"], size=doc["size"], content_type=doc["content_type"],
                         filename=doc["filename"])


class UploadHandler(BaseHandler):
    @operation("读取上传的文件（上传者本人或受理部门）", tags=TAGS, auth=[*PERSON_CHANNELS, STAFF],
               content_type="application/octet-stream", errors=(404,))
    async def get(self, principal: Principal, upload_id: str) -> None:
        doc, data = await self.ctx.matters.read_upload(principal, upload_id)
        self.set_header("Content-Type", doc["content_type"])
        self.set_header("Content-Disposition", "inline")
        self.finish(data)


def idempotency_key(handler: BaseHandler) -> str:
    key = handler.request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 100:
        raise InvalidInput("请求头 Idempotency-Key 必填（1-100 个字符）", code="idempotency_key_required",
                           errors=[FieldError("Idempotency-Key", "必填，1-100 个字符")])
    return key


class ApplicationsHandler(BaseHandler):
    @operation("提交申请（须带 Idempotency-Key：同一键同一内容只生成一份申请）", tags=TAGS, auth=PERSON_CHANNELS,
               body=ApplicationIn, response=Application, status=201, errors=(403, 404, 409, 422),
               headers={"Idempotency-Key": "必填：客户端生成的唯一键（重试时不变）"})
    async def post(self, principal: Principal, body: ApplicationIn) -> None:
        key = idempotency_key(self)
        app, created = await self.ctx.matters.submit(principal, key, body.model_dump())
        self.send_json(Application(**self.ctx.matters.view(app)), 201 if created else 200)

    @operation("我的申请（或当前代表的企业的申请）", tags=TAGS, auth=PERSON_CHANNELS, response=ApplicationList)
    async def get(self, principal: Principal) -> ApplicationList:
        return ApplicationList(items=[Application(**a) for a in await self.ctx.matters.mine(principal)])


class ApplicationHandler(BaseHandler):
    @operation("申请详情与完整办理进程", tags=TAGS, auth=PERSON_CHANNELS, response=Application, errors=(404,))
    async def get(self, principal: Principal, app_id: str) -> Application:
        return Application(**await self.ctx.matters.get_mine(principal, app_id))


class ApplicantActionHandler(BaseHandler):
    @operation("申请人操作：submit 提交草稿 | resubmit 补正后重新提交 | withdraw 撤回", tags=TAGS,
               auth=PERSON_CHANNELS, body=ApplicantActionIn, response=Application, errors=(404, 409, 422))
    async def post(self, principal: Principal, app_id: str, action: str, body: ApplicantActionIn) -> Application:
        return Application(**await self.ctx.matters.applicant_action(
            principal, app_id, action, body.version, body.comment, [m.model_dump() for m in body.materials]))


class QueueHandler(BaseHandler):
    @operation("本部门待办队列（按状态、是否逾期、事项筛选）", tags=STAFF_TAGS, auth=[STAFF], query=QueueQuery,
               response=ApplicationList)
    async def get(self, principal: Principal, query: QueueQuery) -> ApplicationList:
        apps = await self.ctx.matters.queue(principal, query.state, query.overdue, query.matter)
        return ApplicationList(items=[Application(**a) for a in apps])


class StaffApplicationHandler(BaseHandler):
    @operation("申请详情（含材料与证照核验结果），仅本部门", tags=STAFF_TAGS, auth=[STAFF], response=StaffApplication,
               errors=(404,))
    async def get(self, principal: Principal, app_id: str) -> StaffApplication:
        return StaffApplication(**await self.ctx.matters.staff_get(principal, app_id))


class StaffActionHandler(BaseHandler):
    @operation("审批操作：accept 受理 | reject 不予受理 | request-supplement 补正 | approve 批准 | deny 不予批准 | "
               "complete 办结", tags=STAFF_TAGS, auth=[STAFF], body=StaffActionIn, response=Application,
               errors=(403, 404, 409))
    async def post(self, principal: Principal, app_id: str, action: str, body: StaffActionIn) -> Application:
        return Application(**await self.ctx.matters.staff_action(principal, app_id, action, body.version,
                                                                 body.comment, body.items))


class StatsHandler(BaseHandler):
    @operation("科室统计：各事项数量、按时办结率、平均办理工作日（主管）", tags=STAFF_TAGS, auth=[STAFF],
               response=StatsOut, errors=(403,))
    async def get(self, principal: Principal) -> StatsOut:
        return StatsOut(items=[MatterStats(**s) for s in await self.ctx.matters.stats(principal)])


def routes() -> list:
    return [
        route(r"/api/v1/matters", MattersHandler),
        route(rf"/api/v1/matters/{MATTER}", MatterHandler),
        route(rf"/api/v1/matters/{MATTER}/prefill", PrefillHandler),
        route(r"/api/v1/uploads", UploadsHandler),
        route(r"/api/v1/uploads/(?P<upload_id>f[0-9a-f]{24})", UploadHandler),
        route(r"/api/v1/applications", ApplicationsHandler),
        route(rf"/api/v1/applications/{APP_ID}", ApplicationHandler),
        route(rf"/api/v1/applications/{APP_ID}/(?P<action>submit|resubmit|withdraw)", ApplicantActionHandler),
        route(r"/api/v1/staff/queue", QueueHandler),
        route(r"/api/v1/staff/stats", StatsHandler),
        route(rf"/api/v1/staff/applications/{APP_ID}", StaffApplicationHandler),
        route(rf"/api/v1/staff/applications/{APP_ID}/(?P<action>accept|reject|request-supplement|approve|deny|complete)",
              StaffActionHandler),
        *rating_routes(),
    ]


# --- 好差评 -----------------------------------------------------------------------------------

def rating_out(r: dict) -> "RatingOut":
    return RatingOut(application_id=r["_id"], score=r["score"], level=r["level"], tags=r["tags"],
                     comment=r["comment"], channel=r["channel"], rectification_id=r.get("rectification_id"))


def rect_out(r: dict) -> "RectificationOut":
    return RectificationOut(id=r["_id"], **{k: r.get(k) for k in (
        "application_number", "matter", "matter_name", "score", "comment", "tags", "state", "due_on", "answer",
        "close_comment")}, overdue=r.get("overdue", False))


class RatingHandler(BaseHandler):
    @operation("评价已办结的申请（好差评，每件一次）", tags=TAGS, auth=PERSON_CHANNELS, body=RatingIn,
               response=RatingOut, status=201, errors=(404, 409))
    async def post(self, principal: Principal, app_id: str, body: RatingIn) -> "RatingOut":
        caller = Caller(principal.channel, self.client_ip)
        return rating_out(await self.ctx.ratings.rate(principal, app_id, body.score, body.tags, body.comment,
                                                      body.indicators, "online", caller))

    @operation("修改评价（评价后 7 天内）", tags=TAGS, auth=PERSON_CHANNELS, body=RatingIn, response=RatingOut,
               errors=(404, 409))
    async def patch(self, principal: Principal, app_id: str, body: RatingIn) -> "RatingOut":
        caller = Caller(principal.channel, self.client_ip)
        return rating_out(await self.ctx.ratings.change(principal, app_id, body.score, body.tags, body.comment,
                                                        body.indicators, caller))


class KioskRatingHandler(BaseHandler):
    @operation("自助终端或窗口现场收集评价（需已扫持码人服务码）", tags=["终端与窗口 Kiosk & window"],
               auth=[KIOSK, STAFF], body=KioskRatingIn, response=RatingOut, status=201, errors=(403, 404, 409))
    async def post(self, principal: Principal, body: KioskRatingIn) -> "RatingOut":
        actor = await self.ctx.devices.actor(principal, "rate")
        caller = Caller("kiosk", self.client_ip)
        return rating_out(await self.ctx.ratings.rate_at_kiosk(actor, body.scan_id, body.application_id, body.score,
                                                               body.tags, body.comment, caller))


class KioskApplicationsHandler(BaseHandler):
    @operation("自助终端为持码人代为提交申请：只使用持码人本次同意的证照，表单由服务端按实名信息与这些证照填写；"
               "一次授权只能提交一份申请（授权编号即幂等键：重试返回同一份申请）", tags=["终端与窗口 Kiosk & window"],
               auth=[KIOSK], body=KioskApplicationIn, response=KioskApplicationOut, status=201,
               errors=(403, 404, 409, 422))
    async def post(self, principal: Principal, body: "KioskApplicationIn") -> None:
        actor = await self.ctx.devices.actor(principal, "apply")
        app, created = await self.ctx.kiosk_matters.apply(actor, body.consent_id, body.matter, body.form)
        view = self.ctx.matters.view(app)
        self.send_json(KioskApplicationOut(**{k: view.get(k) for k in KioskApplicationOut.model_fields}),
                       201 if created else 200)


class KioskAwaitingRatingHandler(BaseHandler):
    @operation("持码人已办结、尚未评价的办件（供现场评价）", tags=["终端与窗口 Kiosk & window"], auth=[KIOSK, STAFF],
               response=AwaitingRatingList, errors=(403, 404))
    async def get(self, principal: Principal, scan_id: str) -> "AwaitingRatingList":
        actor = await self.ctx.devices.actor(principal, "rate")
        return AwaitingRatingList(items=await self.ctx.kiosk_matters.awaiting_rating(actor, scan_id))


class RectificationsHandler(BaseHandler):
    @operation("本部门的差评整改任务", tags=STAFF_TAGS, auth=[STAFF], query=RectificationQuery,
               response=RectificationList)
    async def get(self, principal: Principal, query: "RectificationQuery") -> "RectificationList":
        return RectificationList(items=[rect_out(r) for r in await self.ctx.ratings.rectifications(principal,
                                                                                                   query.state)])


class RectificationAnswerHandler(BaseHandler):
    @operation("答复整改任务（回访与整改情况）", tags=STAFF_TAGS, auth=[STAFF], body=AnswerIn,
               response=RectificationOut, errors=(403, 404, 409))
    async def post(self, principal: Principal, rect_id: str, body: "AnswerIn") -> "RectificationOut":
        return rect_out(await self.ctx.ratings.answer(principal, rect_id, body.text))


class RectificationCloseHandler(BaseHandler):
    @operation("关闭整改任务（主管）", tags=STAFF_TAGS, auth=[STAFF], body=AnswerIn, response=RectificationOut,
               errors=(403, 404, 409))
    async def post(self, principal: Principal, rect_id: str, body: "AnswerIn") -> "RectificationOut":
        return rect_out(await self.ctx.ratings.close(principal, rect_id, body.text))


class RatingStatsHandler(BaseHandler):
    @operation("好差评统计：按事项与部门（主管）", tags=STAFF_TAGS, auth=[STAFF], errors=(403,))
    async def get(self, principal: Principal) -> dict:
        return await self.ctx.ratings.stats(principal)


class NotificationQuery(BaseModel):
    status: Literal["pending", "sending", "sent", "failed"] | None = None
    application_id: str | None = Field(None, pattern=r"^a[0-9a-f]{24}$")
    limit: int = Field(100, ge=1, le=500)


class NotificationOut(BaseModel):
    id: str
    application_id: str
    number: str
    state: str
    status: str
    channel: str | None
    attempts: int
    last_error: str | None
    created_at: int
    sent_at: int | None


class NotificationList(BaseModel):
    items: list[NotificationOut]


class NotificationsHandler(BaseHandler):
    @operation("通知投递状态（客服：平台管理员或部门主管）", tags=STAFF_TAGS, auth=[STAFF], query=NotificationQuery,
               response=NotificationList, errors=(403,))
    async def get(self, principal: Principal, query: NotificationQuery) -> NotificationList:
        docs = await self.ctx.notifier.for_support(principal, query.status, query.application_id, query.limit)
        return NotificationList(items=[NotificationOut(id=d["_id"], **{k: d.get(k) for k in (
            "application_id", "number", "state", "status", "channel", "attempts", "last_error", "created_at",
            "sent_at")}) for d in docs])


class BundlesHandler(BaseHandler):
    @operation("“一件事”列表", tags=TAGS)
    async def get(self) -> dict:
        return {"items": [{"code": b.code, "name": b.name, "target": b.target, "description": b.description,
                           "matters": [m.code for m in b.matters]} for b in self.ctx.bundles.bundles.values()]}


class BundleHandler(BaseHandler):
    @operation("“一件事”：合并表单（共享字段去重）、材料并集、减少的填写项", tags=TAGS, errors=(404,))
    async def get(self, code: str) -> dict:
        return self.ctx.bundles.describe(code)


class BundleApplicationsHandler(BaseHandler):
    @operation("一次提交“一件事”（须带 Idempotency-Key）：生成总申请与各事项子申请，并联分送各部门", tags=TAGS,
               auth=PERSON_CHANNELS, body=BundleApplicationIn, response=BundleApplication, status=201,
               errors=(403, 404, 409, 422), headers={"Idempotency-Key": "必填"})
    async def post(self, principal: Principal, body: BundleApplicationIn) -> None:
        key = idempotency_key(self)
        parent, created = await self.ctx.bundles.submit(principal, key, body.model_dump())
        self.send_json(BundleApplication(**await self.ctx.bundles.view(principal, parent["_id"])),
                       201 if created else 200)


class BundleApplicationHandler(BaseHandler):
    @operation("“一件事”申请：汇总进度与各子申请状态", tags=TAGS, auth=PERSON_CHANNELS, response=BundleApplication,
               errors=(404,))
    async def get(self, principal: Principal, app_id: str) -> BundleApplication:
        return BundleApplication(**await self.ctx.bundles.view(principal, app_id))


def rating_routes() -> list:
    return [  # see also routes()
        route(rf"/api/v1/applications/{APP_ID}/rating", RatingHandler),
        route(r"/api/v1/kiosk/ratings", KioskRatingHandler),
        route(r"/api/v1/kiosk/applications", KioskApplicationsHandler),
        route(r"/api/v1/kiosk/scans/(?P<scan_id>s[0-9a-f]{24})/awaiting-rating", KioskAwaitingRatingHandler),
        route(r"/api/v1/staff/rectifications", RectificationsHandler),
        route(r"/api/v1/staff/rectifications/(?P<rect_id>r[0-9a-f]{24})/answer", RectificationAnswerHandler),
        route(r"/api/v1/staff/rectifications/(?P<rect_id>r[0-9a-f]{24})/close", RectificationCloseHandler),
        route(r"/api/v1/staff/ratings/stats", RatingStatsHandler),
        route(r"/api/v1/staff/notifications", NotificationsHandler),
        route(r"/api/v1/bundles", BundlesHandler),
        route(r"/api/v1/bundles/(?P<code>[0-9A-Za-z-]{3,40})", BundleHandler),
        route(r"/api/v1/bundle-applications", BundleApplicationsHandler),
        route(rf"/api/v1/bundle-applications/{APP_ID}", BundleApplicationHandler),
    ]
