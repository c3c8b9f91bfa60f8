"""What the matters' audit actions mean, for the applicant reading their 账户动态: one per
state an application enters (``application.<state>``), uploads and 好差评."""
from __future__ import annotations

_STEPS = {
    "draft": "保存草稿", "submitted": "提交申请", "accepted": "受理", "not_accepted": "不予受理", "in_review": "进入审查",
    "supplement_requested": "要求补正", "resubmitted": "提交补正", "approved": "批准", "denied": "不予批准",
    "completed": "办结", "withdrawn": "撤回申请", "instant_approval_failed": "秒批未通过，转人工审查",
}
AUDIT_ACTIONS = {
    **{f"application.{k}": f"办件：{v}" for k, v in _STEPS.items()},
    "upload.created": "上传材料", "rating.created": "评价办件", "rating.changed": "修改评价",
}
