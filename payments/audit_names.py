"""What the payments domain's audit actions mean, for the person reading their 账户动态."""
from __future__ import annotations

AUDIT_ACTIONS = {
    "payment.charged": "办件产生待缴费用", "payment.waived": "办件费用已按规定减免", "payment.paid": "已缴纳办件费用",
    "payment.closed": "缴费单已关闭（申请已结束）", "payment.refund_succeeded": "办件费用已退回",
    "payment.refund_failed": "办件费用退款未成功",
}
