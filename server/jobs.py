"""Periodic background jobs of worker processes (e.g. certificate expiry reminders).

Every worker may run them: each job is idempotent (a reminder is stored once per
certificate version), so two workers doing the same pass change nothing twice.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable

log = logging.getLogger("superapp.jobs")


class PeriodicJob:
    def __init__(self, name: str, every_seconds: float, run: Callable[[], Awaitable[object]]):
        self.name = name
        self.every = every_seconds
        self.run = run
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"job-{self.name}")

    async def _loop(self) -> None:
        while True:
            try:
                result = await self.run()
                log.debug("job %s: %s", self.name, result)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - try again next time
                log.exception("job %s failed", self.name)
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
