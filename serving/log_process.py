"""The log writer in its own process, so writing logs never holds the serving process's GIL.

The server appends records to the journal; this process (``python -m serving.log_process``)
writes them into the parquet tables every ``flush_seconds``, and at once when the server
asks over its stdin (``flush <token>`` / ``stop <token>``, answered ``<token> <rows>`` on
stdout). It is a plain subprocess, not a multiprocessing child, so it holds no shared
semaphores to leak. It takes the journal's writer lock first, so a writer left over from a
killed server finishes before a new one starts. It runs at a lower CPU priority, ignores
SIGINT and SIGTERM (Ctrl-C or a group kill reaches the whole process group; the server
decides when to stop) and, when its stdin closes because the server died, writes what is
left and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

ANSWER_SECONDS = 120.0  # a flush of a long backlog (plus Feast's first import) takes a while


class WriterProcess:
    """The server's side: start the writer, ask for a flush, stop it (flushing everything)."""

    def __init__(
        self, log_dir: Path, flush_seconds: float, feast: tuple[Path, Path | None] | None = None
    ) -> None:
        self.command = [
            sys.executable, "-m", "serving.log_process",
            "--log-dir", str(log_dir), "--flush-seconds", str(flush_seconds),
        ]  # fmt: skip
        if feast is not None:
            self.command += ["--feast-repo", str(feast[0])]
            if feast[1] is not None:
                self.command += ["--feast-yaml", str(feast[1])]
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()  # one question at a time
        self._pending = b""

    def start(self) -> None:
        self._process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )
        self._pending = b""

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def flush(self) -> int:
        """Everything in the journal now is in the tables when this returns; rows written."""
        return self._ask("flush")

    def stop(self) -> int:
        """Write everything in the journal and end the process."""
        written = self._ask("stop")
        process, self._process = self._process, None
        if process is None:
            return written
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.error("log writer did not exit; terminating it")
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):  # the writer is gone; its pipe may be broken
                pipe.close()
        return written

    def _ask(self, command: str) -> int:
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                return 0
            token = uuid.uuid4().hex
            try:
                process.stdin.write(f"{command} {token}\n".encode())
                process.stdin.flush()
            except OSError:
                return 0  # it just died; the supervisor restarts it
            deadline = time.monotonic() + ANSWER_SECONDS
            fd = process.stdout.fileno()
            while time.monotonic() < deadline:
                if not select.select([fd], [], [], 1.0)[0]:
                    if process.poll() is not None:
                        return 0
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    return 0
                self._pending += chunk
                while b"\n" in self._pending:
                    line, self._pending = self._pending.split(b"\n", 1)
                    answered, _, rows = line.decode().partition(" ")
                    if answered == token:
                        return int(rows)
            log.error("log writer did not answer '%s' within %.0f s", command, ANSWER_SECONDS)
            return 0


WRITER_LOCK = "writer.lock"


def wait_for_writer(log_dir: Path, timeout_s: float) -> bool:
    """Wait until no log writer holds ``log_dir``'s journal (every journaled row is then in
    the tables, also when the server was killed and its writer drains on its own); False on
    timeout."""
    path = Path(log_dir) / "journal" / WRITER_LOCK
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.2)
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    """The writer's loop: write on schedule, when asked, and once more when the server goes."""
    parser = argparse.ArgumentParser(prog="serving.log_process")
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--flush-seconds", type=float, required=True)
    parser.add_argument("--feast-repo", type=Path)
    parser.add_argument("--feast-yaml", type=Path)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(10)  # background work: on a busy machine the request threads come first
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from serving.log_writer import LogWriter

    journal = args.log_dir / "journal"
    journal.mkdir(parents=True, exist_ok=True)
    lock = os.open(journal / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)  # waits for a writer that is still draining
    sink = _LazySink(args.feast_repo, args.feast_yaml)
    sink.open()  # at start, so the writer's memory is what it will stay at from its first write
    writer = LogWriter(args.log_dir, sink)
    _serve(writer, args.flush_seconds)


def _serve(writer, flush_seconds: float) -> None:
    buffer = b""
    due = time.monotonic()
    while True:
        ready = select.select([0], [], [], max(0.0, due - time.monotonic()))[0]
        if not ready:
            _catch_up(writer)
            due = time.monotonic() + flush_seconds
            continue
        chunk = os.read(0, 4096)
        if not chunk:  # the server is gone: write what it left, then go too
            _catch_up(writer)
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command, _, token = line.decode().partition(" ")
            rows = _catch_up(writer)
            os.write(1, f"{token} {rows}\n".encode())
            if command == "stop":
                return


def _catch_up(writer) -> int:
    try:
        return writer.catch_up()
    except Exception:
        # The disk, most likely: the records stay in the journal and are retried.
        log.exception("writing the prediction log failed; will retry")
        return 0


class _LazySink:
    """Opens the Feast log sink on first write, and again after a failed open."""

    def __init__(self, repo: Path | None, yaml_file: Path | None) -> None:
        self.repo, self.yaml_file = repo, yaml_file
        self.sink = None

    def open(self) -> None:
        """Open it now if it can be (Feast's import is the writer's largest allocation); a
        failure is logged and the first write tries again."""
        if self.repo is None or self.sink is not None:
            return
        try:
            self._connect()
        except Exception as exc:
            log.warning("Feast's log sink did not open (%s); will retry on write", exc)

    def write(self, batches) -> int:
        if self.repo is None:
            return 0
        if self.sink is None:
            self._connect()
        return self.sink.write(batches)

    def _connect(self) -> None:
        from serving.feast_log import open_feast_sink

        self.sink = open_feast_sink(self.repo, self.yaml_file)


if __name__ == "__main__":
    main(sys.argv[1:])
