"""One idempotency mechanism for every create a retry could duplicate.

``Idempotency.run(scope, key, body, work)``:

* the first call with a (scope, key) claims it atomically (a MongoDB ``_id``), runs
  ``work`` and stores its answer (a small JSON-able dict) as *the* answer for that key;
* a later call with the same key and the same body (RFC 8785 canonical JSON, SHA-256)
  gets the stored answer, marked as a replay; with a different body it is refused (422);
* a call while the first is still running waits for its answer (up to ``wait_seconds``,
  then 409 "still in progress, retry later");
* if the first call was refused (an ``AppError`` the client caused: nothing was written),
  its claim is released, so a corrected retry runs the work itself;
* if it failed otherwise (a dependency stalled half-way), the claim stays: after
  ``stale_seconds`` without an answer, a retry takes it over and runs the work again with
  the *same reservation* — a random id drawn at the claim (``work(reserved, rerun)``) that
  the work uses for what it creates, so finishing a half-done attempt never creates twice;
* keys are forgotten after 24 hours (a worker job prunes them).

The error vocabulary is the caller's (an ``Idempotency-Key`` header for applications, a
``request_id`` field for issuing authorities), the behaviour is the same everywhere.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import rfc8785

from server.clock import DAY_MS, now_ms
from server.errors import AppError, Conflict, FieldError, Unavailable, Unprocessable
from server.storage.idempotency import IdempotencyStore

KEEP_MS = DAY_MS


@dataclass(frozen=True)
class Vocabulary:
    """How a reused key and a request still in flight are reported to this caller."""

    field: str = "Idempotency-Key"
    reused_code: str = "idempotency_key_reused"
    reused_message: str = "该 Idempotency-Key 已用于另一份不同的申请"
    in_progress_code: str = "idempotency_in_progress"
    in_progress_message: str = "相同 Idempotency-Key 的申请仍在处理中，请稍后重试"


APPLICATION = Vocabulary()


def body_hash(body: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


Work = Callable[[str, bool], Awaitable[dict[str, Any]]]


class Idempotency:
    def __init__(self, store: IdempotencyStore, wait_seconds: float = 5.0, poll_seconds: float = 0.05,
                 stale_seconds: float = 10.0):
        self._store = store
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._stale_ms = int(stale_seconds * 1000)

    async def run(self, scope: str, key: str, body: Any, work: Work,
                  vocabulary: Vocabulary = APPLICATION) -> tuple[dict[str, Any], bool]:
        """(answer, created now?). ``work(reserved, rerun)`` does the creating."""
        full_key = f"{scope}:{key}"
        digest = body_hash(body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        while True:
            claimed, record = await self._store.claim(full_key, digest, now_ms())
            if claimed:
                return await self._run(full_key, record["reserved"], False, work), True
            if record is None:  # released between our insert and our read: try again
                continue
            if record["body_hash"] != digest:
                raise Unprocessable(vocabulary.reused_message, code=vocabulary.reused_code,
                                    errors=[FieldError(vocabulary.field, "已用于另一个不同的请求")])
            while record is not None and record.get("response") is None:
                if record["created_at"] < now_ms() - self._stale_ms:
                    taken = await self._store.take_over(full_key, record["created_at"], now_ms())
                    if taken is not None:  # a half-done attempt: finish it, with its reservation
                        reserved = taken.get("reserved") or record.get("reserved") or full_key[-24:]
                        return await self._run(full_key, reserved, True, work), True
                if loop.time() >= deadline:
                    raise Conflict(vocabulary.in_progress_message, code=vocabulary.in_progress_code)
                await asyncio.sleep(self._poll)
                record = await self._store.get(full_key)
            if record is not None:
                return record["response"], False
            # the first attempt was refused and released the key: this one runs the work

    async def _run(self, full_key: str, reserved: str, rerun: bool, work: Work) -> dict[str, Any]:
        try:
            response = await work(reserved, rerun)
        except AppError as e:
            if not isinstance(e, Unavailable):
                await self._store.release(full_key)  # refused before anything was written
            raise
        await self._store.finish(full_key, response)
        return response

    async def prune(self) -> int:
        """Forget keys older than 24 hours (a retry after that creates anew)."""
        return await self._store.prune(now_ms() - KEEP_MS)
