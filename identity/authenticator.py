"""The platform's :class:`~server.principal.Authenticator`, as identity implements it: a
verified, unrevoked access token, and — when it acts for an enterprise or for another
person — the authorisation re-checked now, so a revocation or an expiry takes effect at once."""
from __future__ import annotations

from typing import Iterable

from identity.enterprises.service import EnterpriseService
from identity.proxying import PersonActing
from identity.sessions.service import Sessions
from server.principal import Principal


class IdentityAuthenticator:
    def __init__(self, sessions: Sessions, enterprises: EnterpriseService, persons: PersonActing):
        self._sessions = sessions
        self._enterprises = enterprises
        self._persons = persons

    async def authenticate(self, token: str, channels: Iterable[str], check_revocation: bool = True) -> Principal:
        principal = await self._sessions.authenticate(token, channels, check_revocation)
        act = principal.claims.get("act")
        if isinstance(act, dict) and "person" in act:
            return await self._persons.resolve(principal)  # 亲友代办: the grant checked now
        if act:
            principal = await self._enterprises.resolve_acting(principal)
        return principal
