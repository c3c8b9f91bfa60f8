"""Acting for another person (亲友代办): the token side. The grants themselves (who may act
for whom, in what, until when; guardianship of minors) are the proxies domain's; identity
receives them through the :class:`ProxyGrants` port, passed in by the composition root, and

* ``POST /api/v1/auth/act-as {"person_id": …}`` gives an acting token (claims ``act.person``
  and ``act.grant``) in the proxy's own login family;
* on every request the grant is checked again (a revocation or an expiry takes effect at
  once), and the principal becomes the person acted for, with ``proxy`` naming the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from identity.facade import Directory
from identity.sessions.service import Sessions
from server.audit import Actor, AuditTrail
from server.errors import PermissionDenied
from server.masking import mask_name
from server.principal import Caller, Principal, ProxyActing, person_chain, require_level


@dataclass(frozen=True)
class Grant:
    id: str
    kind: str  # authorised / guardian
    scopes: frozenset[str]


class ProxyGrants(Protocol):
    async def usable(self, proxy_id: str, person_id: str) -> Grant | None:
        """The live grant under which ``proxy_id`` may act for ``person_id`` now, if any."""


class NoProxies:
    """Where no proxies domain is wired (tools, tests of identity alone): nobody acts for anyone."""

    async def usable(self, proxy_id: str, person_id: str) -> Grant | None:
        return None


class PersonActing:
    def __init__(self, sessions: Sessions, directory: Directory, grants: ProxyGrants, audit: AuditTrail):
        self.sessions = sessions
        self.directory = directory
        self.grants = grants
        self.audit = audit

    async def act_as(self, principal: Principal, person_id: str, caller: Caller) -> tuple[str, dict]:
        own = principal.proxy.own if principal.proxy else principal
        require_level(own, 2)
        grant = await self.grants.usable(own.subject, person_id)
        person = await self.directory.person(person_id) if grant else None
        if grant is None or person is None or not person.active:
            raise PermissionDenied("您没有为该用户代办的有效授权", code="not_authorized_for_person")
        token, _ = self.sessions.derive(own, extra={"act": {"person": person_id, "grant": grant.id}})
        await self.audit.record(person_chain(person_id), Actor("proxy", own.subject), "proxy.acting_started",
                                target={"type": "person", "id": own.subject}, channel=caller.channel, ip=caller.ip,
                                details={"grant": grant.id})
        return token, self.view(person.name or "", person_id, grant)

    @staticmethod
    def view(name: str, person_id: str, grant: Grant) -> dict:
        return {"person_id": person_id, "name": mask_name(name), "kind": grant.kind, "scopes": sorted(grant.scopes)}

    async def resolve(self, principal: Principal) -> Principal:
        """Per request: an ``act.person`` claim is honoured only while its grant holds."""
        act = principal.claims.get("act") or {}
        person_id = act.get("person", "") if isinstance(act, dict) else ""
        grant = await self.grants.usable(principal.subject, person_id) if person_id else None
        if grant is None or grant.id != act.get("grant"):
            raise PermissionDenied("代办授权已撤销或已到期，请切换回本人身份", code="authorization_revoked")
        person = await self.directory.person(person_id)
        me = await self.directory.person(principal.subject)
        if person is None or not person.active:
            raise PermissionDenied("代办授权已失效，请切换回本人身份", code="authorization_revoked")
        proxy = ProxyActing(principal.subject, grant.id, grant.kind, grant.scopes,
                            mask_name(me.name) if me and me.name else "亲友", principal)
        return Principal(person_id, principal.channel, person.level, principal.jti, principal.exp, principal.claims,
                         None, principal.iat, proxy)

    async def current(self, principal: Principal) -> dict | None:
        if principal.proxy is None:
            return None
        person = await self.directory.person(principal.subject)
        grant = Grant(principal.proxy.grant_id, principal.proxy.kind, principal.proxy.scopes)
        return self.view(person.name if person and person.name else "", principal.subject, grant)
