"""Department staff and window clerks: password + TOTP login, ``aud=staff`` tokens."""
from __future__ import annotations

from typing import Any

import pyotp

from identity.sessions.service import Sessions, TokenPair
from identity.staff.passwords import verify_password
from identity.staff.storage import StaffStore
from server.audit import Actor, AuditTrail
from server.errors import PermissionDenied, RateLimited, Unauthenticated
from server.pii import PiiCipher
from server.storage.limits import Limits

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
STAFF_PREFIX = "staff:"


def staff_subject(username: str) -> str:
    return STAFF_PREFIX + username


class StaffService:
    def __init__(self, store: StaffStore, sessions: Sessions, limits: Limits, pii: PiiCipher, audit: AuditTrail):
        self.store = store
        self.sessions = sessions
        self.limits = limits
        self.pii = pii
        self.audit = audit

    def _claims(self, staff: dict[str, Any]) -> dict[str, Any]:
        return {"roles": staff["roles"], "dept": staff["department"], "dept_name": staff["department_name"],
                "name": staff["name"]}

    async def login(self, username: str, password: str, totp: str, ip: str) -> tuple[TokenPair, dict[str, Any]]:
        # Each try is counted before the password is checked (simultaneous guesses cannot all
        # slip under the limit); a successful login clears the count.
        wait, tries = await self.limits.spend("staff-login", [username], MAX_FAILURES, LOCK_SECONDS)
        if wait:
            raise RateLimited(f"登录失败次数过多，账户已临时锁定，请 {(wait + 59) // 60} 分钟后再试",
                              code="staff_locked", retry_after=wait)
        staff = await self.store.get(username)
        ok = (staff is not None and staff.get("status") == "active"
              and verify_password(password, staff["password_hash"])
              and pyotp.TOTP(self.pii.decrypt(staff["totp_secret_enc"], "totp_secret")).verify(totp, valid_window=1)
              and await self.limits.first_use("totp", f"{username}:{totp}", 90))
        if not ok:
            left = max(0, MAX_FAILURES - tries)
            raise Unauthenticated(f"用户名、密码或动态口令不正确（还可尝试 {left} 次）", code="staff_login_failed",
                                  extra={"remaining_tries": left})
        await self.limits.reset("staff-login", username)
        pair = await self.sessions.start(staff_subject(username), "staff", 0, self._claims(staff))
        await self.audit.record(f"staff:{username}", Actor("staff", username), "login", channel="staff", ip=ip)
        return pair, staff

    async def refresh(self, refresh_token: str) -> TokenPair:
        outcome, successor = await self.sessions.verify_refresh(refresh_token)
        if not outcome.person_id.startswith(STAFF_PREFIX):
            raise Unauthenticated("刷新凭证无效", code="refresh_token_invalid")
        staff = await self.store.get(outcome.person_id[len(STAFF_PREFIX):])
        if staff is None or staff.get("status") != "active":
            raise PermissionDenied("账户已停用", code="account_inactive")
        return await self.sessions.pair_after_refresh(outcome, successor, 0, self._claims(staff))
