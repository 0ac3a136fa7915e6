"""Delayed labels for a window: read what had arrived, join it to the served rows, judge.

Only labels that had arrived by ``labels_as_of`` count. The judging itself (metrics per
slice, the degraded and regression verdicts) is ``monitoring.quality``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from monitoring.profile import MonitoringProfile
from monitoring.quality import LABEL, LabelResult, label_quality
from monitoring.reference import Reference
from ontime.errors import OntimeError
from ontime.tables import column_names, read_between
from ontime.timeutil import utc_series, utc_timestamp
from serving.log_reader import PREDICTION_TIME, PROBABILITY, THRESHOLD

if TYPE_CHECKING:
    from monitoring.window import Window
    from ontime.settings import Settings


def read_labels(
    table: Path,
    join_key: str,
    column: str,
    available_at: str,
    as_of: datetime,
    keys: pd.Series | None = None,
    time_column: str | None = None,
) -> pd.DataFrame | None:
    """Labels that had arrived by ``as_of``; None when the label table does not exist.

    ``keys``, when given, are the join-key values the labels will be joined to: only their
    labels are read, with only the columns the join uses (``time_column`` too, when the
    table has it). The join's result is the same as with the whole table.
    """
    if not Path(table).exists():
        return None
    names = column_names(table)
    absent = [c for c in (join_key, column, available_at) if c not in names]
    if absent:
        raise OntimeError(f"label table {table} lacks column(s) {absent} named in labels:")
    if keys is None:
        labels = pd.read_parquet(table)
        arrived = utc_series(labels[available_at]) <= utc_timestamp(as_of)
        return labels[arrived.to_numpy()]
    wanted = [join_key, column, available_at, *([time_column] if time_column in names else [])]
    asked = pd.DataFrame({join_key: pd.unique(keys.dropna().to_numpy(dtype=object))})
    # The label history grows with every day served; a window asks for its own keys only.
    return read_between(
        table, available_at, None, utc_timestamp(as_of), wanted, end_inclusive=True, keys=asked
    )


def join_labels(
    served: pd.DataFrame, labels: pd.DataFrame, join_key: str, column: str, time_column: str
) -> pd.DataFrame:
    """Served rows with a ``_label`` column (NaN where no label has arrived).

    Labels join by the key, plus the prediction time when the label table carries one.
    """
    keys = [join_key] + ([time_column] if time_column in labels.columns else [])
    right = labels[[*keys, column]].drop_duplicates(keys, keep="last")
    return served.merge(right.rename(columns={column: LABEL}), on=keys, how="left")


def labels_step(
    settings: Settings,
    served: pd.DataFrame,
    reference: Reference,
    window: Window,
    notes: list[str],
    profile: MonitoringProfile | None = None,
) -> LabelResult:
    """Label quality of the window's served rows; what limits the verdict goes to ``notes``."""
    source = settings.labels
    if source.join_key not in served.columns:
        raise OntimeError(f"labels.join_key '{source.join_key}' is not a served-log column")
    table = read_labels(
        source.table,
        source.join_key,
        source.column,
        source.available_at,
        window.labels_as_of,
        keys=served[source.join_key],
        time_column=PREDICTION_TIME,
    )
    if table is None:
        notes.append(f"label table {source.table} does not exist yet: no quality verdict")
        table = pd.DataFrame(columns=[source.join_key, source.column, source.available_at])
    # Only what the label metrics read: a 1M-row window is not copied whole.
    segments = settings.training.segments
    needed = [source.join_key, PREDICTION_TIME, PROBABILITY, THRESHOLD, *segments]
    served = served[list(dict.fromkeys(c for c in needed if c in served.columns))]
    joined = join_labels(served, table, source.join_key, source.column, PREDICTION_TIME)
    result = label_quality(
        joined,
        segments,
        reference,
        settings.training.costs,
        settings.training.risk_buckets,
        settings.monitoring,
        window.end,
        profile,
    )
    if result.note:
        notes.append(result.note)
    return result


def label_section(labels: LabelResult | None) -> dict:
    """The ``labels`` part of the summary; a window without traffic has none."""
    if labels is None:
        return {"coverage": 0.0, "note": "no traffic", "aggregate": {}, "slices": {}}
    return {
        "coverage": labels.coverage,
        "sufficient": labels.sufficient,
        "note": labels.note,
        "aggregate": labels.aggregate,
        "slices": labels.slices,
        "calibration": labels.calibration,
        "intervals": labels.intervals,
    }
