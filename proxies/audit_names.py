"""What the proxies domain's audit actions mean, for the person reading their 账户动态."""
from __future__ import annotations

AUDIT_ACTIONS = {
    "proxy.granted": "授权亲友代办", "proxy.accepted": "接受代办授权", "proxy.declined": "拒绝代办授权",
    "proxy.changed": "修改代办授权", "proxy.revoked": "撤销代办授权", "proxy.expired": "代办授权到期",
    "proxy.guardian_claimed": "登记为未成年子女的监护人",
}
