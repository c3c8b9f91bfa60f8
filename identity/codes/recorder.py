"""Moves scans from the Redis streams (one per code shard, written on the hot path) into MongoDB, where they
form the holder's 用码记录 (an append-only access log the holder reads at
``GET /api/v1/codes/history``). Disclosures of data after a scan (consents) are written
to the holder's hash-chained audit trail by the consent service.

Every worker process runs one recorder in the same consumer group, reading the shards in
turn; an entry left pending by a process that died is claimed by another after 30 s (checked
every few seconds). A redelivered scan is recognised by its id and not recorded twice.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket

from identity.codes.service import scan_entry_to_doc
from identity.codes.storage import SHARDS, CodeStore
from server.jobs import stop_task

log = logging.getLogger("superapp.recorder")


class ScanRecorder:
    def __init__(self, store: CodeStore, block_ms: int = 500):
        self.store = store
        self.block_ms = block_ms
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._task: asyncio.Task | None = None
        self._next_claim = 0.0
        self._stopping = False

    async def start(self) -> None:
        await self.store.ensure_recorder_group()
        self._task = asyncio.create_task(self._run(), name="scan-recorder")

    async def _run(self) -> None:
        while not self._stopping:  # as well as the cancellation (see server.jobs.PeriodicJob)
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - keep recording; the entries stay pending
                if "NOGROUP" in str(e):  # Redis came back without its data: start the group again
                    log.warning("scan stream group missing; creating it again")
                    await self._retry(self.store.ensure_recorder_group)
                else:
                    log.exception("scan recorder error")
                await asyncio.sleep(1)

    @staticmethod
    async def _retry(call) -> None:  # noqa: ANN001
        try:
            await call()
        except Exception:  # noqa: BLE001 - tried again at the next error
            log.exception("could not create the scan stream group")

    async def drain_once(self) -> int:
        """One pass over every shard's stream; how many scans were recorded."""
        loop = asyncio.get_running_loop()
        claim = loop.time() >= self._next_claim
        if claim:
            self._next_claim = loop.time() + 5
        n = 0
        for shard in range(SHARDS):
            entries = await self.store.read_scans(shard, self.consumer, 100, max(1, self.block_ms // SHARDS), claim)
            if entries:
                await self.store.record_scans([scan_entry_to_doc(i, f) for i, f in entries])
                await self.store.ack_scans(shard, [i for i, _ in entries])
                n += len(entries)
        return n

    async def stop(self) -> None:
        self._stopping = True
        await stop_task(self._task)
        self._task = None
