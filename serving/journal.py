"""The server's side of the prediction log: an append-only journal with group commit.

A served prediction is acknowledged only once its record is durable here. Requests hand
their frames to one committer thread, which writes everything waiting as one append and
then fsyncs it (group commit): under load one fsync covers many requests, and a request
waits for exactly its own group. ``durability`` says what a request waits for: ``fsync``
(the group's fsync), ``page_cache`` (the group's write) or ``buffered`` (nothing).

The log writer process turns the journal into the parquet tables and keeps a checkpoint;
the journal counts what it appended beyond that checkpoint (the backlog).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ontime.errors import OntimeError
from serving.journal_files import (
    encode,
    read_checkpoint,
    read_frames,
    segment_path,
    segments,
    sync_folder,
)

log = logging.getLogger(__name__)

WAIT_SECONDS = 10.0  # a request gives up (503) if its group is not durable by then


class JournalUnavailable(Exception):
    """The record could not be made durable; the request must not be acknowledged."""


@dataclass
class _Group:
    """Frames written and synced together, and what became of them."""

    frames: list[bytes] = field(default_factory=list)
    records: list[tuple[int, float]] = field(default_factory=list)  # (rows, served_at)
    written: bool = False
    synced: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Backlog:
    """Rows appended to the journal but not yet in the parquet tables."""

    rows: int
    oldest_age_s: float  # 0 when there is no backlog
    dead_lettered: int


class Journal:
    """Appends framed records to ``folder``; one instance per log folder (a file lock)."""

    def __init__(self, folder: Path, durability: str = "fsync", segment_bytes: int = 64 << 20):
        self.folder = Path(folder)
        self.durability = durability
        self.segment_bytes = segment_bytes
        self._cond = threading.Condition()
        self._group = _Group()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._segment = 0
        self._size = 0
        # (segment, end offset, rows, served_at) of each appended record not yet known to be
        # in the tables, oldest first, and the sum of their rows.
        self._unwritten: deque[tuple[int, int, int, float]] = deque()
        self._unwritten_rows = 0
        self.failures = 0

    def open(self) -> None:
        """Take the folder's lock, count the backlog left by earlier runs, start committing."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.folder / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise OntimeError(
                f"another ontime serve is writing the prediction log in {self.folder.parent}"
            ) from None
        checkpoint = read_checkpoint(self.folder)
        for number in segments(self.folder):
            if number >= checkpoint.segment:
                start = checkpoint.offset if number == checkpoint.segment else 0
                for frame in read_frames(self.folder, number, start):
                    self._remember(number, frame.end, frame.rows, frame.served_at)
        # Always a fresh segment: an earlier run may have left a torn frame at its tail.
        self._start_segment(max([checkpoint.segment, *segments(self.folder)]) + 1)
        self._closing = False
        self._thread = threading.Thread(target=self._commit_loop, name="journal", daemon=True)
        self._thread.start()

    def append(self, frames: list[tuple[int, int, float, bytes]], wait: bool = True) -> None:
        """Append (kind, rows, served_at, payload) records; return once durable enough.

        With ``wait=False`` return at once (for records nobody is told about). Raises
        JournalUnavailable when they could not be written (or synced) in time.
        """
        with self._cond:
            if self._thread is None or self._closing:
                raise JournalUnavailable("the prediction log is not open")
            group = self._group
            for kind, rows, served_at, payload in frames:
                group.frames.append(encode(kind, rows, served_at, payload))
                group.records.append((rows, served_at))
            self._cond.notify_all()
            if self.durability == "buffered" or not wait:
                return
            deadline = time.monotonic() + WAIT_SECONDS
            while not (group.synced if self.durability == "fsync" else group.written):
                if group.error is not None:
                    raise JournalUnavailable(group.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise JournalUnavailable("the prediction log did not sync in time")
                self._cond.wait(left)

    def _commit_loop(self) -> None:
        while True:
            with self._cond:
                while not self._group.frames and not self._closing:
                    self._cond.wait()
                if not self._group.frames:
                    return
                group, self._group = self._group, _Group()
            self._commit(group)

    def _commit(self, group: _Group) -> None:
        data = b"".join(group.frames)
        start = self._size
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(f"short write ({written} of {len(data)} bytes)")
        except OSError as exc:
            self._fail(group, start, exc)
            return
        self._size = start + len(data)
        fsync = self.durability == "fsync"
        if not fsync:  # acknowledged once written: count it now
            self._settle(group, start, written=True)
        try:
            os.fdatasync(self._fd)
        except OSError as exc:
            if fsync:  # nobody was acknowledged yet: take the group back
                self._fail(group, start, exc)
                return
            log.error("prediction log journal fsync failed: %s", exc)
        if fsync:
            self._settle(group, start, written=True)
        with self._cond:
            group.synced = True
            self._cond.notify_all()
        if self._size >= self.segment_bytes:
            self._roll()

    def _settle(self, group: _Group, start: int, written: bool) -> None:
        """Mark a group written and count its records in the backlog."""
        with self._cond:
            group.written = written
            end = start
            for frame, (rows, served_at) in zip(group.frames, group.records, strict=True):
                end += len(frame)
                self._remember(self._segment, end, rows, served_at)
            self._cond.notify_all()

    def _fail(self, group: _Group, start: int, exc: OSError) -> None:
        """Cut the group's bytes off again (a later reader must not find them) and refuse it."""
        self.failures += 1
        log.error("prediction log journal write failed: %s", exc)
        try:
            os.ftruncate(self._fd, start)
            self._size = start
        except OSError:
            self._roll()  # cannot cut: continue in a new segment; a torn tail is skipped
        with self._cond:
            group.error = "the prediction log cannot be written"
            self._cond.notify_all()

    def _remember(self, segment: int, end: int, rows: int, served_at: float) -> None:
        self._unwritten.append((segment, end, rows, served_at))
        self._unwritten_rows += rows

    def _roll(self) -> None:
        os.close(self._fd)
        self._start_segment(self._segment + 1)

    def _start_segment(self, number: int) -> None:
        path = segment_path(self.folder, number)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segment, self._size = number, os.fstat(self._fd).st_size
        sync_folder(self.folder)

    def backlog(self) -> Backlog:
        """What is in the journal but not yet in the tables, per the writer's checkpoint."""
        checkpoint = read_checkpoint(self.folder)
        with self._cond:
            while self._unwritten and self._unwritten[0][:2] <= checkpoint.position:
                self._unwritten_rows -= self._unwritten.popleft()[2]
            oldest = self._unwritten[0][3] if self._unwritten else None
            rows = self._unwritten_rows
        age = max(0.0, time.time() - oldest) if oldest is not None else 0.0
        return Backlog(rows=rows, oldest_age_s=age, dead_lettered=checkpoint.dead_lettered)

    def close(self) -> None:
        """Commit what is pending, then close the segment and release the folder."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._lock_fd = None
