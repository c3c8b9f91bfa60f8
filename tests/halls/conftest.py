from __future__ import annotations

from typing import AsyncIterator

import pytest

from tests.halls.support import always_open_catalog
from tests.support import RunningApp, start_app, stop_app


@pytest.fixture(scope="session")
async def hallapp(backends, tmp_path_factory) -> AsyncIterator[RunningApp]:
    """An app whose Tianhe hall is always open (and Yuexiu never), per-IP limits raised."""
    catalog = always_open_catalog(tmp_path_factory.mktemp("halls") / "halls.json", quota_a=4)
    running = await start_app(backends, overrides={
        "sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000, "resend_interval_seconds": 1},
        "halls": {"catalog_file": str(catalog)},
    })
    yield running
    await stop_app(running)
