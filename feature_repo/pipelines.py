"""Batch feature pipelines: derived tables Feast reads next to the raw ones.

Run by ``ontime simulate`` after the raw tables are written (and by ``ontime features``
when labels change). I/O happens only inside the function, never at import.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from transforms import carrier_late_rate

log = logging.getLogger(__name__)


def build_batch_features(raw_dir: Path, derived_dir: Path) -> dict[str, Path]:
    """Compute every derived feature table from the raw tables and write it as parquet."""
    shipments = pd.read_parquet(
        raw_dir / "shipments.parquet", columns=["order_id", "created_at", "carrier"]
    )
    deliveries = pd.read_parquet(raw_dir / "deliveries.parquet")
    first = shipments["created_at"].min().floor("D")
    last = max(shipments["created_at"].max(), deliveries["label_available_at"].max()).floor("D")
    days = pd.date_range(first, last + pd.Timedelta(days=1), freq="D")
    table = carrier_late_rate(shipments, deliveries, days)
    for column in ("event_timestamp", "created_at"):
        table[column] = table[column].astype("datetime64[us, UTC]")
    derived_dir.mkdir(parents=True, exist_ok=True)
    path = derived_dir / "carrier_reliability.parquet"
    table.to_parquet(path, index=False)
    log.info("wrote %s rows to %s", len(table), path)
    return {"carrier_reliability": path}
