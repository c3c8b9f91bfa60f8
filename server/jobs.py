"""Periodic background jobs of worker processes (e.g. certificate expiry reminders).

Every worker may run them: each job is idempotent (a reminder is stored once per
certificate version), so two workers doing the same pass change nothing twice.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger("superapp.jobs")
# Tasks that did not stop in time. Kept referenced: a task dropped while pending is destroyed
# whenever the garbage collector next runs — in another app of the same process (the tests),
# where the driver call it was stuck in fails in a context that is gone.
_abandoned: set[asyncio.Task] = set()


async def stop_task(task: asyncio.Task | None, timeout: float = 3.0) -> None:
    """Cancel a background task and wait for it, but not forever: a driver call that
    does not honour cancellation promptly (e.g. during a server outage) must not hold
    up a shutdown."""
    if task is None or task.done():
        return
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        log.warning("task %s did not stop within %.0fs; leaving it", task.get_name(), timeout)
        _abandoned.add(task)
        task.add_done_callback(_abandoned.discard)
    elif not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with %r", task.get_name(), task.exception())


class PeriodicJob:
    def __init__(self, name: str, every_seconds: float, run: Callable[[], Awaitable[object]]):
        self.name = name
        self.every = every_seconds
        self.run = run
        self._task: asyncio.Task | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name=f"job-{self.name}")

    async def _loop(self) -> None:
        # A driver that turns a cancellation into its own error must not keep the job alive
        # after stop() (it would run on closed clients): the flag ends it either way.
        while not self._stopping:
            try:
                result = await self.run()
                log.debug("job %s: %s", self.name, result)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - try again next time
                if self._stopping:
                    return
                log.exception("job %s failed", self.name)
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        self._stopping = True
        await stop_task(self._task)
        self._task = None
