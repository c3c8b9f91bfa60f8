"""SMS login codes: 6 digits, stored hashed, limited validity, limited tries, rate limits.
Messages go out through the platform's :class:`~server.providers.sms.SmsSender`, worded for
the number's region (mainland; Hong Kong, Macao, Taiwan; international), and messages outside
the mainland within a daily budget for the whole platform."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from identity.accounts.storage import SmsCodeStore
from identity.phones import InvalidPhone, Phone, parse_phone
from server.config import SmsConfig
from server.errors import FieldError, InvalidInput, RateLimited
from server.pii import PiiCipher
from server.providers.sms import SmsRegion, SmsSender

CHINA = timezone(timedelta(hours=8))
_LOGIN_TEXT: dict[SmsRegion, str] = {
    "mainland": "【{sign}】您的登录验证码为 {code}，{minutes} 分钟内有效。如非本人操作，请忽略本短信。",
    "hmt": "【{sign}】您的登入驗證碼為 {code}，{minutes} 分鐘內有效。如非本人操作，請忽略本短訊。",
    "international": "[{sign}] Your login code is {code}, valid for {minutes} minutes. "
                     "If you did not request it, please ignore this message.",
}


def parse_phone_field(phone: str, field: str = "phone") -> Phone:
    """The number, or 400 ``invalid_phone`` naming ``field``."""
    try:
        return parse_phone(phone)
    except InvalidPhone as e:
        raise InvalidInput(f"手机号码格式不正确：{e}", code="invalid_phone", errors=[FieldError(field, str(e))],
                           extra={"reason": e.reason}) from None


def validate_phone(phone: str, field: str = "phone") -> str:
    """The number in its stored form: 11 digits (mainland) or E.164, or 400 ``invalid_phone``."""
    return parse_phone_field(phone, field).value


class SmsCodes:
    def __init__(self, store: SmsCodeStore, sender: SmsSender, pii: PiiCipher, config: SmsConfig):
        self.store = store
        self.sender = sender
        self.pii = pii
        self.cfg = config

    def _phone_key(self, phone: str) -> str:
        return self.pii.blind_index(phone, "phone")

    def _code_hash(self, phone: str, code: str) -> str:
        return self.pii.blind_index(f"{phone}:{code}", "sms_code")

    def _wording(self, region: SmsRegion) -> tuple[str, str]:
        """(template id, sign) of a login code in ``region``."""
        if region == "hmt":
            return self.cfg.login_template_hmt, self.cfg.sign_name_hmt
        if region == "international":
            return self.cfg.login_template_international, self.cfg.sign_name_international
        return self.cfg.login_template, self.cfg.sign_name

    async def send(self, phone: str, ip: str) -> int:
        """Send a new code; returns its validity in seconds. Raises RateLimited with Retry-After."""
        number = parse_phone_field(phone)
        phone, region = number.value, number.region
        now = datetime.now(CHINA)
        hour_left = 3600 - (now.minute * 60 + now.second)
        if await self.store.count(f"ip-send:{ip}", now.strftime("%Y%m%d%H"), 3600) > self.cfg.hourly_sends_per_ip:
            raise RateLimited("该网络发送验证码过于频繁，请稍后再试", code="sms_ip_limited", retry_after=hour_left)
        key = self._phone_key(phone)
        wait = await self.store.take_cooldown(key, self.cfg.resend_interval_seconds)
        if wait:
            raise RateLimited(f"验证码发送过于频繁，请 {wait} 秒后再试", code="sms_too_frequent", retry_after=wait)
        day = now.strftime("%Y%m%d")
        if await self.store.count(f"phone-day:{key}", day, 2 * 86400) > self.cfg.daily_limit_per_phone:
            raise RateLimited("该手机号今日获取验证码次数已达上限，请明天再试", code="sms_daily_limit",
                              retry_after=_seconds_to_midnight(now))
        abroad = region != "mainland"
        if abroad and await self.store.count("intl-day", day, 2 * 86400) > self.cfg.international_daily_budget:
            # The platform's budget, not this person's doing: their attempt is given back.
            await self._give_back(key, day, abroad, code_sent=False)
            raise RateLimited("今日境外手机号短信发送量已达上限，请明天再试，或使用微信登录",
                              code="sms_international_budget_exhausted", retry_after=_seconds_to_midnight(now),
                              errors=[FieldError("phone", "今日境外手机号短信发送量已达上限")])
        code = f"{secrets.randbelow(1_000_000):06d}"
        minutes = max(1, self.cfg.code_ttl_seconds // 60)
        await self.store.put_code(key, self._code_hash(phone, code), self.cfg.code_ttl_seconds)
        template, sign = self._wording(region)
        text = _LOGIN_TEXT[region].format(sign=sign, code=code, minutes=minutes)
        try:
            await self.sender.send(phone, template, {"code": code, "minutes": str(minutes)}, text,
                                   sign=None if region == "mainland" else sign)
        except Exception:
            # Nothing was delivered: give the attempt back.
            await self._give_back(key, day, abroad, code_sent=True)
            raise
        return self.cfg.code_ttl_seconds

    async def _give_back(self, key: str, day: str, abroad: bool, code_sent: bool) -> None:
        if code_sent:
            await self.store.drop_code(key)
        await self.store.release_cooldown(key)
        await self.store.count(f"phone-day:{key}", day, 2 * 86400, delta=-1)
        if abroad:
            await self.store.count("intl-day", day, 2 * 86400, delta=-1)

    async def verify(self, phone: str, code: str, ip: str) -> str:
        """Check a code (consumed on success); returns the phone."""
        phone = validate_phone(phone)
        now = datetime.now(CHINA)
        if await self.store.count(f"ip-verify:{ip}", now.strftime("%Y%m%d%H%M"), 60) > self.cfg.verifies_per_ip_per_minute:
            raise RateLimited("验证过于频繁，请稍后再试", code="sms_verify_ip_limited", retry_after=60 - now.second)
        code = code.strip()
        if len(code) != 6 or not code.isdigit():
            raise InvalidInput("验证码应为 6 位数字", code="sms_code_malformed",
                               errors=[FieldError("code", "验证码应为 6 位数字")])
        outcome, n = await self.store.verify(self._phone_key(phone), self._code_hash(phone, code),
                                             self.cfg.max_wrong_attempts)
        if outcome == SmsCodeStore.OK:
            return phone
        if outcome == SmsCodeStore.MISSING:
            raise InvalidInput("验证码已失效，请重新获取", code="sms_code_expired",
                               errors=[FieldError("code", "验证码已失效，请重新获取")])
        if outcome == SmsCodeStore.LOCKED:
            raise RateLimited("验证码错误次数过多，已被锁定，请重新获取验证码", code="sms_code_locked",
                              retry_after=max(1, n // 1000))
        message = (f"验证码不正确，还可尝试 {n} 次" if n > 0
                   else "验证码不正确，错误次数过多，已被锁定，请重新获取验证码")
        raise InvalidInput(message, code="sms_code_invalid", errors=[FieldError("code", message)],
                           extra={"remaining_tries": n})


def _seconds_to_midnight(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((tomorrow - now).total_seconds())
