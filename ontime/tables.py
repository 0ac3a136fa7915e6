"""Read the part of a parquet table a piece of work needs, not the whole history.

Replaying or judging one window must cost the same whether the table holds a month or a
decade. ``read_between`` asks pyarrow for the rows whose time column falls in a range (the
filter is pushed down, so row groups outside it are skipped) and only the columns named;
given the entity keys a piece of work will ask for, it also keeps only their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds


def _scan(dataset: ds.Dataset, columns, condition) -> pa.Table:
    """A filtered read that keeps one batch in flight and reads column chunks as it decodes
    them, so a big table costs about one row group's worth, not several (8 days of 24M scan
    rows at 20x: 0.30 GB of Arrow memory at the peak -> 0.15 GB)."""
    return dataset.to_table(
        columns=columns,
        filter=condition,
        batch_readahead=1,
        fragment_readahead=1,
        fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
    )


def _bound(moment: datetime, kind: pa.DataType) -> pa.Scalar:
    """``moment`` as a scalar of the column's own timestamp type (zoned or naive UTC)."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if kind.tz is None:
        stamp = stamp.tz_localize(None)
    return pa.scalar(stamp.to_pydatetime(), type=pa.timestamp("us", tz=kind.tz)).cast(kind)


def read_between(
    path: Path,
    column: str,
    start: datetime | None = None,
    end: datetime | None = None,
    columns: Sequence[str] | None = None,
    end_inclusive: bool = False,
    keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rows with ``start <= column < end`` (``<= end`` when ``end_inclusive``).

    Rows whose time is null are left out, as a comparison with a missing time is never
    true. A time column that is not a timestamp (e.g. ISO strings) is filtered after
    reading, with the same result. ``keys``: only rows whose values in ``keys``' columns
    are one of its rows (the combination, not each column on its own).
    """
    names = list(dict.fromkeys(columns)) if columns is not None else None
    if keys is None:
        return _read(path, column, start, end, names, end_inclusive)
    # Each key column is filtered in the scan, so rows of other keys never reach pandas;
    # the exact combinations are kept after it.
    frame = _read(path, column, start, end, _with(names, *keys.columns), end_inclusive, keys)
    frame = frame[_rows_of(frame, keys)].reset_index(drop=True)
    return frame if names is None else frame[names]


def _read(
    path: Path,
    column: str,
    start: datetime | None,
    end: datetime | None,
    names: list[str] | None,
    end_inclusive: bool,
    keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``read_between`` without the exact key test: ``keys`` only narrows the scan."""
    dataset = ds.dataset(str(path), format="parquet")
    field = dataset.schema.field(column)
    condition = pc.scalar(True) if keys is None else _each_in(keys, dataset.schema)
    if not pa.types.is_timestamp(field.type):
        frame = _scan(dataset, _with(names, column), condition).to_pandas()
        times = pd.to_datetime(frame[column], utc=True, errors="coerce")
        keep = times.notna()
        if start is not None:
            keep &= times >= pd.Timestamp(start)
        if end is not None:
            keep &= (times <= pd.Timestamp(end)) if end_inclusive else (times < pd.Timestamp(end))
        frame = frame[keep.to_numpy()].reset_index(drop=True)
        return frame if names is None else frame[names]
    condition &= pc.is_valid(pc.field(column))
    if start is not None:
        condition &= pc.field(column) >= _bound(start, field.type)
    if end is not None:
        upper = _bound(end, field.type)
        condition &= (pc.field(column) <= upper) if end_inclusive else (pc.field(column) < upper)
    return _scan(dataset, names, condition).to_pandas()


def column_names(path: Path) -> list[str]:
    """The table's column names, from its schema alone."""
    return list(ds.dataset(str(path), format="parquet").schema.names)


def _with(names: list[str] | None, *more: str) -> list[str] | None:
    return None if names is None else list(dict.fromkeys([*names, *more]))


def _each_in(keys: pd.DataFrame, schema: pa.Schema) -> pc.Expression:
    """Each key column within its own set of values (a superset of the combinations)."""
    condition = pc.scalar(True)
    for name in keys.columns:
        values = pa.array(pd.unique(keys[name].dropna().to_numpy(dtype=object)))
        condition &= pc.field(name).isin(values.cast(schema.field(name).type))
    return condition


def _rows_of(frame: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Which rows of ``frame`` carry one of ``keys``' combinations."""
    columns = list(keys.columns)
    if len(columns) == 1:
        return frame[columns[0]].isin(keys[columns[0]].dropna()).to_numpy()
    wanted = pd.MultiIndex.from_frame(keys[columns].dropna().drop_duplicates())
    return pd.MultiIndex.from_frame(frame[columns]).isin(wanted)
