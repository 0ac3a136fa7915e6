"""Push fresh rows to the online store through Feast PushSources.

Materialization runs on a schedule; events such as scans must be online as they arrive, or
``hours since the last scan`` is wrong between runs. Push sources are discovered in the
registry (or named in settings), each with the raw table behind its batch source; the rows
whose ingestion time falls in a window are pushed, oldest first, so the newest value wins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000


@dataclass(frozen=True)
class PushTarget:
    """A PushSource and the table (and time columns) behind it."""

    name: str
    path: Path
    event_time: str
    ingested_time: str  # the source's created column if it has one, else its event time


def push_targets(store, names: Sequence[str] = ()) -> list[PushTarget]:
    """PushSources of the registry (all, or those named), with their batch tables."""
    from feast.data_source import PushSource

    sources = [s for s in store.list_data_sources() if isinstance(s, PushSource)]
    known = {s.name: s for s in sources}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise OntimeError(f"unknown push source(s) {unknown}; registered: {sorted(known)}")
    chosen = [known[n] for n in names] if names else sources
    targets = []
    for source in chosen:
        batch = source.batch_source
        path = getattr(batch, "path", None)
        if not path:
            raise OntimeError(f"push source '{source.name}' has no file-backed batch source")
        targets.append(
            PushTarget(
                name=source.name,
                path=Path(path),
                event_time=batch.timestamp_field,
                ingested_time=batch.created_timestamp_column or batch.timestamp_field,
            )
        )
    return targets


def rows_in_window(target: PushTarget, start: datetime, end: datetime) -> pd.DataFrame:
    """Rows of the target's table ingested in ``[start, end)``, oldest event first."""
    if not target.path.exists():
        raise OntimeError(f"push source '{target.name}': table {target.path} does not exist")
    frame = pd.read_parquet(target.path)
    ingested = pd.to_datetime(frame[target.ingested_time], utc=True)
    window = frame[(ingested >= pd.Timestamp(start)) & (ingested < pd.Timestamp(end))]
    order = list(dict.fromkeys([target.event_time, target.ingested_time]))
    return window.sort_values(order, kind="stable").reset_index(drop=True)


def push_window(store, start: datetime, end: datetime, names: Sequence[str] = ()) -> dict[str, int]:
    """Push every chosen source's rows ingested in ``[start, end)`` to the online store."""
    from feast.data_source import PushMode

    if end <= start:
        raise OntimeError(f"push window is empty: end {end} is not after start {start}")
    counts: dict[str, int] = {}
    for target in push_targets(store, names):
        rows = rows_in_window(target, start, end)
        for first in range(0, len(rows), CHUNK_ROWS):
            chunk = rows.iloc[first : first + CHUNK_ROWS]
            store.push(target.name, chunk, to=PushMode.ONLINE)
        counts[target.name] = len(rows)
        log.info("pushed %d rows to %s", len(rows), target.name)
    return counts
