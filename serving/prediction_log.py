"""The prediction log as the request path sees it: hand records over, never wait for disk.

Requests only hand records over; a writer (``serving.log_writer``) turns them into parquet
(and Feast's feature log) every ``flush_seconds`` and on ``close``, so nothing acknowledged is
lost on a clean shutdown. The service runs the writer in a separate process
(``serving.log_process``): building the tables holds the GIL for ~0.2 ms per row, which in a
thread stalls requests.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from serving.log_process import WriterProcess
from serving.log_writer import LogWriter
from serving.records import ServedBatch


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
