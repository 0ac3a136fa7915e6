"""The monitoring window: the served-prediction and error logs between two instants.

The log format is the contract between serving and monitoring (one parquet dataset per
table, partitioned by day); serving owns the writer and the reader (``serving.logs``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError

log = logging.getLogger(__name__)

CHAMPION = "champion"


@dataclass(frozen=True)
class Window:
    """``[start, end)`` of serving time; labels count if they arrived by ``labels_as_of``."""

    start: datetime
    end: datetime
    labels_as_of: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime, labels_as_of: datetime | None = None) -> Window:
        start, end = _utc(start), _utc(end)
        if end <= start:
            raise OntimeError(
                f"window end {end.isoformat()} is not after its start {start.isoformat()}"
            )
        as_of = _utc(labels_as_of) if labels_as_of else end
        if as_of < end:
            raise OntimeError("labels_as_of must not be before the window end")
        return cls(start=start, end=end, labels_as_of=as_of)

    @property
    def name(self) -> str:
        """Folder name under reports_dir, e.g. ``20260701T0000Z_20260702T0000Z``."""
        return f"{self.start:%Y%m%dT%H%MZ}_{self.end:%Y%m%dT%H%MZ}"


def _utc(stamp: datetime) -> datetime:
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def read_logs(
    log_dir: Path,
    window: Window,
    time_column: str = "served_at",
    columns: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prediction rows inside the window (by ``time_column``) and the errors served with them.

    ``columns``: the prediction-log columns to read (default all). Low-cardinality strings
    come back as categoricals. By prediction time, every log file may hold rows of the
    window (a replay of last month is served today), so all partitions are scanned with the
    time filter applied in Arrow; errors, which carry only a serving time, are those served
    while the window's predictions were.
    """
    from serving.logs import read_errors, read_predictions

    rows = read_predictions(
        log_dir,
        window.start,
        window.end,
        time_column=time_column,
        columns=columns,
        categorical=True,
    )
    if time_column == "served_at" or rows.empty:
        return rows, read_errors(log_dir, window.start, window.end)
    served = rows["served_at"]
    errors = read_errors(log_dir, served.min(), served.max() + pd.Timedelta(seconds=1))
    return rows, errors


def logged_service(
    log_dir: Path, window: Window, time_column: str, default: str
) -> tuple[str, bool]:
    """The FeatureService the window's champion rows name (else ``default``), and whether
    there are any.

    Read first, on two dictionary-encoded columns, so the full read can ask for exactly the
    columns that service's monitoring uses.
    """
    from serving.logs import read_predictions

    rows = read_predictions(
        log_dir,
        window.start,
        window.end,
        time_column=time_column,
        columns=["role", "feature_service"],
        categorical=True,
    )
    served = champion_rows(rows)
    if "feature_service" not in served.columns or served.empty:
        return default, not served.empty
    names = served["feature_service"].dropna().unique()
    if len(names) > 1:
        raise OntimeError(f"champion rows name several FeatureServices: {sorted(map(str, names))}")
    return (str(names[0]) if len(names) else default), True


def champion_rows(predictions: pd.DataFrame) -> pd.DataFrame:
    """The rows whose answers were returned to callers by the champion."""
    if predictions.empty or "role" not in predictions.columns:
        return predictions.iloc[0:0]
    mine = (predictions["role"] == CHAMPION).to_numpy()
    # Without a release in flight every row is the champion's: no copy of a large window.
    return predictions if mine.all() else predictions[mine].reset_index(drop=True)
