"""The prediction log as the request path sees it: durable before acknowledged.

A served batch is pickled and appended to the journal (``serving.journal``); with the
default ``fsync`` durability the request waits for its group's fsync, so a 200 always
names a row that survives a crash. A writer process (``serving.log_process``) turns the
journal into the parquet tables; a supervisor thread restarts it if it dies, and the
new one resumes from its checkpoint. Error rows are journaled too, without waiting.
"""

from __future__ import annotations

import logging
import pickle
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from serving.journal import Backlog, Journal, JournalUnavailable
from serving.journal_files import BATCH, ERROR
from serving.log_process import WriterProcess
from serving.records import ServedBatch

log = logging.getLogger(__name__)

SUPERVISE_SECONDS = 0.5


class LogUnavailable(Exception):
    """The prediction log cannot take the record; the request must not be acknowledged."""


@dataclass(frozen=True)
class LogHealth:
    """What readiness and /metrics say about the log."""

    durability: str
    backlog_rows: int
    oldest_unwritten_s: float
    dead_lettered: int
    writer_up: bool
    writer_restarts: int
    journal_failures: int
    problem: str | None  # why the log makes the service not ready, if it does


class PredictionLogger:
    """Journals served batches and errors; a supervised writer process persists them."""

    def __init__(
        self,
        log_dir: Path,
        flush_seconds: float,
        sample_rate: float = 1.0,
        *,
        durability: str = "fsync",
        segment_bytes: int = 64 << 20,
        max_lag_seconds: float = 120.0,
        feast: tuple[Path, Path | None] | None = None,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.sample_rate = sample_rate
        self.max_lag_seconds = max_lag_seconds
        self.journal = Journal(self.log_dir / "journal", durability, segment_bytes)
        self.writer = WriterProcess(self.log_dir, flush_seconds, feast)
        self.writer_restarts = 0
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    def sampled(self) -> bool:
        """Whether this request is logged (errors always are)."""
        return self.sample_rate >= 1.0 or random.random() < self.sample_rate

    def log_batches(self, batches: list[ServedBatch]) -> None:
        """Journal served batches; returns once durable (raises LogUnavailable if not)."""
        frames = []
        for batch in batches:
            rows = sum(len(s.rows) for s in batch.scored)
            payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            frames.append((BATCH, rows, batch.served_at.timestamp(), payload))
        try:
            self.journal.append(frames)
        except JournalUnavailable as exc:
            raise LogUnavailable(str(exc)) from None

    def log_error(self, kind: str, detail: str, latency_ms: float, request_id: str = "") -> None:
        """Journal an error row; never raises (an error answer is not an acknowledgement)."""
        served = datetime.now(UTC)
        row = {
            "served_at": served,
            "kind": kind,
            "detail": detail,
            "latency_ms": float(latency_ms),
            "request_id": request_id or uuid.uuid4().hex,
        }
        payload = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            # Not waited for: an error answer acknowledges nothing, and this may be called
            # on the event loop (refusals at the edge).
            self.journal.append([(ERROR, 1, served.timestamp(), payload)], wait=False)
        except JournalUnavailable as exc:
            log.warning("error row %s not logged: %s", row["request_id"], exc)

    def start(self) -> None:
        """Open the journal (counting what earlier runs left) and start the writer."""
        self.journal.open()
        self.writer.start()
        self._stop.clear()
        self._supervisor = threading.Thread(target=self._supervise, name="log-writer-watch",
                                            daemon=True)  # fmt: skip
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._stop.wait(SUPERVISE_SECONDS):
            # Also forgets what the writer has persisted: without readiness probes nothing
            # else would, and the journal's list of unwritten records would only grow.
            self.journal.backlog()
            if not self.writer.alive and not self._stop.is_set():
                self.writer_restarts += 1
                log.error("log writer process died; restarting it (restart %d)",
                          self.writer_restarts)  # fmt: skip
                self.writer.start()

    def close(self) -> None:
        """Commit the journal, then let the writer write everything and stop."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        self.journal.close()
        if not self.writer.alive:  # died since the last check: one more to drain the journal
            self.writer.start()
        self.writer.stop()

    def flush(self) -> int:
        """Write everything journaled so far into the tables now; prediction rows written."""
        return self.writer.flush()

    def health(self) -> LogHealth:
        backlog: Backlog = self.journal.backlog()
        problem = None
        if backlog.oldest_age_s > self.max_lag_seconds:
            problem = (
                f"prediction log is {backlog.oldest_age_s:.0f} s behind "
                f"(serving.log_max_lag_seconds is {self.max_lag_seconds:.0f})"
            )
        return LogHealth(
            durability=self.journal.durability,
            backlog_rows=backlog.rows,
            oldest_unwritten_s=backlog.oldest_age_s,
            dead_lettered=backlog.dead_lettered,
            writer_up=self.writer.alive,
            writer_restarts=self.writer_restarts,
            journal_failures=self.journal.failures,
            problem=problem,
        )
