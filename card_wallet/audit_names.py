"""What the wallet's audit actions mean, for the holder reading their 账户动态."""
from __future__ import annotations

AUDIT_ACTIONS = {
    "certificate.issued": "发证机关签发证照", "certificate.updated": "证照更新", "certificate.suspended": "证照暂停",
    "certificate.active": "证照恢复有效", "certificate.revoked": "证照注销", "certificate.viewed": "查看证照",
    "certificate.revealed": "查看证照完整信息", "certificate.shared": "亮证",
}
