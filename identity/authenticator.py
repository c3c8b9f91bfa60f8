"""The platform's :class:`~server.principal.Authenticator`, as identity implements it: a
verified, unrevoked access token, and — when it acts for an enterprise — the
authorisation re-checked now, so a revocation or an expiry takes effect at once."""
from __future__ import annotations

from typing import Iterable

from identity.enterprises.service import EnterpriseService
from identity.sessions.service import Sessions
from server.principal import Principal


class IdentityAuthenticator:
    def __init__(self, sessions: Sessions, enterprises: EnterpriseService):
        self._sessions = sessions
        self._enterprises = enterprises

    async def authenticate(self, token: str, channels: Iterable[str], check_revocation: bool = True) -> Principal:
        principal = await self._sessions.authenticate(token, channels, check_revocation)
        if "act" in principal.claims:
            principal = await self._enterprises.resolve_acting(principal)
        return principal
