"""Who is calling: the verified subject of a request, and the checks every domain makes on it.

The platform knows what a principal *is* (a subject, a channel, a real-name level, what it
acts for); which tokens exist and how they are verified is the identity domain's business,
handed to the HTTP layer as an :class:`Authenticator` by the composition root.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from server.errors import PermissionDenied

# Channels: the ``aud`` of an access token.
MINIAPP, H5, PORTAL, KIOSK, STAFF, ISSUER = "miniapp", "h5", "portal", "kiosk", "staff", "issuer"
PERSON_CHANNELS = frozenset({MINIAPP, H5, PORTAL})

LEVEL_NAMES = {0: "L0 未实名", 1: "L1 手机号已验证", 2: "L2 实名认证", 3: "L3 人脸认证"}
SCOPE_NAMES = {"matters": "办事", "certificates": "证照", "code": "企业码", "agents": "授权管理"}
# What a person may let a relative or friend do for them (亲友代办), and what each operation needs.
PROXY_SCOPES = {"matters": "办事", "certificates": "证照（查看与使用）", "appointments": "预约与取号", "tickets": "12345 诉求"}
ANY_PROXY_SCOPE = "*"  # an operation any proxy may call (reading who they act for, the events stream)


@dataclass(frozen=True)
class Acting:
    """A person acting for an enterprise, as checked against the authorisation now."""

    enterprise_id: str
    role: str  # admin (the legal representative) / agent (经办人)
    scopes: frozenset[str]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the subject of a verified, unrevoked access token. A proxy acting for a
    person (亲友代办) is that person as ``subject``, with ``proxy`` saying who really calls."""

    subject: str
    channel: str
    level: int
    jti: str
    exp: int
    claims: dict[str, Any] = field(default_factory=dict)
    acting: Acting | None = None
    iat: float = 0.0
    proxy: "ProxyActing | None" = None


@dataclass(frozen=True)
class ProxyActing:
    """A person acting for another under a grant, as checked against the grant now."""

    proxy_id: str  # who really calls
    grant_id: str
    kind: str  # authorised (the person agreed) / guardian (a parent for a minor)
    scopes: frozenset[str]
    proxy_name: str  # masked, for timelines and audit trails ("由 王** 代办")
    own: Principal  # the proxy's own principal, to switch back


def require_proxy_scope(principal: Principal, scope: str | None) -> None:
    """A proxy may call only operations that name a scope of their grant; everything else
    (login, real name, proxies, closing the account …) stays the person's own."""
    if principal.proxy is None or scope == ANY_PROXY_SCOPE:
        return
    if scope is None:
        raise PermissionDenied("代办身份不能进行此操作，请切换回本人身份", code="not_allowed_for_proxy")
    if scope not in principal.proxy.scopes:
        raise PermissionDenied(f"对方没有授权您代办“{PROXY_SCOPES.get(scope, scope)}”", code="proxy_scope_missing",
                               extra={"required_scope": scope})


@dataclass(frozen=True)
class Caller:
    """Where a request comes from, for the audit trail."""

    channel: str
    ip: str


class Authenticator(Protocol):
    async def authenticate(self, token: str, channels: Iterable[str], check_revocation: bool = True) -> Principal:
        """The principal of a valid, unrevoked token for one of ``channels`` (acting re-checked)."""


def require_level(principal: Principal, level: int) -> None:
    if principal.level < level:
        raise PermissionDenied(
            f"此操作需要实名认证等级 L{level}（{LEVEL_NAMES[level]}），您当前为 L{principal.level}",
            code="level_too_low", extra={"required_level": level, "current_level": principal.level},
        )


def require_role(principal: Principal, *roles: str) -> None:
    """Staff: one of ``roles`` must be among the token's roles."""
    have = set(principal.claims.get("roles") or [])
    if not have & set(roles):
        raise PermissionDenied("您的岗位无权进行此操作", code="role_missing", extra={"required_roles": list(roles)})


def require_scope(principal: Principal, scope: str) -> Acting:
    """The caller must be acting for an enterprise with ``scope``."""
    if principal.acting is None:
        raise PermissionDenied("请先切换到企业身份后再办理", code="not_acting_for_enterprise")
    if scope not in principal.acting.scopes:
        raise PermissionDenied(f"您没有该企业的“{SCOPE_NAMES.get(scope, scope)}”授权", code="scope_missing",
                               extra={"required_scope": scope})
    return principal.acting


def person_chain(person_id: str) -> str:
    """The audit chain a person reads as 账户动态."""
    return f"person:{person_id}"


def enterprise_chain(enterprise_id: str) -> str:
    return f"enterprise:{enterprise_id}"


def holder_chain(holder_key: str) -> str:
    """``person:<id>`` / ``enterprise:<id>`` are also the names of their audit chains."""
    kind, ident = holder_key.split(":", 1)
    return person_chain(ident) if kind == "person" else enterprise_chain(ident)
