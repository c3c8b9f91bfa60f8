"""Departments whose result certificates the platform signs on their behalf: the private
key of the department's issuer is "hosted" (dev: the demo issuers; production: PEM files
``<issuer USCC>.pem`` in ``matters.hosted_issuer_keys_dir``). Departments without a
hosted key issue results from their own systems through the issuer API."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from card_wallet.issuer_client import IssuerClient
from server.config import Settings
from server.keys import public_pem_from_private, thumbprint

if TYPE_CHECKING:
    from server.context import AppContext


async def hosted_issuers(ctx: "AppContext", settings: Settings) -> dict[str, IssuerClient]:
    keys: dict[str, str] = {}  # issuer code -> private key PEM
    if ctx.demo is not None:
        keys.update({i.code: i.private_key_pem for i in ctx.demo.issuers})
    if settings.matters.hosted_issuer_keys_dir:
        for path in Path(settings.path(settings.matters.hosted_issuer_keys_dir)).glob("*.pem"):
            keys[path.stem] = path.read_text()
    out: dict[str, IssuerClient] = {}
    for code, pem in keys.items():
        issuer = await ctx.wallet.store.issuer(code)
        if issuer is None or issuer.get("status") != "active":
            continue
        kid = thumbprint(public_pem_from_private(pem))[:16]
        out.setdefault(issuer["department"], IssuerClient(code, kid, pem))
    return out
