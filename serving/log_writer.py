"""The log writer: buffers served records and writes them as parquet day partitions, then as
Feast's logged features.

Layout and column names belong to ``serving.log_reader``. Partitions are written to a temp
file and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import pandas as pd

from serving.log_reader import ERRORS, PREDICTIONS, SERVED_AT
from serving.records import ServedBatch, prediction_frame

log = logging.getLogger(__name__)

MAX_PENDING_FLUSHES = 100  # keep failed writes this many rounds before giving up loudly


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
    day = frame[SERVED_AT].dt.strftime("%Y-%m-%d")
    for date, part in frame.groupby(day, sort=True):
        folder = table_dir / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"part-{uuid.uuid4().hex}.parquet"
        tmp = folder / f".{target.name}.tmp"
        part = part.reset_index(drop=True)
        part.to_parquet(tmp, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
        tmp.replace(target)  # readers never see half a file
    return len(frame)
