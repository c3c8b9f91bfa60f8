"""HTTP handlers of 好差评: the applicant's rating, ratings collected at kiosks and windows,
the department's rectifications and statistics."""
from __future__ import annotations

from identity.devices.service import DeviceService
from matters.applying.views import APP_ID, TAGS
from matters.ratings.models import (
    AnswerIn,
    KioskRatingIn,
    RatingIn,
    RatingOut,
    RectificationList,
    RectificationOut,
    RectificationQuery,
)
from matters.ratings.service import RatingService
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import KIOSK, PERSON_CHANNELS, STAFF, Principal

STAFF_TAGS = ["审批 Staff console"]


def rating_out(r: dict) -> RatingOut:
    return RatingOut(application_id=r["_id"], score=r["score"], level=r["level"], tags=r["tags"],
                     comment=r["comment"], channel=r["channel"], rectification_id=r.get("rectification_id"))


def rect_out(r: dict) -> RectificationOut:
    return RectificationOut(id=r["_id"], **{k: r.get(k) for k in (
        "application_number", "matter", "matter_name", "score", "comment", "tags", "state", "due_on", "answer",
        "close_comment")}, overdue=r.get("overdue", False))


class _Base(BaseHandler):
    def initialize(self, ratings: RatingService, devices: DeviceService) -> None:
        self.ratings = ratings
        self.devices = devices


class RatingHandler(_Base):
    @operation("本人对这份申请的评价（未评价为 404）", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters", response=RatingOut,
               errors=(404,))
    async def get(self, principal: Principal, app_id: str) -> RatingOut:
        return rating_out(await self.ratings.mine(principal, app_id))

    @operation("评价已办结的申请（好差评，每件一次）", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters", body=RatingIn,
               response=RatingOut, status=201, errors=(404, 409))
    async def post(self, principal: Principal, app_id: str, body: RatingIn) -> RatingOut:
        caller = self.caller(principal.channel)
        return rating_out(await self.ratings.rate(principal, app_id, body.score, body.tags, body.comment,
                                                      body.indicators, "online", caller))

    @operation("修改评价（评价后 7 天内）", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters", body=RatingIn, response=RatingOut,
               errors=(404, 409))
    async def patch(self, principal: Principal, app_id: str, body: RatingIn) -> RatingOut:
        caller = self.caller(principal.channel)
        return rating_out(await self.ratings.change(principal, app_id, body.score, body.tags, body.comment,
                                                        body.indicators, caller))


class KioskRatingHandler(_Base):
    @operation("自助终端或窗口现场收集评价（需已扫持码人服务码）", tags=["终端与窗口 Kiosk & window"],
               auth=[KIOSK, STAFF], body=KioskRatingIn, response=RatingOut, status=201, errors=(403, 404, 409))
    async def post(self, principal: Principal, body: KioskRatingIn) -> RatingOut:
        actor = await self.devices.actor(principal, "rate")
        caller = self.caller(KIOSK)
        return rating_out(await self.ratings.rate_at_kiosk(actor, body.scan_id, body.application_id, body.score,
                                                               body.tags, body.comment, caller))


class RectificationsHandler(_Base):
    @operation("本部门的差评整改任务", tags=STAFF_TAGS, auth=[STAFF], query=RectificationQuery,
               response=RectificationList)
    async def get(self, principal: Principal, query: RectificationQuery) -> RectificationList:
        return RectificationList(items=[rect_out(r) for r in await self.ratings.rectifications(principal,
                                                                                                   query.state)])


class RectificationAnswerHandler(_Base):
    @operation("答复整改任务（回访与整改情况）", tags=STAFF_TAGS, auth=[STAFF], body=AnswerIn,
               response=RectificationOut, errors=(403, 404, 409))
    async def post(self, principal: Principal, rect_id: str, body: AnswerIn) -> RectificationOut:
        return rect_out(await self.ratings.answer(principal, rect_id, body.text))


class RectificationCloseHandler(_Base):
    @operation("关闭整改任务（主管）", tags=STAFF_TAGS, auth=[STAFF], body=AnswerIn, response=RectificationOut,
               errors=(403, 404, 409))
    async def post(self, principal: Principal, rect_id: str, body: AnswerIn) -> RectificationOut:
        return rect_out(await self.ratings.close(principal, rect_id, body.text))


class RatingStatsHandler(_Base):
    @operation("好差评统计：按事项与部门（主管）", tags=STAFF_TAGS, auth=[STAFF], errors=(403,))
    async def get(self, principal: Principal) -> dict:
        return await self.ratings.stats(principal)



def routes(ratings: RatingService, devices: DeviceService) -> list:
    deps = {"ratings": ratings, "devices": devices}
    return [
        route(rf"/api/v1/applications/{APP_ID}/rating", RatingHandler, **deps),
        route(r"/api/v1/kiosk/ratings", KioskRatingHandler, **deps),
        route(r"/api/v1/staff/rectifications", RectificationsHandler, **deps),
        route(r"/api/v1/staff/rectifications/(?P<rect_id>r[0-9a-f]{24})/answer", RectificationAnswerHandler, **deps),
        route(r"/api/v1/staff/rectifications/(?P<rect_id>r[0-9a-f]{24})/close", RectificationCloseHandler, **deps),
        route(r"/api/v1/staff/ratings/stats", RatingStatsHandler, **deps),
    ]
