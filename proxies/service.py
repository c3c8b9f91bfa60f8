"""亲友代办 rules: a grant from a person (L2) to another person (L2) for named scopes until a
date, accepted by the proxy before it counts, changed or revoked by the person at once
(acting tokens are re-checked on every request, see ``identity.proxying``); guardianship of a
minor from the child's 出生医学证明 in the guardian's wallet, without the child's acceptance,
ending by itself on the 18th birthday (both are told). Everything is in both trails."""
from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from card_wallet.holding.service import HoldingService
from identity.dependents import Dependents
from identity.facade import Directory, PersonFacts
from identity.idnumber import InvalidIdNumber, parse_id_number
from identity.proxying import Grant
from notifications.service import Notifications
from proxies.storage import LIVE, GrantStore
from server.audit import Actor, AuditTrail
from server.calendar import CHINA
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from server.masking import mask_name
from server.principal import PROXY_SCOPES, Caller, Principal, person_chain, require_level

log = logging.getLogger("superapp.proxies")
BIRTH_CERTIFICATE = "11100000000019297M001"  # 出生医学证明
MAX_YEARS = 3
ADULT = 18
STATE_NAMES = {"pending": "待对方接受", "active": "生效中", "declined": "对方已拒绝", "revoked": "已撤销",
               "expired": "已到期"}


def end_of(day: date) -> int:
    """The last millisecond of ``day`` in China."""
    return int(datetime.combine(day + timedelta(days=1), time(0), CHINA).timestamp() * 1000) - 1


def birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February
        return born.replace(year=born.year + years, day=28) + timedelta(days=1)


class ProxyService:
    def __init__(self, store: GrantStore, directory: Directory, wallet: HoldingService, dependents: Dependents,
                 notifications: Notifications, audit: AuditTrail):
        self.store = store
        self.directory = directory
        self.wallet = wallet
        self.dependents = dependents
        self.notifications = notifications
        self.audit = audit

    # -- the port identity asks on every acting request ------------------------------------------

    async def usable(self, proxy_id: str, person_id: str) -> Grant | None:
        doc = await self.store.live_between(person_id, proxy_id)
        if doc is None or doc["state"] != "active" or doc["expires_at"] < now_ms():
            return None
        return Grant(doc["_id"], doc["kind"], frozenset(doc["scopes"]))

    # -- granting ------------------------------------------------------------------------------------

    async def _verified(self, person_id: str, who: str) -> PersonFacts:
        p = await self.directory.person(person_id)
        if p is None or not p.active or p.level < 2 or not p.verified:
            raise PermissionDenied(f"{who}须先完成实名认证（L2）", code="level_too_low",
                                   extra={"required_level": 2})
        return p

    async def grant(self, principal: Principal, body: dict[str, Any], caller: Caller) -> dict[str, Any]:
        require_level(principal, 2)
        me = await self._verified(principal.subject, "您")
        other = (await self.directory.person_by_phone(body["phone"].strip()) if body.get("phone")
                 else await self.directory.person(body["person_id"]))
        field = "phone" if body.get("phone") else "person_id"
        if other is None or not other.active:
            raise NotFound("没有找到这位亲友的账户：请对方先注册并完成实名认证", code="proxy_not_found",
                           errors=[FieldError(field, "没有找到这个账户")])
        if other.id == me.id:
            raise InvalidInput("不能授权自己代办", code="proxy_self", errors=[FieldError(field, "不能授权自己")])
        if other.level < 2 or not other.verified:
            raise Conflict("对方尚未完成实名认证，实名后才能接受代办授权", code="proxy_not_verified")
        expires = self._expiry(body["expires_on"])
        if await self.store.live_between(me.id, other.id) is not None:
            raise Conflict("您已授权这位亲友代办，可修改或撤销现有授权", code="grant_exists")
        now = now_ms()
        doc = {"_id": "g" + secrets.token_hex(12), "kind": "authorised", "principal_id": me.id,
               "principal_name": mask_name(me.name or ""), "proxy_id": other.id,
               "proxy_name": mask_name(other.name or ""), "scopes": sorted(set(body["scopes"])),
               "expires_on": body["expires_on"].isoformat(), "expires_at": expires, "state": "pending",
               "version": 1, "created_at": now, "updated_at": now}
        await self.store.insert(doc)
        await self._both(doc, Actor("person", me.id), "proxy.granted", caller)
        await self._tell(doc, other.id, "待接受", f"{doc['principal_name']}授权您代办：{self._scopes(doc)}")
        return self.view(doc)

    @staticmethod
    def _expiry(day: date) -> int:
        today = datetime.now(CHINA).date()
        if day < today or day > birthday(today, MAX_YEARS):
            raise InvalidInput(f"授权截止日期须在今天到 {MAX_YEARS} 年之内", code="expiry_out_of_range",
                               errors=[FieldError("expires_on", f"请选择今天到 {MAX_YEARS} 年内的日期")])
        return end_of(day)

    async def respond(self, principal: Principal, grant_id: str, version: int, accept: bool, caller: Caller
                      ) -> dict[str, Any]:
        doc = await self.store.get(grant_id)
        if doc is None or doc["proxy_id"] != principal.subject:
            raise NotFound("没有找到这项代办授权", code="grant_not_found")
        if accept:
            require_level(principal, 2)
        state = "active" if accept else "declined"
        updated = await self._move(doc, version, ["pending"], {"state": state})
        await self._both(updated, Actor("person", principal.subject), f"proxy.{'accepted' if accept else 'declined'}",
                         caller)
        await self._tell(updated, updated["principal_id"], STATE_NAMES[state],
                         f"{updated['proxy_name']}{'已接受' if accept else '拒绝了'}您的代办授权")
        return self.view(updated)

    async def change(self, principal: Principal, grant_id: str, version: int, scopes: list[str], expires_on: date,
                     caller: Caller) -> dict[str, Any]:
        doc = await self._mine(principal, grant_id)
        if doc["kind"] == "guardian":
            raise Conflict("监护关系按子女年龄自动到期，不能修改", code="guardian_fixed")
        updated = await self._move(doc, version, LIVE, {"scopes": sorted(set(scopes)), "expires_on": expires_on.isoformat(),
                                                        "expires_at": self._expiry(expires_on)})
        await self._both(updated, Actor("person", principal.subject), "proxy.changed", caller,
                         scopes=updated["scopes"], expires_on=updated["expires_on"])
        return self.view(updated)

    async def revoke(self, principal: Principal, grant_id: str, version: int, caller: Caller) -> dict[str, Any]:
        """By the person (at once), or by the proxy giving it up."""
        doc = await self.store.get(grant_id)
        if doc is None or principal.subject not in (doc["principal_id"], doc["proxy_id"]):
            raise NotFound("没有找到这项代办授权", code="grant_not_found")
        updated = await self._move(doc, version, LIVE, {"state": "revoked", "revoked_by": principal.subject})
        await self._both(updated, Actor("person", principal.subject), "proxy.revoked", caller)
        other = updated["proxy_id"] if principal.subject == updated["principal_id"] else updated["principal_id"]
        await self._tell(updated, other, "已撤销", "代办授权已撤销")
        return self.view(updated)

    async def _mine(self, principal: Principal, grant_id: str) -> dict[str, Any]:
        doc = await self.store.get(grant_id)
        if doc is None or doc["principal_id"] != principal.subject:
            raise NotFound("没有找到这项代办授权", code="grant_not_found")
        return doc

    async def _move(self, doc: dict[str, Any], version: int, from_states: list[str], set_: dict[str, Any]
                    ) -> dict[str, Any]:
        updated = await self.store.update(doc["_id"], version, from_states, {**set_, "updated_at": now_ms()})
        if updated is None:
            if doc["version"] != version:
                raise Conflict("授权刚有变化，请刷新后再试", code="stale_version")
            raise Conflict(f"这项授权当前为“{STATE_NAMES[doc['state']]}”，不能这样操作", code="illegal_transition")
        return updated

    # -- guardianship ----------------------------------------------------------------------------------

    async def claim_guardian(self, principal: Principal, child_name: str, child_id: str, caller: Caller
                             ) -> dict[str, Any]:
        require_level(principal, 2)
        me = await self._verified(principal.subject, "您")
        try:
            child = parse_id_number(child_id)
        except InvalidIdNumber as e:
            raise InvalidInput(str(e), code="id_number_invalid", errors=[FieldError("child_id_number", str(e))]) from None
        today = datetime.now(CHINA).date()
        adult_on = birthday(child.birth_date, ADULT)
        if adult_on <= today:
            raise Conflict("子女已年满 18 周岁，请由其本人授权代办", code="child_not_minor",
                           errors=[FieldError("child_id_number", "已成年")])
        cert = (await self.wallet.satisfies("person", me.id_index or "", [BIRTH_CERTIFICATE]))[BIRTH_CERTIFICATE]
        f = cert["fields"] if cert else {}
        parent = me.id_number in (f.get("mother_id_number"), f.get("father_id_number"))
        if not (cert and parent and f.get("baby_name") == child_name
                and f.get("birth_date") == child.birth_date.isoformat()):
            raise Conflict("您的卡包中没有与该子女相符的出生医学证明（须列明您为父亲或母亲，且姓名、出生日期一致）",
                           code="guardian_not_proven")
        child_pid = await self.dependents.ensure(child_name, child.value, me.id)
        if child_pid == me.id:
            raise InvalidInput("不能登记自己", code="proxy_self")
        existing = await self.store.live_between(child_pid, me.id)
        if existing is not None and existing["kind"] == "guardian":
            return self.view(existing)
        now = now_ms()
        doc = {"_id": "g" + secrets.token_hex(12), "kind": "guardian", "principal_id": child_pid,
               "principal_name": mask_name(child_name), "proxy_id": me.id, "proxy_name": mask_name(me.name or ""),
               "scopes": sorted(PROXY_SCOPES), "expires_on": (adult_on - timedelta(days=1)).isoformat(),
               "expires_at": end_of(adult_on - timedelta(days=1)), "state": "active", "version": 1,
               "certificate_id": cert["certificate_id"], "created_at": now, "updated_at": now}
        await self.store.insert(doc)
        await self._both(doc, Actor("person", me.id), "proxy.guardian_claimed", caller)
        return self.view(doc)

    # -- lists, expiry ------------------------------------------------------------------------------

    async def mine(self, principal: Principal) -> dict[str, list[dict[str, Any]]]:
        await self.expire_due()
        return {"granted": [self.view(d) for d in await self.store.of_principal(principal.subject)],
                "received": [self.view(d) for d in await self.store.of_proxy(principal.subject)]}

    async def expire_due(self) -> int:
        """Grants past their date end (a child's 18th birthday for guardianship); both are told."""
        n = 0
        for doc in await self.store.due_to_expire(now_ms()):
            updated = await self.store.update(doc["_id"], doc["version"], LIVE, {"state": "expired",
                                                                                 "updated_at": now_ms()})
            if updated is None:
                continue
            n += 1
            await self._both(updated, Actor("system", "superapp"), "proxy.expired", Caller("system", ""))
            why = "子女已年满 18 周岁，监护代办自动结束" if doc["kind"] == "guardian" else "代办授权已到期"
            for person in (updated["principal_id"], updated["proxy_id"]):
                await self._tell(updated, person, "已到期", why)
        return n

    # -- shared ------------------------------------------------------------------------------------

    @staticmethod
    def _scopes(doc: dict[str, Any]) -> str:
        return "、".join(PROXY_SCOPES[s] for s in doc["scopes"])

    def view(self, doc: dict[str, Any]) -> dict[str, Any]:
        state = doc["state"]
        if state in LIVE and doc["expires_at"] < now_ms():
            state = "expired"
        return {"id": doc["_id"], "kind": doc["kind"], "principal_id": doc["principal_id"],
                "principal_name": doc["principal_name"], "proxy_id": doc["proxy_id"], "proxy_name": doc["proxy_name"],
                "scopes": doc["scopes"], "scope_names": [PROXY_SCOPES[s] for s in doc["scopes"]],
                "expires_on": doc["expires_on"], "state": state, "state_name": STATE_NAMES[state],
                "version": doc["version"], "created_at": doc["created_at"]}

    async def _both(self, doc: dict[str, Any], actor: Actor, action: str, caller: Caller, **details: Any) -> None:
        """The same entry in the person's and the proxy's trails."""
        info = {"grant": doc["_id"], "kind": doc["kind"], "scopes": doc["scopes"], **details}
        for me, other in ((doc["principal_id"], doc["proxy_id"]), (doc["proxy_id"], doc["principal_id"])):
            await self.audit.record(person_chain(me), actor, action, target={"type": "person", "id": other},
                                    channel=caller.channel, ip=caller.ip, details=info)

    async def _tell(self, doc: dict[str, Any], person_id: str, state_name: str, comment: str) -> None:
        try:
            await self.notifications.enqueue([{
                "_id": f"{doc['_id']}:{doc['version']}:{person_id}", "person_id": person_id, "about": "proxy",
                "proxy_id": doc["_id"], "number": doc["_id"][-6:].upper(), "title": "亲友代办", "state": doc["state"],
                "state_name": state_name, "comment": comment, "at": now_ms(), "page": "/mine/proxies"}])
        except Exception:  # noqa: BLE001 - the grant stands; the message is a courtesy
            log.warning("proxy notification for %s not queued", doc["_id"], exc_info=True)
