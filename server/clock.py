"""Time for records. Stored timestamps are integers: milliseconds since the epoch (UTC).

Why not BSON dates: the embedded nx-27017 server turns a datetime written through an
update operator (``$set``, ``$max``) into a string, while real MongoDB keeps a date;
integers behave the same on both, compare correctly and keep millisecond precision.
Convert with :func:`to_datetime` at the edge (API models).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_datetime(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def from_datetime(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


DAY_MS = 86_400_000
