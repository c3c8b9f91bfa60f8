"""Enterprises (法人): binding by the legal representative, authorised staff (经办人),
and acting for an enterprise.

Authorisation is always (person, enterprise, scope), looked up now:
* the legal representative who bound the enterprise is its admin and holds every scope;
* an agent holds the scopes granted, until ``expires_at`` or revocation;
* an acting token (``act`` claim) is re-checked on every request, so a revocation or an
  expiry takes effect at once for tokens already issued.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Awaitable, Callable

from identity.accounts.models import ActivityEntry
from identity.accounts.sms import validate_phone
from identity.accounts.storage import PersonStore
from identity.enterprises.models import (
    ActingOut,
    AgentOut,
    EnterpriseActivityOut,
    EnterpriseOut,
    InvitationOut,
)
from identity.enterprises.storage import EnterpriseStore
from identity.phones import mask_any_phone
from identity.registry import EnterpriseRegistry
from identity.sessions.service import Sessions
from identity.uscc import InvalidUscc, parse_uscc
from identity.actors import ActorNames
from server.audit import Actor, AuditTrail
from server.clock import DAY_MS, from_datetime, now_ms, to_datetime
from server.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unprocessable,
)
from server.masking import mask_name
from server.pii import PiiCipher
from server.principal import (
    SCOPE_NAMES,
    Acting,
    Caller,
    Principal,
    enterprise_chain,
    person_chain,
    require_level,
)

SCOPES = ("matters", "certificates", "code", "agents")
MAX_GRANT_MS = 3 * 365 * DAY_MS


class EnterpriseService:
    def __init__(self, store: EnterpriseStore, persons: PersonStore, registry: EnterpriseRegistry,
                 audit: AuditTrail, pii: PiiCipher, sessions: Sessions, actor_names: ActorNames,
                 on_bound: Callable[[str], Awaitable[None]] | None = None):
        self.store = store
        # port: an enterprise was bound (``enterprise:<id>``; policies re-evaluate it, passed in by the root)
        self.on_bound = on_bound
        self.persons = persons
        self.registry = registry
        self.audit = audit
        self.actor_names = actor_names
        self.pii = pii
        self.sessions = sessions

    async def _record(self, enterprise_id: str, principal: Principal, action: str, caller: Caller,
                      **details: Any) -> None:
        await self.audit.record(enterprise_chain(enterprise_id), Actor("person", principal.subject), action,
                                target={"type": "enterprise", "id": enterprise_id}, channel=caller.channel,
                                ip=caller.ip, details=details)

    # -- roles -----------------------------------------------------------------------------------

    async def _live_agent(self, enterprise_id: str, person_id: str) -> dict[str, Any] | None:
        for agent in await self.store.agents_for_person(person_id):
            if agent["enterprise_id"] == enterprise_id and agent["status"] == "active":
                return agent
        return None

    async def role_of(self, person_id: str, enterprise: dict[str, Any]) -> tuple[str, frozenset[str], dict | None]:
        """(role, scopes, agent doc) for a live authorisation; raises if there is none."""
        if enterprise.get("status") != "verified":
            raise PermissionDenied("该企业账户已停用", code="enterprise_inactive")
        if enterprise["admin_person_id"] == person_id:
            return "admin", frozenset(SCOPES), None
        agent = await self._live_agent(enterprise["_id"], person_id)
        if agent is None:
            raise PermissionDenied("您未获得该企业的授权，或授权已被撤销", code="not_authorized_for_enterprise")
        if agent["expires_at"] <= now_ms():
            raise PermissionDenied("您对该企业的授权已过期", code="authorization_expired")
        return "agent", frozenset(agent["scopes"]), agent

    async def _enterprise(self, enterprise_id: str) -> dict[str, Any]:
        doc = await self.store.get(enterprise_id)
        if doc is None:
            raise NotFound("未找到该企业", code="enterprise_not_found")
        return doc

    async def _manager(self, principal: Principal, enterprise_id: str) -> tuple[dict, str, frozenset[str], dict | None]:
        """The enterprise and the caller's role, which must include managing agents."""
        enterprise = await self._enterprise(enterprise_id)
        try:
            role, scopes, agent = await self.role_of(principal.subject, enterprise)
        except PermissionDenied:
            raise NotFound("未找到该企业", code="enterprise_not_found") from None  # do not confirm it exists
        if "agents" not in scopes:
            raise PermissionDenied("您没有该企业的“授权管理”权限", code="scope_missing",
                                   extra={"required_scope": "agents"})
        return enterprise, role, scopes, agent

    async def for_scope(self, principal: Principal, enterprise_id: str, scope: str) -> dict[str, Any]:
        """The enterprise, if the caller holds ``scope`` for it now (404 if no authorisation at all)."""
        enterprise = await self.store.get(enterprise_id)
        if enterprise is None:
            raise NotFound("未找到该企业", code="enterprise_not_found")
        try:
            _, scopes, _ = await self.role_of(principal.subject, enterprise)
        except PermissionDenied:
            raise NotFound("未找到该企业", code="enterprise_not_found") from None
        if scope not in scopes:
            raise PermissionDenied(f"您没有该企业的“{SCOPE_NAMES.get(scope, scope)}”授权", code="scope_missing",
                                   extra={"required_scope": scope})
        return enterprise

    # -- binding ---------------------------------------------------------------------------------

    async def bind(self, principal: Principal, uscc: str, name: str, caller: Caller) -> EnterpriseOut:
        require_level(principal, 2)
        try:
            code = parse_uscc(uscc)
        except InvalidUscc as e:
            raise InvalidInput(str(e), code="uscc_invalid", errors=[FieldError("uscc", str(e))],
                               extra={"reason": e.reason}) from None
        existing = await self.store.by_uscc(code.value)
        if existing is not None:
            if existing["admin_person_id"] == principal.subject:
                return await self._out(existing, principal.subject)  # a retry of our own binding
            raise Conflict("该企业已由其他账户绑定，如有疑问请联系客服", code="enterprise_already_bound")
        record = await self.registry.lookup(code.value)
        if record is None:
            raise Unprocessable("企业登记信息中未查到该统一社会信用代码", code="enterprise_not_registered",
                                errors=[FieldError("uscc", "未查到该企业的登记信息")])
        if record.name != name.strip():
            raise Unprocessable("企业名称与登记信息不一致", code="enterprise_name_mismatch",
                                errors=[FieldError("name", "企业名称与登记信息不一致")])
        me = await self.persons.get(principal.subject)
        rn = (me or {}).get("realname") or {}
        if rn.get("id_bidx") != record.legal_rep_id_bidx or rn.get("name") != record.legal_rep_name:
            raise PermissionDenied("只有企业的法定代表人（经营者）本人可以绑定企业", code="not_legal_representative")
        now = now_ms()
        doc = {"_id": "e" + secrets.token_hex(12), "uscc": code.value, "name": record.name, "type": record.type,
               "registry_status": record.status, "status": "verified", "legal_rep_name": record.legal_rep_name,
               "admin_person_id": principal.subject, "address": record.address,
               "established": record.established, "created_at": now, "updated_at": now}
        if not await self.store.insert(doc):
            raise Conflict("该企业已由其他账户绑定", code="enterprise_already_bound")
        await self._record(doc["_id"], principal, "enterprise.bound", caller, uscc=code.value)
        await self.audit.record(person_chain(principal.subject), Actor("person", principal.subject),
                                "enterprise.bound", target={"type": "enterprise", "id": doc["_id"]},
                                channel=caller.channel, ip=caller.ip, details={"name": record.name})
        if self.on_bound is not None:
            await self.on_bound(f"enterprise:{doc['_id']}")
        return await self._out(doc, principal.subject)

    async def _out(self, e: dict[str, Any], person_id: str) -> EnterpriseOut:
        role, scopes, _ = await self.role_of(person_id, e)
        return EnterpriseOut(
            id=e["_id"], uscc=e["uscc"], name=e["name"], type=e["type"], status=e["status"],
            legal_representative=mask_name(e["legal_rep_name"]), address=e["address"], established=e["established"],
            bound_at=to_datetime(e["created_at"]), my_role=role, my_scopes=sorted(scopes),
        )

    async def mine(self, principal: Principal) -> list[EnterpriseOut]:
        admin = await self.store.administered_by(principal.subject)
        agent_of = [a["enterprise_id"] for a in await self.store.agents_for_person(principal.subject)
                    if a["status"] == "active" and a["expires_at"] > now_ms()]
        out = []
        for e in admin + await self.store.many([i for i in agent_of if i not in {x["_id"] for x in admin}]):
            if e.get("status") == "verified":
                out.append(await self._out(e, principal.subject))
        return out

    async def get(self, principal: Principal, enterprise_id: str) -> EnterpriseOut:
        enterprise = await self._enterprise(enterprise_id)
        try:
            return await self._out(enterprise, principal.subject)
        except PermissionDenied:
            raise NotFound("未找到该企业", code="enterprise_not_found") from None

    # -- agents ----------------------------------------------------------------------------------

    def _check_grant(self, role: str, granter_scopes: frozenset[str], granter: dict | None,
                     scopes: list[str], expires_at: datetime) -> int:
        if expires_at.tzinfo is None:
            raise InvalidInput("授权截止时间须带时区，例如 2027-01-01T00:00:00+08:00", code="validation_failed",
                               errors=[FieldError("expires_at", "须带时区")])
        until = from_datetime(expires_at)
        now = now_ms()
        if until <= now + 60_000:
            raise InvalidInput("授权截止时间须晚于当前时间", code="validation_failed",
                               errors=[FieldError("expires_at", "须晚于当前时间")])
        if until > now + MAX_GRANT_MS:
            raise InvalidInput("授权期限最长 3 年", code="validation_failed",
                               errors=[FieldError("expires_at", "授权期限最长 3 年")])
        beyond = sorted(set(scopes) - granter_scopes)
        if beyond:
            raise PermissionDenied("不能授予超出自身权限的授权范围：" + "、".join(SCOPE_NAMES[s] for s in beyond),
                                   code="scope_not_grantable", extra={"scopes": beyond})
        if role == "agent" and granter is not None and until > granter["expires_at"]:
            raise PermissionDenied("授权截止时间不能晚于您自己的授权截止时间", code="scope_not_grantable",
                                   errors=[FieldError("expires_at", "不能晚于您自己的授权截止时间")])
        return until

    async def invite(self, principal: Principal, enterprise_id: str, phone: str | None, person_id: str | None,
                     scopes: list[str], expires_at: datetime, caller: Caller) -> AgentOut:
        if (phone is None) == (person_id is None):
            raise InvalidInput("请提供被授权人的手机号或账户编号（二选一）", code="validation_failed",
                               errors=[FieldError("phone", "手机号与 person_id 二选一")])
        enterprise, role, granter_scopes, granter = await self._manager(principal, enterprise_id)
        until = self._check_grant(role, granter_scopes, granter, scopes, expires_at)
        invitee: dict[str, Any] | None = None
        phone_fields: dict[str, Any] = {}
        if phone is not None:
            phone = validate_phone(phone)
            bidx = self.pii.blind_index(phone, "phone")
            phone_fields = {"invitee_phone_bidx": bidx, "invitee_phone_enc": self.pii.encrypt(phone, "phone")}
            owner = await self.persons.bound_to("phone", bidx)
            invitee = await self.persons.get(owner) if owner else None
        else:
            invitee = await self.persons.get(person_id or "")
            if invitee is None or invitee.get("status") != "active":
                raise Unprocessable("未找到该账户", code="person_not_found",
                                    errors=[FieldError("person_id", "未找到该账户")])
            if invitee.get("phone_bidx"):
                phone_fields = {"invitee_phone_bidx": invitee["phone_bidx"], "invitee_phone_enc": invitee["phone_enc"]}
        if invitee is not None:
            if invitee["_id"] == enterprise["admin_person_id"]:
                raise Conflict("法定代表人已拥有全部权限，无需授权", code="agent_is_admin")
            if await self._live_agent(enterprise_id, invitee["_id"]) or await self._pending_for(enterprise_id, invitee):
                raise Conflict("该人员已获授权或已有待接受的邀请", code="agent_already_exists")
        elif phone_fields and any(a["enterprise_id"] == enterprise_id
                                  for a in await self.store.invitations_by_phone(phone_fields["invitee_phone_bidx"])):
            raise Conflict("该手机号已有待接受的邀请", code="agent_already_exists")
        now = now_ms()
        doc = {"_id": "g" + secrets.token_hex(12), "enterprise_id": enterprise_id,
               "person_id": invitee["_id"] if invitee else None, **phone_fields, "scopes": list(scopes),
               "expires_at": until, "status": "invited", "granted_by": principal.subject, "created_at": now,
               "accepted_at": None, "version": 1}
        await self.store.insert_agent(doc)
        await self._record(enterprise_id, principal, "agent.invited", caller, agent=doc["_id"], scopes=list(scopes),
                           expires_at=until)
        return await self._agent_out(doc)

    async def _pending_for(self, enterprise_id: str, person: dict[str, Any]) -> bool:
        pending = [a for a in await self.store.agents_for_person(person["_id"])
                   if a["enterprise_id"] == enterprise_id and a["status"] == "invited"]
        if person.get("phone_bidx"):
            pending += [a for a in await self.store.invitations_by_phone(person["phone_bidx"])
                        if a["enterprise_id"] == enterprise_id]
        return bool(pending)

    async def _agent_out(self, a: dict[str, Any]) -> AgentOut:
        name = None
        if a.get("person_id") and a["status"] in ("active", "revoked"):
            person = await self.persons.get(a["person_id"])
            if person and person.get("realname"):
                name = mask_name(person["realname"]["name"])
        phone = mask_any_phone(self.pii.decrypt(a["invitee_phone_enc"], "phone")) if a.get("invitee_phone_enc") else None
        status = a["status"]
        if status == "active" and a["expires_at"] <= now_ms():
            status = "expired"
        return AgentOut(id=a["_id"], enterprise_id=a["enterprise_id"], person_id=a.get("person_id"), name=name,
                        phone=phone, scopes=a["scopes"], expires_at=to_datetime(a["expires_at"]), status=status,
                        granted_by=a["granted_by"], created_at=to_datetime(a["created_at"]),
                        accepted_at=to_datetime(a.get("accepted_at")))

    async def list_agents(self, principal: Principal, enterprise_id: str) -> list[AgentOut]:
        await self._manager(principal, enterprise_id)
        return [await self._agent_out(a) for a in await self.store.agents_of(enterprise_id)]

    async def _managed_agent(self, principal: Principal, enterprise_id: str, agent_id: str
                             ) -> tuple[dict, str, frozenset[str], dict | None, dict]:
        enterprise, role, scopes, granter = await self._manager(principal, enterprise_id)
        agent = await self.store.agent(agent_id)
        if agent is None or agent["enterprise_id"] != enterprise_id:
            raise NotFound("未找到该授权", code="agent_not_found")
        if agent.get("person_id") == principal.subject:
            raise PermissionDenied("不能修改或撤销自己的授权", code="cannot_manage_self")
        if role == "agent" and not set(agent["scopes"]) <= scopes:
            raise PermissionDenied("不能管理权限比您更大的授权", code="scope_not_grantable")
        return enterprise, role, scopes, granter, agent

    async def change_agent(self, principal: Principal, enterprise_id: str, agent_id: str,
                           scopes: list[str] | None, expires_at: datetime | None, caller: Caller) -> AgentOut:
        _, role, granter_scopes, granter, agent = await self._managed_agent(principal, enterprise_id, agent_id)
        if agent["status"] not in ("invited", "active"):
            raise Conflict(f"该授权当前状态为“{agent['status']}”，不能修改", code="agent_not_changeable",
                           extra={"state": agent["status"]})
        new_scopes = list(scopes) if scopes is not None else agent["scopes"]
        new_expiry = expires_at if expires_at is not None else to_datetime(agent["expires_at"])
        until = self._check_grant(role, granter_scopes, granter, new_scopes, new_expiry)
        updated = await self.store.update_agent(agent_id, agent["version"], {"scopes": new_scopes, "expires_at": until})
        if updated is None:
            raise Conflict("该授权刚被他人修改，请刷新后重试", code="stale_version")
        await self._record(enterprise_id, principal, "agent.changed", caller, agent=agent_id, scopes=new_scopes,
                           expires_at=until)
        return await self._agent_out(updated)

    async def revoke_agent(self, principal: Principal, enterprise_id: str, agent_id: str, caller: Caller) -> AgentOut:
        _, _, _, _, agent = await self._managed_agent(principal, enterprise_id, agent_id)
        if agent["status"] not in ("invited", "active"):
            raise Conflict(f"该授权当前状态为“{agent['status']}”，无需撤销", code="agent_not_changeable",
                           extra={"state": agent["status"]})
        updated = await self.store.update_agent(agent_id, agent["version"], {"status": "revoked",
                                                                             "revoked_at": now_ms()})
        if updated is None:
            raise Conflict("该授权刚被他人修改，请刷新后重试", code="stale_version")
        if agent.get("person_id"):
            await self.store.release_agent_slot(enterprise_id, agent["person_id"], agent_id)
        await self._record(enterprise_id, principal, "agent.revoked", caller, agent=agent_id)
        return await self._agent_out(updated)

    # -- the invitee -----------------------------------------------------------------------------

    async def invitations(self, principal: Principal) -> list[InvitationOut]:
        me = await self.persons.get(principal.subject)
        found = {a["_id"]: a for a in await self.store.agents_for_person(principal.subject) if a["status"] == "invited"}
        if me and me.get("phone_bidx"):
            found.update({a["_id"]: a for a in await self.store.invitations_by_phone(me["phone_bidx"])})
        now = now_ms()
        out = []
        for a in found.values():
            e = await self.store.get(a["enterprise_id"])
            if e is None or a["expires_at"] <= now:
                continue
            out.append(InvitationOut(id=a["_id"], enterprise_id=e["_id"], enterprise_name=e["name"], uscc=e["uscc"],
                                     scopes=a["scopes"], expires_at=to_datetime(a["expires_at"]),
                                     invited_at=to_datetime(a["created_at"])))
        return out

    async def respond(self, principal: Principal, agent_id: str, accept: bool, caller: Caller) -> AgentOut:
        agent = await self.store.agent(agent_id)
        me = await self.persons.get(principal.subject)
        mine = agent is not None and me is not None and (
            agent.get("person_id") == principal.subject
            or (agent.get("invitee_phone_bidx") and agent["invitee_phone_bidx"] == me.get("phone_bidx")))
        if not mine:
            raise NotFound("未找到该邀请", code="invitation_not_found")
        if agent["status"] != "invited":
            raise Conflict(f"该邀请当前状态为“{agent['status']}”，不能再处理", code="invitation_not_pending",
                           extra={"state": agent["status"]})
        if agent["expires_at"] <= now_ms():
            raise Conflict("该邀请已过期", code="invitation_expired")
        if not accept:
            updated = await self.store.update_agent(agent_id, agent["version"], {"status": "declined",
                                                                                 "person_id": principal.subject})
            if updated is None:
                raise Conflict("该邀请刚被修改，请刷新后重试", code="stale_version")
            await self._record(agent["enterprise_id"], principal, "agent.declined", caller, agent=agent_id)
            return await self._agent_out(updated)
        require_level(principal, 2)  # an agent acts for an enterprise: real name first
        enterprise = await self._enterprise(agent["enterprise_id"])
        if enterprise["admin_person_id"] == principal.subject:
            raise Conflict("法定代表人已拥有全部权限，无需接受授权", code="agent_is_admin")
        holder = await self.store.claim_agent_slot(agent["enterprise_id"], principal.subject, agent_id)
        if holder != agent_id:
            raise Conflict("您已是该企业的经办人", code="agent_already_exists")
        updated = await self.store.update_agent(agent_id, agent["version"], {
            "status": "active", "person_id": principal.subject, "accepted_at": now_ms()})
        if updated is None:
            await self.store.release_agent_slot(agent["enterprise_id"], principal.subject, agent_id)
            raise Conflict("该邀请刚被修改，请刷新后重试", code="stale_version")
        await self._record(agent["enterprise_id"], principal, "agent.accepted", caller, agent=agent_id)
        await self.audit.record(person_chain(principal.subject), Actor("person", principal.subject),
                                "agent.accepted", target={"type": "enterprise", "id": agent["enterprise_id"]},
                                channel=caller.channel, ip=caller.ip, details={"scopes": agent["scopes"]})
        return await self._agent_out(updated)

    @property
    def token_ttl(self) -> int:
        """Seconds an acting token lives."""
        return self.sessions.tokens.ttl

    # -- acting -----------------------------------------------------------------------------------

    async def act_as(self, principal: Principal, enterprise_id: str | None, caller: Caller
                     ) -> tuple[str, ActingOut | None]:
        if enterprise_id is None:
            token, _ = self.sessions.derive(principal)
            return token, None
        require_level(principal, 2)
        enterprise = await self.store.get(enterprise_id)
        if enterprise is None:
            raise PermissionDenied("您未获得该企业的授权", code="not_authorized_for_enterprise")
        role, scopes, _ = await self.role_of(principal.subject, enterprise)
        claims = {"act": {"ent": enterprise_id, "role": role}, "scp": sorted(scopes)}
        token, _ = self.sessions.derive(principal, extra=claims)
        await self._record(enterprise_id, principal, "acting.started", caller, role=role)
        return token, ActingOut(enterprise_id=enterprise_id, enterprise_name=enterprise["name"], role=role,
                                scopes=sorted(scopes))

    async def resolve_acting(self, principal: Principal) -> Principal:
        """Per request: an ``act`` claim is honoured only while the authorisation holds."""
        act = principal.claims.get("act")
        if not act:
            return principal
        enterprise = await self.store.get(act.get("ent", "")) if isinstance(act, dict) else None
        if enterprise is None:
            raise PermissionDenied("企业授权已失效，请切换回个人身份", code="authorization_revoked")
        try:
            role, scopes, _ = await self.role_of(principal.subject, enterprise)
        except PermissionDenied as e:
            code = "authorization_expired" if e.code == "authorization_expired" else "authorization_revoked"
            raise PermissionDenied("您对该企业的授权已被撤销或已过期，请切换回个人身份", code=code) from None
        return Principal(principal.subject, principal.channel, principal.level, principal.jti, principal.exp,
                         principal.claims, Acting(enterprise["_id"], role, scopes))

    async def current(self, principal: Principal) -> ActingOut:
        if principal.acting is None:
            raise PermissionDenied("当前不是企业身份", code="not_acting_for_enterprise")
        e = await self._enterprise(principal.acting.enterprise_id)
        return ActingOut(enterprise_id=e["_id"], enterprise_name=e["name"], role=principal.acting.role,
                         scopes=sorted(principal.acting.scopes))

    async def activity(self, principal: Principal, enterprise_id: str, limit: int, before: int | None
                       ) -> EnterpriseActivityOut:
        enterprise = await self._enterprise(enterprise_id)
        if enterprise["admin_person_id"] != principal.subject:
            raise PermissionDenied("只有企业管理员（法定代表人）可以查看企业操作日志", code="not_enterprise_admin")
        chain = enterprise_chain(enterprise_id)
        entries = await self.actor_names.label(await self.audit.read(chain, limit=limit, before_seq=before),
                                               principal.subject)
        check = await self.audit.verify(chain)
        return EnterpriseActivityOut(items=[ActivityEntry(**{**e, "at": to_datetime(e["at"])}) for e in entries],
                                     chain_ok=check.ok)
