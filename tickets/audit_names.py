"""What the 12345 audit actions mean, for the person reading their 账户动态: every step of
their 诉求 (``ticket.<state or event>``) and each time staff looked at who they are."""
from __future__ import annotations

from tickets.lifecycle import EVENT_NAMES, STATE_NAMES

_SUBMITTED = {"submitted": "提交诉求"}
AUDIT_ACTIONS = {
    **{f"ticket.{k}": f"12345：{v}" for k, v in {**STATE_NAMES, **EVENT_NAMES, **_SUBMITTED}.items()},
    "ticket.reporter_viewed": "12345：工作人员查看了您的身份信息",
}
