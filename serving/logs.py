"""The served-prediction and error logs: buffered writes, day partitions, and readers.

Layout (the contract with monitoring):
``<log_dir>/predictions/date=YYYY-MM-DD/part-<uuid>.parquet`` and the same under ``errors/``.
Requests only append to an in-memory buffer; a background thread writes it every
``flush_seconds`` and on ``close``, so nothing acknowledged is lost on a clean shutdown.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
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
    """Buffers served batches and errors; writes parquet (and Feast's log) off the request path."""

    def __init__(
        self,
        log_dir: Path,
        flush_seconds: float,
        sample_rate: float = 1.0,
        feast_sink=None,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.flush_seconds = flush_seconds
        self.sample_rate = sample_rate
        self.feast_sink = feast_sink
        self._batches: list[ServedBatch] = []
        self._errors: list[dict] = []
        self._feast_pending: list[ServedBatch] = []
        self._failed_rounds = 0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sampled(self) -> bool:
        """Whether this request is logged (errors always are)."""
        return self.sample_rate >= 1.0 or random.random() < self.sample_rate

    def log_batch(self, batch: ServedBatch) -> None:
        with self._lock:
            self._batches.append(batch)

    def log_error(self, kind: str, detail: str, latency_ms: float) -> None:
        row = {"served_at": datetime.now(UTC), "kind": kind, "detail": detail}
        row["latency_ms"] = float(latency_ms)
        with self._lock:
            self._errors.append(row)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="log-flusher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def close(self) -> None:
        """Stop the flusher and write everything still buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

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


def read_predictions(log_dir: Path, start: datetime, end: datetime) -> pd.DataFrame:
    """Logged prediction rows with ``start <= served_at < end``."""
    return _read(Path(log_dir), PREDICTIONS, start, end, PREDICTION_COLUMNS)


def read_errors(log_dir: Path, start: datetime, end: datetime) -> pd.DataFrame:
    """Logged error rows with ``start <= served_at < end``."""
    return _read(Path(log_dir), ERRORS, start, end, ERROR_COLUMNS)


def _read(
    log_dir: Path, table: str, start: datetime, end: datetime, columns: list[str]
) -> pd.DataFrame:
    if not log_dir.is_dir():
        raise OntimeError(f"serving log folder not found: {log_dir}")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    start = start.tz_localize(UTC) if start.tzinfo is None else start.tz_convert(UTC)
    end = end.tz_localize(UTC) if end.tzinfo is None else end.tz_convert(UTC)
    first, last = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    files = [
        path
        for folder in sorted((log_dir / table).glob("date=*"))
        if first <= folder.name.removeprefix("date=") <= last
        for path in sorted(folder.glob("part-*.parquet"))
    ]
    frames = [pd.read_parquet(path) for path in files]
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty(columns)
    frame = pd.concat(frames, ignore_index=True)
    for column in ("served_at", "prediction_time"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    keep = (frame["served_at"] >= start) & (frame["served_at"] < end)
    return frame[keep].sort_values("served_at", kind="stable").reset_index(drop=True)


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
