"""What identity's audit actions mean, for the person reading their 账户动态 (and an enterprise's
trail). The composition root gives these to ``server.audit.ActionNames``."""
from __future__ import annotations

AUDIT_ACTIONS = {
    "login": "登录", "logout": "退出登录", "logout.all": "退出全部设备", "session.revoked": "登录已失效",
    "agreements.accepted": "同意用户协议和隐私政策", "account.created": "开户", "account.joined": "关联登录方式",
    "account.closed": "注销账号", "phone.bound": "绑定手机号", "wechat.bound": "绑定微信",
    "wechat.oa_authorized": "授权微信内网页缴费",
    "realname.verified": "实名认证通过", "realname.failed": "实名认证未通过",
    "face.verified": "人脸核验通过", "face.failed": "人脸核验未通过",
    "profile.updated": "修改个人设置", "pii.revealed": "查看完整证件号码", "codes.revoked_all": "作废全部服务码",
    "consent.requested": "收到授权请求", "consent.decided": "作出授权决定", "consent.approved": "同意授权",
    "consent.partially_approved": "部分同意授权", "consent.rejected": "拒绝授权",
    "consent.disclosed": "授权信息已提供给对方",
    "enterprise.bound": "绑定企业", "acting.started": "切换为代表企业办事", "proxy.acting_started": "亲友开始为您代办",
    "agent.invited": "授权经办人", "agent.accepted": "接受经办人授权", "agent.declined": "拒绝经办人授权",
    "agent.changed": "修改经办人授权", "agent.revoked": "撤销经办人授权", "agent.left": "退出企业经办",
}
