"""Replay recorded prediction events against a running scoring service over HTTP.

Each event keeps its own prediction time, so a replay of last week asks last week's
question. Rows go in batches to ``/v1/predict/batch``, which judges every row on its own:
a bad event (say, a null entity key) gets its own 422 and never costs the other rows of its
batch. The result counts per-row statuses; failures can be collected row by row. A batch
the service could not take at all (503, or 413 for its size) is retried or split, so no
valid row is dropped on the way.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError
from ontime.tables import column_names, read_between

log = logging.getLogger(__name__)


RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)  # waits before re-sending a batch answered 503


def load_events(
    table: Path,
    time_column: str,
    start: datetime,
    end: datetime,
    keys: list[str],
    passthrough: Sequence[str] = (),
) -> pd.DataFrame:
    """Events with ``start <= time < end`` in time order, with the keys the service wants
    (and the declared passthrough fields, which the log keeps beside each prediction)."""
    if not Path(table).exists():
        raise OntimeError(f"no prediction events at {table}; run `ontime simulate` first")
    wanted = list(dict.fromkeys([*keys, *passthrough, time_column]))
    absent = [c for c in wanted if c not in column_names(table)]
    if absent:
        raise OntimeError(f"prediction events lack column(s) {absent}")
    chosen = read_between(table, time_column, start, end, columns=wanted)
    return chosen.sort_values(time_column, kind="stable").reset_index(drop=True)


def request_rows(
    events: pd.DataFrame, keys: list[str], time_column: str, passthrough: Sequence[str] = ()
) -> list[dict]:
    """Request bodies for events; a null becomes JSON null (the service says which field)."""
    stamps = pd.to_datetime(events[time_column], utc=True, errors="coerce")
    columns = [*keys, *(p for p in passthrough if p not in keys)]
    values = events[columns].astype(object)
    rows = values.where(values.notna(), None).to_dict(orient="records")
    for row, stamp in zip(rows, stamps, strict=True):
        # A missing time is sent as what it is, not as null (which would mean "now").
        row["prediction_time"] = "NaT" if pd.isna(stamp) else stamp.isoformat()
    return rows


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
    failures: list[tuple[int, str, str]] | None = None,
) -> Counter:
    """Post ``rows`` in batches on an open client; count the status of every row.

    ``failures``, when given, collects (row index, status, detail) for each row not answered
    200, so a caller can say which events failed and why.
    """
    counts: Counter = Counter()
    for first in range(0, len(rows), batch_size):
        chunk = rows[first : first + batch_size]
        for offset, (status, detail) in enumerate(_send_batch(client, chunk)):
            counts[status] += 1
            if status != "200" and failures is not None:
                failures.append((first + offset, status, detail))
        if progress is not None:
            progress(len(chunk))
    return counts


def _send_batch(client, rows: list[dict]) -> list[tuple[str, str]]:
    """(status, detail) of every row: a 503 is retried, a 413 (too many rows) is split."""
    import httpx

    for wait in (*RETRY_SECONDS, None):
        try:
            response = client.post("/v1/predict/batch", json={"rows": rows})
        except httpx.HTTPError as exc:
            # Unknown whether it was served: not re-sent, so nothing can be logged twice.
            return [(f"transport_error:{type(exc).__name__}", str(exc))] * len(rows)
        if response.status_code == 200:
            return [
                (str(item["status"]), (item.get("error") or {}).get("detail", ""))
                for item in response.json()["results"]
            ]
        if response.status_code == 413 and len(rows) > 1:
            half = len(rows) // 2
            return _send_batch(client, rows[:half]) + _send_batch(client, rows[half:])
        if response.status_code != 503 or wait is None:
            break
        log.warning("service answered 503; retrying the batch in %.1f s", wait)
        time.sleep(wait)
    detail = _error_detail(response)
    return [(str(response.status_code), detail)] * len(rows)


def _error_detail(response) -> str:
    try:
        return str(response.json()["error"]["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def replay(
    base_url: str,
    rows: list[dict],
    batch_size: int = 100,
    timeout_s: float = 60.0,
    progress: Callable[[int], None] | None = None,
    failures: list[tuple[int, str, str]] | None = None,
) -> Counter:
    """Send ``rows`` in batches; count row statuses (``200``, ``404``...) per row."""
    with connect(base_url, timeout_s) as client:
        return send(client, rows, batch_size, progress, failures)
