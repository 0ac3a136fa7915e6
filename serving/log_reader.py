"""The served-prediction and error logs as monitoring reads them: the schema and the readers.

Layout (the contract with monitoring):
``<log_dir>/predictions/date=YYYY-MM-DD/part-<uuid>.parquet`` and the same under ``errors/``.
This module owns the column names; the writer (``serving.log_writer``) builds rows with them,
and monitoring imports nothing else from serving.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError
from ontime.feature_ages import AGE_SUFFIX
from ontime.timeutil import utc_timestamp

PREDICTIONS, ERRORS = "predictions", "errors"

# Columns of every prediction row; entity keys, segments, passthrough fields and each
# feature's value, status and age sit beside them.
REQUEST_ID = "request_id"
SERVED_AT = "served_at"
PREDICTION_TIME = "prediction_time"
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
FEATURE_SERVICE = "feature_service"
ROLE = "role"
PROBABILITY = "probability"
DECISION = "decision"
THRESHOLD = "threshold"
LATENCY_MS = "latency_ms"
PREDICTION_COLUMNS = [
    REQUEST_ID, SERVED_AT, PREDICTION_TIME, MODEL_NAME, MODEL_VERSION,
    FEATURE_SERVICE, ROLE, PROBABILITY, DECISION, THRESHOLD, LATENCY_MS,
]  # fmt: skip
ERROR_KIND, ERROR_DETAIL = "kind", "detail"
ERROR_COLUMNS = [SERVED_AT, ERROR_KIND, ERROR_DETAIL, LATENCY_MS, REQUEST_ID]

# Roles: who answered the caller (champion or canary), and who only scored in the background.
CHAMPION, CANARY, SHADOW = "champion", "canary", "shadow"

# A feature status serving adds to the contract's: the value was dated after the prediction
# time, so the model never saw it (the rule's missing policy applied instead).
FUTURE = "future"

STATUS_SUFFIX = "__status"


def status_column(feature: str) -> str:
    """The column holding a feature's contract/freshness status per row."""
    return feature + STATUS_SUFFIX


def age_column(feature: str) -> str:
    """The column holding a feature value's age in seconds at the prediction time."""
    return feature + AGE_SUFFIX


def read_predictions(
    log_dir: Path,
    start: datetime,
    end: datetime,
    *,
    time_column: str = "served_at",
    columns: list[str] | None = None,
    categorical: bool = False,
) -> pd.DataFrame:
    """Logged prediction rows with ``start <= time_column < end``, sorted by ``served_at``.

    ``columns`` keeps only those (plus ``served_at`` and ``time_column``); absent ones are
    skipped. With ``categorical``, string columns whose distinct values are at most half the
    rows come back as pandas categoricals: a 1M-row window then costs no Python string per
    cell. Filtering happens in Arrow, before anything becomes a pandas object.
    """
    return _read(
        Path(log_dir), PREDICTIONS, start, end, PREDICTION_COLUMNS, time_column, columns,
        categorical,
    )  # fmt: skip


def read_errors(
    log_dir: Path, start: datetime, end: datetime, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """Logged error rows with ``start <= served_at < end``."""
    return _read(Path(log_dir), ERRORS, start, end, ERROR_COLUMNS, "served_at", columns, False)


def _read(
    log_dir: Path,
    table: str,
    start: datetime,
    end: datetime,
    fixed: list[str],
    time_column: str,
    columns: list[str] | None,
    categorical: bool,
) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if not log_dir.is_dir():
        raise OntimeError(f"serving log folder not found: {log_dir}")
    start, end = utc_timestamp(start), utc_timestamp(end)
    wanted = None if columns is None else {*columns, "served_at", time_column}
    # Partitions are days of serving time; any other clock may have rows in every one.
    first, last = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    files = [
        path
        for folder in sorted((log_dir / table).glob("date=*"))
        if time_column != "served_at" or first <= folder.name.removeprefix("date=") <= last
        for path in sorted(folder.glob("part-*.parquet"))
    ]
    if not files:
        return _empty(fixed if columns is None else list(dict.fromkeys([*columns, *wanted])))
    # Files written by older writers, or with a column null in every row of a flush, differ
    # in schema; permissive unification reads them all as one table.
    schema = pa.unify_schemas([pq.read_schema(p) for p in files], promote_options="permissive")
    if time_column not in schema.names:
        raise OntimeError(f"the {table} log has no column '{time_column}' to select a window by")
    names = [n for n in schema.names if wanted is None or n in wanted]
    strings = [n for n in names if pa.types.is_string(schema.field(n).type)] if categorical else []
    fields = [
        pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if f.name in strings else f
        for f in schema.remove_metadata()
    ]
    read_options = ds.ParquetReadOptions(dictionary_columns=strings)  # no string materialised
    dataset = ds.dataset(
        files, schema=pa.schema(fields), format=ds.ParquetFileFormat(read_options=read_options)
    )
    clock = ds.field(time_column)
    data = dataset.to_table(
        columns=names, filter=(clock >= start.to_pydatetime()) & (clock < end.to_pydatetime())
    ).combine_chunks()
    for name in ("served_at", "prediction_time"):
        if name in data.column_names:
            index = data.column_names.index(name)
            data = data.set_column(index, name, data[name].cast(pa.timestamp("us", tz="UTC")))
    for name in strings:  # a mostly-unique column is cheaper as plain strings
        if data.num_rows and len(data[name].chunk(0).dictionary) > data.num_rows // 2:
            index = data.column_names.index(name)
            data = data.set_column(index, name, data[name].cast(pa.string()))
    served = data["served_at"]
    if data.num_rows > 1 and not pc.all(pc.less_equal(served[:-1], served[1:])).as_py():
        data = data.take(pc.sort_indices(served))  # Arrow's sort is stable
    return data.to_pandas(split_blocks=True, self_destruct=True)


def _empty(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    for column in ("served_at", "prediction_time"):
        if column in frame:
            frame[column] = pd.Series(dtype="datetime64[us, UTC]")
    for column in ("probability", "threshold", "latency_ms"):
        if column in frame:
            frame[column] = pd.Series(dtype="float64")
    if "decision" in frame:
        frame["decision"] = pd.Series(dtype=bool)
    return frame
