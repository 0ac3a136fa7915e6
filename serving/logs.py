"""The served-prediction and error logs: buffered writes, day partitions, and readers.

Layout (the contract with monitoring):
``<log_dir>/predictions/date=YYYY-MM-DD/part-<uuid>.parquet`` and the same under ``errors/``.
Requests only hand records over; a writer turns them into parquet (and Feast's feature log)
every ``flush_seconds`` and on ``close``, so nothing acknowledged is lost on a clean
shutdown. The service runs the writer in a separate process (``serving.log_process``):
building the tables holds the GIL for ~0.2 ms per row, which in a thread stalls requests.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ontime.errors import OntimeError
from serving.records import ServedBatch, prediction_frame

log = logging.getLogger(__name__)

PREDICTIONS, ERRORS = "predictions", "errors"
PREDICTION_COLUMNS = [
    "request_id", "served_at", "prediction_time", "model_name", "model_version",
    "feature_service", "role", "probability", "decision", "threshold", "latency_ms",
]  # fmt: skip
ERROR_COLUMNS = ["served_at", "kind", "detail", "latency_ms"]
MAX_PENDING_FLUSHES = 100  # keep failed writes this many rounds before giving up loudly


class PredictionLogger:
    """Takes served batches and errors on the request path; a writer persists them.

    With ``separate_process`` the writer runs in its own process from ``start`` to
    ``close`` and writes Feast's log through a sink from ``sink_factory`` (picklable, called
    in that process; None = no Feast log). Otherwise it runs in a thread of this process and
    writes Feast's log through ``feast_sink``.
    """

    def __init__(
        self,
        log_dir: Path,
        flush_seconds: float,
        sample_rate: float = 1.0,
        feast_sink=None,
        sink_factory: Callable[[], object] | None = None,
        separate_process: bool = False,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.flush_seconds = flush_seconds
        self.sample_rate = sample_rate
        self.sink_factory = sink_factory
        self.separate_process = separate_process
        self._local = LogWriter(self.log_dir, feast_sink)  # used when no process runs
        self._process = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sampled(self) -> bool:
        """Whether this request is logged (errors always are)."""
        return self.sample_rate >= 1.0 or random.random() < self.sample_rate

    def log_batch(self, batch: ServedBatch) -> None:
        process = self._process
        if process is not None and process.send_batch(batch):
            return
        self._local.add_batch(batch)

    def log_error(self, kind: str, detail: str, latency_ms: float) -> None:
        row = {"served_at": datetime.now(UTC), "kind": kind, "detail": detail}
        row["latency_ms"] = float(latency_ms)
        process = self._process
        if process is not None and process.send_error(row):
            return
        self._local.add_error(row)

    def start(self) -> None:
        self._stop.clear()
        if self.separate_process:
            from serving.log_process import WriterProcess

            self._process = WriterProcess(self.log_dir, self.flush_seconds, self.sink_factory)
            self._process.start()
            self._local.handover(self._process)  # what was logged before start
        else:
            self._thread = threading.Thread(target=self._run, name="log-flusher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self._local.flush()

    def close(self) -> None:
        """Stop the writer and write everything still buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        process, self._process = self._process, None
        if process is not None:
            process.stop()
        self._local.flush()

    def flush(self) -> int:
        """Write what is buffered now; returns prediction rows written."""
        written = self._process.flush() if self._process is not None else 0
        return written + self._local.flush()


class LogWriter:
    """Buffers records and writes them: parquet partitions, then Feast's logged features."""

    def __init__(self, log_dir: Path, feast_sink=None) -> None:
        self.log_dir = Path(log_dir)
        self.feast_sink = feast_sink
        self._batches: list[ServedBatch] = []
        self._errors: list[dict] = []
        self._feast_pending: list[ServedBatch] = []
        self._failed_rounds = 0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def add_batch(self, batch: ServedBatch) -> None:
        with self._lock:
            self._batches.append(batch)

    def add_error(self, row: dict) -> None:
        with self._lock:
            self._errors.append(row)

    def handover(self, process) -> None:
        """Send what is buffered to a writer process (in order); keep what it refuses."""
        with self._lock:
            batches, self._batches = self._batches, []
            errors, self._errors = self._errors, []
        self._batches = [b for b in batches if not process.send_batch(b)] + self._batches
        self._errors = [e for e in errors if not process.send_error(e)] + self._errors

    def flush(self) -> int:
        """Write what is buffered now; returns prediction rows written."""
        with self._write_lock:
            with self._lock:
                batches, self._batches = self._batches, []
                errors, self._errors = self._errors, []
            written = 0
            try:
                frame = prediction_frame(batches)
                if len(frame):
                    written = _write_parts(self.log_dir / PREDICTIONS, [frame])
                if errors:
                    _write_parts(self.log_dir / ERRORS, [pd.DataFrame(errors)])
            except Exception:
                log.exception("writing the prediction log failed; will retry")
                with self._lock:  # put back in front, order preserved
                    self._batches[:0], self._errors[:0] = batches, errors
                return 0
            self._write_feast(batches)
            return written

    def _write_feast(self, batches: list[ServedBatch]) -> None:
        if self.feast_sink is None:
            return
        pending = self._feast_pending + batches
        if not pending:
            return
        try:
            self.feast_sink.write(pending)
            self._feast_pending, self._failed_rounds = [], 0
        except Exception as exc:
            self._failed_rounds += 1
            log.warning("Feast write_logged_features failed (%s); will retry", exc)
            if self._failed_rounds > MAX_PENDING_FLUSHES:
                log.error("dropping %d batches of Feast feature logs", len(pending))
                pending, self._failed_rounds = [], 0
            self._feast_pending = pending


def _write_parts(table_dir: Path, frames: list[pd.DataFrame]) -> int:
    frame = pd.concat(frames, ignore_index=True)
    day = frame["served_at"].dt.strftime("%Y-%m-%d")
    for date, part in frame.groupby(day, sort=True):
        folder = table_dir / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"part-{uuid.uuid4().hex}.parquet"
        tmp = folder / f".{target.name}.tmp"
        part = part.reset_index(drop=True)
        part.to_parquet(tmp, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
        tmp.replace(target)  # readers never see half a file
    return len(frame)


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
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    start = start.tz_localize(UTC) if start.tzinfo is None else start.tz_convert(UTC)
    end = end.tz_localize(UTC) if end.tzinfo is None else end.tz_convert(UTC)
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
