"""HTTP handlers of notifications: delivery status for support staff."""
from __future__ import annotations

from notifications.models import NotificationList, NotificationOut, NotificationQuery
from notifications.service import Notifications
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import STAFF, Principal

STAFF_TAGS = ["审批 Staff console"]


class NotificationsHandler(BaseHandler):
    def initialize(self, notifications: Notifications) -> None:
        self.notifications = notifications

    @operation("通知投递状态（客服：平台管理员或部门主管）", tags=STAFF_TAGS, auth=[STAFF], query=NotificationQuery,
               response=NotificationList, errors=(403,))
    async def get(self, principal: Principal, query: NotificationQuery) -> NotificationList:
        docs = await self.notifications.for_support(principal, query.status, query.application_id, query.limit)
        return NotificationList(items=[NotificationOut(id=d["_id"], **{k: d.get(k) for k in (
            "application_id", "number", "state", "status", "channel", "attempts", "last_error", "created_at",
            "sent_at")}) for d in docs])


def routes(notifications: Notifications) -> list:
    return [route(r"/api/v1/staff/notifications", NotificationsHandler, notifications=notifications)]
