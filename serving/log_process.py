"""The log writer in its own process, so writing logs never holds the serving process's GIL.

Requests put records on a multiprocessing queue (pickled by the queue's feeder thread, a few
microseconds per record); the child buffers them and writes every ``flush_seconds``, on
``flush`` and on ``stop``. The queue keeps order, so a ``stop`` sent after the last answered
request is handled after that request's records: nothing acknowledged is lost on a clean
shutdown. The child runs at a lower CPU priority, ignores SIGINT (Ctrl-C reaches the whole
process group; the parent decides when to stop) and exits by itself if the parent dies.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from serving.log_writer import LogWriter

log = logging.getLogger(__name__)

BATCH, ERROR, FLUSH, STOP = "batch", "error", "flush", "stop"
ANSWER_SECONDS = 120.0  # a flush of a long backlog (plus Feast's first import) takes a while


class WriterProcess:
    """The parent's side: send records, ask for a flush, stop (flushing everything)."""

    def __init__(
        self, log_dir: Path, flush_seconds: float, sink_factory: Callable[[], object]
    ) -> None:
        # spawn, not fork: the server already runs threads (fork would copy held locks).
        context = multiprocessing.get_context("spawn")
        self._inbox = context.Queue()
        self._answers = context.Queue()
        self._process = context.Process(
            target=run_writer,
            args=(self._inbox, self._answers, str(log_dir), flush_seconds, sink_factory),
            name="ontime-log-writer",
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def send_batch(self, batch) -> bool:
        """Queue a served batch; False if the writer is gone (the caller keeps it)."""
        return self._send(BATCH, batch)

    def send_error(self, row: dict) -> bool:
        return self._send(ERROR, row)

    def _send(self, kind: str, payload) -> bool:
        if not self._process.is_alive():
            return False
        self._inbox.put((kind, payload))
        return True

    def flush(self) -> int:
        """Everything sent so far is written when this returns; prediction rows written."""
        return self._ask(FLUSH)

    def stop(self) -> int:
        """Write everything sent so far and end the process."""
        written = self._ask(STOP)
        self._process.join(timeout=30)
        if self._process.is_alive():
            log.error("log writer did not exit; terminating it")
            self._process.terminate()
        self._inbox.close()
        return written

    def _ask(self, kind: str) -> int:
        token = uuid.uuid4().hex
        if not self._send(kind, token):
            log.error("log writer process is gone (exit code %s)", self._process.exitcode)
            return 0
        deadline = time.monotonic() + ANSWER_SECONDS
        while time.monotonic() < deadline:
            try:
                answered, written = self._answers.get(timeout=1.0)
            except queue.Empty:
                if not self._process.is_alive():
                    log.error("log writer died (exit code %s)", self._process.exitcode)
                    return 0
                continue
            if answered == token:
                return written
        log.error("log writer did not answer '%s' within %.0f s", kind, ANSWER_SECONDS)
        return 0


def run_writer(inbox, answers, log_dir: str, flush_seconds: float, sink_factory) -> None:
    """The child's loop: buffer records, write on schedule and when asked."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Background work: on a busy machine the scheduler should prefer the request threads.
    os.nice(10)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parent = os.getppid()
    writer = LogWriter(Path(log_dir), _LazySink(sink_factory))
    due = time.monotonic() + flush_seconds
    while True:
        try:
            kind, payload = inbox.get(timeout=max(0.0, due - time.monotonic()))
        except queue.Empty:
            writer.flush()
            due = time.monotonic() + flush_seconds
            if os.getppid() != parent:  # the server died without stopping us
                return
            continue
        if kind == BATCH:
            writer.add_batch(payload)
        elif kind == ERROR:
            writer.add_error(payload)
        else:
            answers.put((payload, writer.flush()))
            if kind == STOP:
                return


class _LazySink:
    """Opens the Feast sink on first write, and again after a failed open."""

    def __init__(self, factory: Callable[[], object] | None) -> None:
        self.factory = factory
        self.sink = None

    def write(self, batches) -> int:
        if self.factory is None:
            return 0
        if self.sink is None:
            self.sink = self.factory()
        return self.sink.write(batches)
