"""Closing an account (注销账号, PIPL Art. 47): after a fresh re-authentication, and only
when nothing is pending. What identifies the person is erased (phone, ID number, name,
WeChat ids, nickname) and every binding released, so the same phone and ID number can
open a new account; what the law requires stays: applications and their timelines (the
department's records), audit entries and certificates issued by authorities, all now
pointing at an account id that names nobody (the pseudonym).

Other domains take part through two ports handed in by the composition root:
``obligations`` (what the person must settle first, e.g. applications in progress) and
``erasers`` (each domain cuts its own copies of the person's name)."""
from __future__ import annotations

import secrets
from typing import Awaitable, Callable

from identity.accounts.sms import SmsCodes
from identity.accounts.storage import PersonStore
from identity.closure.models import ClosurePreview, Obligation
from identity.codes.service import CodeService
from identity.enterprises.storage import EnterpriseStore
from identity.phones import mask_any_phone
from identity.sessions.service import Sessions
from server.audit import Actor, AuditTrail
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, PermissionDenied, Unprocessable
from server.pii import PiiCipher
from server.principal import Caller, Principal, enterprise_chain, person_chain
from server.providers.wechat import WeChatGateway

ObligationSource = Callable[[str], Awaitable[list[dict]]]  # person id -> what must be settled first
Eraser = Callable[[str, str], Awaitable[None]]  # person id, pseudonym -> the domain's copies cut
PSEUDONYM_PREFIX = "已注销用户"
ERASED = ["手机号码", "姓名与证件号码", "微信账号关联", "昵称与个人设置", "登录状态（所有设备）", "服务码", "企业经办授权"]
KEPT = ["已提交的办件及其办理记录（部门依法归档；申请人显示为“已注销用户”）",
        "账户动态（审计日志，仅含脱敏信息，依法保存）",
        "发证机关签发的电子证照（仍归发证机关管理，以同一证件号码重新开户后可再次看到）"]


class AccountClosure:
    def __init__(self, persons: PersonStore, enterprises: EnterpriseStore, sessions: Sessions, codes: CodeService,
                 sms: SmsCodes, wechat: WeChatGateway, audit: AuditTrail, pii: PiiCipher,
                 obligations: list[ObligationSource], erasers: list[Eraser], resend_interval: int):
        self.persons = persons
        self.enterprises = enterprises
        self.sessions = sessions
        self.codes = codes
        self.sms = sms
        self.wechat = wechat
        self.audit = audit
        self.pii = pii
        self.obligations = obligations
        self.erasers = erasers
        self.resend_interval = resend_interval

    async def _me(self, principal: Principal) -> dict:
        doc = await self.persons.get(principal.subject)
        if doc is None or doc.get("status") != "active":
            raise PermissionDenied("账户不存在或已注销", code="account_inactive")
        return doc

    async def _obligations(self, person_id: str) -> list[Obligation]:
        out = [Obligation(kind="enterprise_admin", title=f"您是“{e['name']}”的企业管理员",
                          detail="请先将管理员移交给其他人，或解除该企业的绑定", link="/portal")
               for e in await self.enterprises.administered_by(person_id) if e.get("status", "active") != "unbound"]
        for source in self.obligations:
            out += [Obligation(**o) for o in await source(person_id)]
        return out

    def _reauth(self, doc: dict) -> list[str]:
        return [k for k, present in (("sms", doc.get("phone_enc")), ("wechat", doc.get("wechat_bound"))) if present]

    async def preview(self, principal: Principal) -> ClosurePreview:
        doc = await self._me(principal)
        obligations = await self._obligations(doc["_id"])
        return ClosurePreview(can_close=not obligations, obligations=obligations, erased=ERASED, kept=KEPT,
                              reauth=self._reauth(doc))

    async def send_sms(self, principal: Principal, caller: Caller) -> tuple[str, int]:
        """A code to the account's own phone (the re-authentication before closing)."""
        doc = await self._me(principal)
        if not doc.get("phone_enc"):
            raise Conflict("账户未绑定手机号，请用微信重新验证", code="no_phone_on_account")
        phone = self.pii.decrypt(doc["phone_enc"], "phone")
        return mask_any_phone(phone), await self.sms.send(phone, caller.ip)

    async def _check_reauth(self, doc: dict, sms_code: str | None, wechat_code: str | None, ip: str) -> None:
        if sms_code:
            if not doc.get("phone_enc"):
                raise Conflict("账户未绑定手机号，请用微信重新验证", code="no_phone_on_account")
            await self.sms.verify(self.pii.decrypt(doc["phone_enc"], "phone"), sms_code, ip)
            return
        if wechat_code:
            wx = await self.wechat.code_to_session(wechat_code)
            mine = {b["_id"] for b in await self.persons.bindings_of("wechat", doc["_id"])}
            if f"{self.wechat.appid}:{wx.openid}" not in mine:
                raise Unprocessable("当前微信不是本账户绑定的微信", code="wechat_not_this_account",
                                    errors=[FieldError("wechat_code", "不是本账户绑定的微信")])
            return
        raise InvalidInput("注销前请重新验证身份（短信验证码或微信）", code="reauth_required",
                           errors=[FieldError("sms_code", "请输入发到本账户手机号的验证码")])

    async def close(self, principal: Principal, sms_code: str | None, wechat_code: str | None,
                    caller: Caller) -> None:
        doc = await self._me(principal)
        obligations = await self._obligations(doc["_id"])
        if obligations:
            raise Conflict("还有未了结的事项，暂时不能注销：" + "；".join(o.title for o in obligations),
                           code="account_has_obligations",
                           extra={"obligations": [o.model_dump() for o in obligations]})
        await self._check_reauth(doc, sms_code, wechat_code, caller.ip)
        person_id = doc["_id"]
        pseudonym = f"{PSEUDONYM_PREFIX} {secrets.token_hex(3).upper()}"
        if doc.get("level", 0) >= 2:
            try:
                await self.codes.revoke_all(principal, None, caller)
            except PermissionDenied:
                pass
        await self._leave_enterprises(person_id, caller)
        await self.sessions.end_all(person_id)
        for kind, key in (("phone", doc.get("phone_bidx")), ("id", (doc.get("realname") or {}).get("id_bidx"))):
            if key:
                await self.persons.release(kind, key, person_id)
        for kind in ("wechat", "wechat_union"):
            for b in await self.persons.bindings_of(kind, person_id):
                await self.persons.release(kind, b["_id"], person_id)
        await self.persons.update(person_id, {
            "status": "closed", "closed_at": now_ms(), "pseudonym": pseudonym, "level": 0, "nickname": None,
            "phone_enc": None, "phone_bidx": None, "realname": None, "wechat_bound": False, "face_verified_at": None,
            "elder_mode": False, "agreements": None, "oa_payer": None}, now_ms())
        for erase in self.erasers:
            await erase(person_id, pseudonym)
        await self.audit.record(person_chain(person_id), Actor("person", person_id), "account.closed",
                                target={"type": "person", "id": person_id}, channel=caller.channel, ip=caller.ip,
                                details={"pseudonym": pseudonym})

    async def _leave_enterprises(self, person_id: str, caller: Caller) -> None:
        """Every live authorisation to act for an enterprise ends (recorded in its trail)."""
        for agent in await self.enterprises.agents_for_person(person_id):
            if agent["status"] not in ("invited", "active"):
                continue
            updated = await self.enterprises.update_agent(agent["_id"], agent["version"],
                                                          {"status": "revoked", "revoked_at": now_ms()})
            if updated is None:
                continue
            await self.enterprises.release_agent_slot(agent["enterprise_id"], person_id, agent["_id"])
            await self.audit.record(enterprise_chain(agent["enterprise_id"]), Actor("person", person_id),
                                    "agent.left", target={"type": "agent", "id": agent["_id"]},
                                    channel=caller.channel, ip=caller.ip, details={"reason": "account.closed"})
