"""Paying inside WeChat's browser needs the payer's openid under our official account (服务号):
WeChat's silent web authorisation (snsapi_base) gives it. The person starts it from the pay
button (a one-use ``state`` bound to them, minutes long), WeChat sends the browser back to our
H5 with a ``code``, and the code is exchanged for the openid, kept on the person's account as
the WeChat that pays (``oa_payer``; one at a time, gone with the account). It is not a way to
log in: the openid is asked for the person already signed in, and names no one else.

A proxy (亲友代办) authorises their own WeChat: they pay, from their own account."""
from __future__ import annotations

import secrets

from identity.accounts.storage import PersonStore
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, RateLimited, Unavailable
from server.principal import Caller, Principal, person_chain
from server.providers.wechat import WeChatGateway
from server.storage.limits import Limits
from identity.wechat_web.storage import AuthorizeStates

REDIRECT_PATH = "/wechat/authorized"  # the H5 page WeChat sends the browser back to
ATTEMPTS, WINDOW_SECONDS = 20, 600  # authorisations begun and codes sent back, per person


class WebAuthorization:
    def __init__(self, states: AuthorizeStates, persons: PersonStore, wechat: WeChatGateway, audit: AuditTrail,
                 limits: Limits, public_base_url: str, state_ttl_seconds: int = 600):
        self.states = states
        self.limits = limits
        self.persons = persons
        self.wechat = wechat
        self.audit = audit
        self.redirect_uri = public_base_url.rstrip("/") + REDIRECT_PATH
        self.state_ttl = state_ttl_seconds

    def _account(self) -> str:
        oa = self.wechat.official_account
        if oa is None:
            raise Conflict("暂不支持在微信内的网页中支付，请在“政务超级应用”小程序中缴费", code="wechat_oa_unavailable")
        return oa.appid

    async def _spend(self, person_id: str) -> None:
        """Each begun authorisation keeps a state in Redis and each code sent back is a call to
        WeChat: a person gets a budget of them."""
        wait, _ = await self.limits.spend("wechat-web", [person_id], ATTEMPTS, WINDOW_SECONDS)
        if wait:
            raise RateLimited(f"微信授权过于频繁，请 {wait} 秒后再试", code="wechat_oauth_too_many", retry_after=wait)

    async def authorize(self, principal: Principal, return_path: str) -> tuple[str, int]:
        """WeChat's authorisation address, and how long it may be used."""
        self._account()
        await self._spend(_own(principal))
        state = secrets.token_hex(16)  # WeChat documents state as a-zA-Z0-9
        await self.states.put(state, {"person": _own(principal), "return_path": return_path}, self.state_ttl)
        return self.wechat.web_authorize_url(self.redirect_uri, state), self.state_ttl

    async def bind(self, principal: Principal, code: str, state: str, caller: Caller) -> str:
        """The WeChat that pays for this person, from WeChat's ``code``; returns where to go back to."""
        appid = self._account()
        own = _own(principal)
        await self._spend(own)
        asked = await self.states.take(state)
        if asked is not None and asked.get("person") != own:  # someone else's: theirs to finish, not spoilt
            await self.states.put(state, asked, self.state_ttl)
            asked = None
        if asked is None:
            raise InvalidInput("微信授权已过期或不是本账户发起的，请返回后重新点击支付", code="wechat_oauth_state_invalid",
                               errors=[FieldError("state", "授权已过期，请重新发起")])
        try:
            openid = await self.wechat.web_openid(code)
        except Unavailable:  # WeChat unreachable: the same code and state may be tried again
            await self.states.put(state, asked, self.state_ttl)
            raise
        doc = await self.persons.get(own) or {}
        before = doc.get("oa_payer") or {}
        if (before.get("appid"), before.get("openid")) != (appid, openid):
            await self.persons.update(own, {"oa_payer": {"appid": appid, "openid": openid, "at": now_ms()}}, now_ms())
            await self.audit.record(person_chain(own), Actor("person", own), "wechat.oa_authorized",
                                    target={"type": "person", "id": own}, channel=caller.channel, ip=caller.ip,
                                    details={"replaced": bool(before)})
        return asked["return_path"]


def _own(principal: Principal) -> str:
    return principal.proxy.proxy_id if principal.proxy is not None else principal.subject
