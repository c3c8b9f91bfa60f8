"""Waits: how long the numbers ahead take, from the hall's service times today (the mean of
the last ``SAMPLE`` finished numbers of the queue, else the configured default), shared out
over the windows that serve the queue."""
from __future__ import annotations

import math
from typing import Any

SAMPLE = 20


def service_minutes(done: list[dict[str, Any]], default: int) -> float:
    times = sorted((d for d in done if d.get("service_seconds")), key=lambda d: d.get("finished_at", 0))[-SAMPLE:]
    if not times:
        return float(default)
    return max(1.0, sum(d["service_seconds"] for d in times) / len(times) / 60)


def wait_minutes(ahead: int, per_number: float, windows: int) -> int:
    return int(math.ceil(ahead * per_number / max(1, windows)))
