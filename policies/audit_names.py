"""What the policies domain's audit actions mean, for the person reading their 账户动态."""
from __future__ import annotations

AUDIT_ACTIONS = {
    "policy.confirmed": "确认申领政策补贴", "policy.granted": "免申即享：政策待遇已核定",
    "policy.approved": "政策补贴审核通过", "policy.rejected": "政策补贴审核未通过",
    "policy.payout_sent": "政策补贴已提交银行代发", "policy.paid": "政策补贴已到账",
    "policy.payout_failed": "政策补贴代发失败",
}
