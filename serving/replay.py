"""Replay recorded prediction events against a running scoring service over HTTP.

Each event keeps its own prediction time, so a replay of last week asks last week's
question. Rows go in batches to ``/v1/predict/batch``; the result counts per-row statuses.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError

log = logging.getLogger(__name__)


def load_events(
    table: Path, time_column: str, start: datetime, end: datetime, keys: list[str]
) -> pd.DataFrame:
    """Events with ``start <= time < end`` in time order, with the keys the service wants."""
    if not Path(table).exists():
        raise OntimeError(f"no prediction events at {table}; run `ontime simulate` first")
    events = pd.read_parquet(table)
    absent = [c for c in (*keys, time_column) if c not in events.columns]
    if absent:
        raise OntimeError(f"prediction events lack column(s) {absent}")
    times = pd.to_datetime(events[time_column], utc=True)
    chosen = events[(times >= pd.Timestamp(start)) & (times < pd.Timestamp(end))]
    return chosen.sort_values(time_column, kind="stable").reset_index(drop=True)


def request_rows(events: pd.DataFrame, keys: list[str], time_column: str) -> list[dict]:
    stamps = pd.to_datetime(events[time_column], utc=True)
    rows = events[keys].astype(object).to_dict(orient="records")
    for row, stamp in zip(rows, stamps, strict=True):
        row["prediction_time"] = stamp.isoformat()
    return rows


def batches(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for first in range(0, len(rows), size):
        yield rows[first : first + size]


@contextlib.contextmanager
def connect(base_url: str, timeout_s: float = 60.0) -> Iterator:
    """An HTTP client to a running service, after one readiness check (warns if not ready)."""
    import httpx

    with httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s) as client:
        try:
            ready = client.get("/readyz")
        except httpx.HTTPError as exc:
            raise OntimeError(f"no scoring service at {base_url}: {exc}") from None
        if ready.status_code != 200:
            log.warning("service not ready: %s", ready.text)
        yield client


def send(
    client,
    rows: list[dict],
    batch_size: int = 100,
    progress: Callable[[int], None] | None = None,
) -> Counter:
    """Post ``rows`` in batches on an open client; count row statuses and batch failures."""
    import httpx

    counts: Counter = Counter()
    for chunk in batches(rows, batch_size):
        try:
            response = client.post("/v1/predict/batch", json={"rows": chunk})
        except httpx.HTTPError as exc:
            counts[f"transport_error:{type(exc).__name__}"] += len(chunk)
        else:
            if response.status_code == 200:
                counts.update(str(item["status"]) for item in response.json()["results"])
            else:
                counts[str(response.status_code)] += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return counts


def replay(
    base_url: str,
    rows: list[dict],
    batch_size: int = 100,
    timeout_s: float = 60.0,
    progress: Callable[[int], None] | None = None,
) -> Counter:
    """Send ``rows`` in batches; count row statuses (``200``, ``404``...) and batch failures."""
    with connect(base_url, timeout_s) as client:
        return send(client, rows, batch_size, progress)
