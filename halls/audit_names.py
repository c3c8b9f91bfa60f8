"""What the service halls' audit actions mean, for the person reading their 账户动态."""
from __future__ import annotations

AUDIT_ACTIONS = {
    "appointment.booked": "预约大厅办事", "appointment.cancelled": "取消预约", "appointment.rescheduled": "预约改期",
    "appointment.no_show": "预约未到（爽约）", "queue.number_taken": "大厅取号",
}
