"""HTTP handlers of appointments: slots, booking (Idempotency-Key), my appointments, cancel,
reschedule."""
from __future__ import annotations

from halls.booking.models import (Appointment, AppointmentList, BookingIn, CancelIn, RescheduleIn, SlotList,
                                  SlotsQuery)
from halls.booking.service import BookingService
from server.http.base import BaseHandler
from server.http.routing import IDEMPOTENCY_KEY, operation, route
from server.principal import PERSON_CHANNELS, Principal

TAGS = ["服务大厅 Halls"]
HALL = r"(?P<hall_id>[a-z0-9-]{3,40})"
APPT = r"(?P<appt_id>p[0-9a-f]{24})"


class _Base(BaseHandler):
    def initialize(self, booking: BookingService) -> None:
        self.booking = booking


class SlotsHandler(_Base):
    @operation("可预约时段与剩余名额（某事项、某段日期）", tags=TAGS, query=SlotsQuery, response=SlotList, errors=(400, 404))
    async def get(self, hall_id: str, query: SlotsQuery) -> SlotList:
        return SlotList(**await self.booking.slots(hall_id, query.matter, query.start, query.end))


class AppointmentsHandler(_Base):
    @operation("预约（L2）：每人每项事项只能有一个有效预约；名额先到先得", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", min_level=2,
               body=BookingIn, response=Appointment, status=201, errors=(400, 403, 404, 409, 422),
               headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    async def post(self, principal: Principal, body: BookingIn) -> None:
        answer, created = await self.booking.book(principal, body.model_dump(), self.idempotency_key(),
                                                  self.caller(principal.channel))
        self.send_json(Appointment(**answer), 201 if created else 200)

    @operation("我的预约", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", response=AppointmentList)
    async def get(self, principal: Principal) -> AppointmentList:
        return AppointmentList(**await self.booking.mine(principal))


class AppointmentHandler(_Base):
    @operation("预约详情（含预约码）", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", response=Appointment, errors=(404,))
    async def get(self, principal: Principal, appt_id: str) -> Appointment:
        return Appointment(**await self.booking.get_mine(principal, appt_id))


class CancelHandler(_Base):
    @operation("取消预约（时段开始前 1 小时以前）", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", body=CancelIn, response=Appointment,
               errors=(404, 409))
    async def post(self, principal: Principal, appt_id: str, body: CancelIn) -> Appointment:
        return Appointment(**await self.booking.cancel(principal, appt_id, body.version, self.caller(principal.channel)))


class RescheduleHandler(_Base):
    @operation("改期（时段开始前 1 小时以前）", tags=TAGS, auth=PERSON_CHANNELS, proxy="appointments", body=RescheduleIn, response=Appointment,
               errors=(400, 404, 409))
    async def post(self, principal: Principal, appt_id: str, body: RescheduleIn) -> Appointment:
        return Appointment(**await self.booking.reschedule(principal, appt_id, body.version, body.day, body.time,
                                                           self.caller(principal.channel)))


def routes(booking: BookingService) -> list:
    deps = {"booking": booking}
    return [
        route(rf"/api/v1/halls/{HALL}/slots", SlotsHandler, **deps),
        route(r"/api/v1/appointments", AppointmentsHandler, **deps),
        route(rf"/api/v1/appointments/{APPT}", AppointmentHandler, **deps),
        route(rf"/api/v1/appointments/{APPT}/cancel", CancelHandler, **deps),
        route(rf"/api/v1/appointments/{APPT}/reschedule", RescheduleHandler, **deps),
    ]
