"""The monitoring window: the served-prediction and error logs between two instants.

The log format is the contract between serving and monitoring (one parquet dataset per
table, partitioned by day); serving owns the column names and the reader
(``serving.log_reader``). This module decides which of those rows and columns a window's
checks read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from monitoring.reference import Reference
from monitoring.schema import MonitoredFeature
from ontime.errors import OntimeError
from ontime.repo import ServiceSpec
from ontime.timeutil import as_utc
from serving.log_reader import (
    CHAMPION,
    FEATURE_SERVICE,
    LATENCY_MS,
    MODEL_VERSION,
    PREDICTION_TIME,
    PROBABILITY,
    ROLE,
    SERVED_AT,
    THRESHOLD,
    read_errors,
    read_predictions,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """``[start, end)`` of serving time; labels count if they arrived by ``labels_as_of``."""

    start: datetime
    end: datetime
    labels_as_of: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime, labels_as_of: datetime | None = None) -> Window:
        """A checked window in UTC; ``labels_as_of`` defaults to its end."""
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            raise OntimeError(
                f"window end {end.isoformat()} is not after its start {start.isoformat()}"
            )
        as_of = as_utc(labels_as_of) if labels_as_of else end
        if as_of < end:
            raise OntimeError("labels_as_of must not be before the window end")
        return cls(start=start, end=end, labels_as_of=as_of)

    @property
    def name(self) -> str:
        """Folder name under reports_dir, e.g. ``20260701T0000Z_20260702T0000Z``."""
        return f"{self.start:%Y%m%dT%H%MZ}_{self.end:%Y%m%dT%H%MZ}"


def read_logs(
    log_dir: Path,
    window: Window,
    time_column: str = SERVED_AT,
    columns: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prediction rows inside the window (by ``time_column``) and the errors served with them.

    ``columns``: the prediction-log columns to read (default all). Low-cardinality strings
    come back as categoricals. By prediction time, every log file may hold rows of the
    window (a replay of last month is served today), so all partitions are scanned with the
    time filter applied in Arrow; errors, which carry only a serving time, are those served
    while the window's predictions were.
    """
    rows = read_predictions(
        log_dir,
        window.start,
        window.end,
        time_column=time_column,
        columns=columns,
        categorical=True,
    )
    if time_column == SERVED_AT or rows.empty:
        return rows, read_errors(log_dir, window.start, window.end)
    served = rows[SERVED_AT]
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
    rows = read_predictions(
        log_dir,
        window.start,
        window.end,
        time_column=time_column,
        columns=[ROLE, FEATURE_SERVICE],
        categorical=True,
    )
    served = champion_rows(rows)
    if FEATURE_SERVICE not in served.columns or served.empty:
        return default, not served.empty
    names = served[FEATURE_SERVICE].dropna().unique()
    if len(names) > 1:
        raise OntimeError(f"champion rows name several FeatureServices: {sorted(map(str, names))}")
    return (str(names[0]) if len(names) else default), True


def log_columns(
    spec: ServiceSpec,
    features: Sequence[MonitoredFeature],
    join_key: str,
    segments: Sequence[str],
) -> list[str]:
    """The prediction-log columns monitoring reads: no request ids, no per-row decisions."""
    used = [
        SERVED_AT, PREDICTION_TIME, PROBABILITY, THRESHOLD, LATENCY_MS,
        ROLE, MODEL_VERSION, FEATURE_SERVICE, join_key, *spec.entity_keys, *segments,
    ]  # fmt: skip
    for feature in features:
        used += [feature.name, feature.status, feature.age]
    return list(dict.fromkeys(used))


def champion_rows(predictions: pd.DataFrame) -> pd.DataFrame:
    """The rows whose answers were returned to callers by the champion."""
    if predictions.empty or ROLE not in predictions.columns:
        return predictions.iloc[0:0]
    mine = (predictions[ROLE] == CHAMPION).to_numpy()
    # Without a release in flight every row is the champion's: no copy of a large window.
    return predictions if mine.all() else predictions[mine].reset_index(drop=True)


def rows_of_model(served: pd.DataFrame, reference: Reference, notes: list[str]) -> pd.DataFrame:
    """Rows scored by the reference's model version: scores and labels judge that model only.

    A note records how many champion rows another version scored (a release mid-window).
    """
    if MODEL_VERSION not in served.columns:
        return served
    mine = (served[MODEL_VERSION].astype(str) == str(reference.model_version)).to_numpy()
    if mine.all():
        return served
    others = sorted(served.loc[~mine, MODEL_VERSION].astype(str).unique())
    notes.append(
        f"{int((~mine).sum())} champion rows were scored by other version(s) {others}; "
        f"score drift and label quality use the {int(mine.sum())} rows of "
        f"{reference.describe()}"
    )
    return served[mine].reset_index(drop=True)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Fail with the missing names when ``frame`` (``what``, for the message) lacks columns."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise OntimeError(f"the {what} lacks column(s) {absent}")
