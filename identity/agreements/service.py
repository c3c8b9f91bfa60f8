"""The 用户协议 and 隐私政策: versioned documents in ``config/agreements/``, shown before the
first SMS is sent. Sending a login code needs the current versions of both (the person read
and agreed to them); a new version asks again at the next login, and the versions a person
agreed to are kept on record (by phone, before the SMS) and in the person's audit trail
(at login)."""
from __future__ import annotations

from pathlib import Path

from identity.agreements.models import KINDS, Agreement
from identity.agreements.storage import AcceptanceStore
from server.clock import now_ms
from server.config import ConfigError
from server.errors import Conflict, FieldError, InvalidInput
from server.principal import Caller


def load_agreements(directory: Path) -> list[Agreement]:
    """Every ``*.md`` file: a front matter (``kind``, ``title``, ``version``, ``effective``)
    between two ``---`` lines, then the text. Both kinds must be there, once each."""
    docs: dict[str, Agreement] = {}
    for path in sorted(directory.glob("*.md")):
        raw = path.read_text(encoding="utf-8")
        parts = raw.split("---\n", 2)
        if len(parts) != 3 or parts[0].strip():
            raise ConfigError(str(path), "an agreement starts with a front matter between two --- lines")
        meta = dict(line.split(":", 1) for line in parts[1].strip().splitlines() if ":" in line)
        meta = {k.strip(): v.strip() for k, v in meta.items()}
        try:
            doc = Agreement(**meta, text=parts[2].strip())
        except ValueError as e:
            raise ConfigError(str(path), f"bad front matter: {e}") from None
        if doc.kind in docs:
            raise ConfigError(str(path), f"a second {doc.kind} agreement")
        docs[doc.kind] = doc
    missing = [k for k in KINDS if k not in docs]
    if missing:
        raise ConfigError(str(directory), f"missing agreement(s): {', '.join(missing)}")
    return [docs[k] for k in KINDS]


class Agreements:
    def __init__(self, store: AcceptanceStore, documents: list[Agreement]):
        self._store = store
        self._documents = documents
        self._versions = {d.kind: d.version for d in documents}

    def documents(self) -> list[Agreement]:
        return self._documents

    def versions(self) -> dict[str, str]:
        return dict(self._versions)

    def check(self, accepted: dict[str, str] | None) -> dict[str, str]:
        """The versions agreed to, if they are the current ones."""
        if not accepted:
            raise InvalidInput("请先阅读并同意《用户协议》和《隐私政策》", code="agreement_required",
                               errors=[FieldError("agreements", "请先阅读并同意《用户协议》和《隐私政策》")])
        if accepted != self._versions:
            raise Conflict("《用户协议》或《隐私政策》已更新，请阅读新版本后再同意", code="agreement_outdated",
                           extra={"current": self._versions})
        return accepted

    async def record(self, phone_key: str, accepted: dict[str, str] | None, caller: Caller) -> None:
        """Before a login code is sent: the current versions, agreed to for this phone."""
        versions = self.check(accepted)
        await self._store.record(phone_key, versions, now_ms(), caller.ip, caller.channel)

    async def agreed(self, phone_key: str) -> dict[str, str]:
        """At login: the current versions this phone agreed to (asked again when they changed
        between the SMS and the login)."""
        if await self._store.find(phone_key, self._versions) is None:
            raise Conflict("《用户协议》或《隐私政策》已更新，请阅读新版本后再同意", code="agreement_outdated",
                           extra={"current": self._versions})
        return self.versions()
