"""Stage timings of a monitoring run, recorded in its summary."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Record a stage's wall time in seconds under ``name``."""
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)
