"""HTTP handlers of sessions: the public keys that verify access tokens."""
from __future__ import annotations

from identity.sessions.service import Sessions
from server.http.base import BaseHandler
from server.http.routing import operation, route

AUTH = ["身份认证 Identity"]


class JwksHandler(BaseHandler):
    def initialize(self, sessions: Sessions) -> None:
        self.sessions = sessions

    @operation("访问令牌验签公钥（JWKS）", tags=AUTH)
    async def get(self) -> dict:
        self.set_header("Cache-Control", "public, max-age=300")
        return self.sessions.tokens.jwks()


def routes(sessions: Sessions) -> list:
    return [route(r"/\.well-known/jwks\.json", JwksHandler, sessions=sessions)]
