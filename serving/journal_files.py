"""The journal on disk: segment files of framed records, and the writer's checkpoint.

Layout under ``<log_dir>/journal/``: ``seg-<n>.log`` files appended by the server (a new one
on every start, and when one grows past ``serving.log_segment_bytes``), and
``checkpoint.json``, where the log writer records the journal position up to which every
record is in the parquet tables. Each record is a frame::

    magic "OTJ1" | length u32 | crc32 u32 | kind u8 | rows u32 | served_at f64 | payload

The CRC covers kind, rows, served_at and the payload, so a torn or damaged frame is never
read as a record. The server reads only the header fields (to count its backlog); the
payload is the pickled record, read back only by the writer of the same installation.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = b"OTJ1"
HEADER = struct.Struct("<4sIIBId")
BODY = struct.Struct("<BId")  # the CRC'ed header fields
BATCH, ERROR = 1, 2
CHECKPOINT = "checkpoint.json"
CHUNK_BYTES = 4 << 20  # a segment is read this much at a time
SEGMENT = re.compile(r"seg-(\d{8})\.log$")


@dataclass(frozen=True)
class Frame:
    """One record read back from a segment."""

    segment: int
    offset: int  # where the frame starts
    end: int  # where the next frame starts
    kind: int
    rows: int
    served_at: float  # epoch seconds
    payload: bytes


@dataclass(frozen=True)
class Checkpoint:
    """How far the writer got: every record before (segment, offset) is in the tables."""

    segment: int = 0
    offset: int = 0
    dead_lettered: int = 0

    @property
    def position(self) -> tuple[int, int]:
        return self.segment, self.offset


def encode(kind: int, rows: int, served_at: float, payload: bytes) -> bytes:
    """One frame, ready to append."""
    body = BODY.pack(kind, rows, served_at)
    crc = zlib.crc32(payload, zlib.crc32(body))
    return HEADER.pack(MAGIC, len(payload), crc, kind, rows, served_at) + payload


def segment_path(folder: Path, number: int) -> Path:
    return folder / f"seg-{number:08d}.log"


def segments(folder: Path) -> list[int]:
    """Numbers of the segment files in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = (SEGMENT.match(name) for name in os.listdir(folder))
    return sorted(int(m.group(1)) for m in found if m)


def read_frames(folder: Path, segment: int, offset: int) -> Iterator[Frame]:
    """Complete, intact frames of a segment from ``offset`` on, read a chunk at a time.

    Stops at the end of the written data or at a torn frame (the last write of a process
    that died, or one still being written). A damaged frame in the middle is skipped:
    reading resumes at the next intact frame, and the skipped byte range is logged.
    """
    with open(segment_path(folder, segment), "rb") as file:
        file.seek(offset)
        data, position, base = b"", 0, offset  # base: file offset of data[0]
        at_end = False
        while True:
            available = len(data) - position
            if available >= HEADER.size:
                length = HEADER.unpack_from(data, position)[1]
                if available >= HEADER.size + length or at_end:
                    frame = _frame_at(data, position)
                    if frame is not None:
                        kind, rows, served_at, payload, size = frame
                        start = base + position
                        yield Frame(segment, start, start + size, kind, rows, served_at, payload)
                        position += size
                        continue
                    if not at_end:  # damaged here: look at everything that follows
                        data, base, position = data[position:] + file.read(), base + position, 0
                        at_end = True
                        continue
                    following = _next_intact(data, position + 1)
                    if following is None:
                        return  # a torn tail: nothing intact after it
                    log.error("journal segment %d: damaged bytes %d..%d skipped",
                              segment, base + position, base + following)  # fmt: skip
                    position = following
                    continue
                wanted = HEADER.size + length - available
            elif at_end:
                return
            else:
                wanted = HEADER.size - available
            more = file.read(max(CHUNK_BYTES, wanted))
            if not more:
                at_end = True
                continue
            data, base, position = data[position:] + more, base + position, 0


def _frame_at(data: bytes, position: int) -> tuple[int, int, float, bytes, int] | None:
    magic, length, crc, kind, rows, served_at = HEADER.unpack_from(data, position)
    start = position + HEADER.size
    if magic != MAGIC or start + length > len(data):
        return None
    payload = data[start : start + length]
    if zlib.crc32(payload, zlib.crc32(BODY.pack(kind, rows, served_at))) != crc:
        return None
    return kind, rows, served_at, payload, HEADER.size + length


def _next_intact(data: bytes, start: int) -> int | None:
    position = data.find(MAGIC, start)
    while position != -1 and position + HEADER.size <= len(data):
        if _frame_at(data, position) is not None:
            return position
        position = data.find(MAGIC, position + 1)
    return None


def read_checkpoint(folder: Path) -> Checkpoint:
    """The writer's checkpoint; the start of the journal when there is none yet."""
    path = folder / CHECKPOINT
    try:
        raw = json.loads(path.read_text())
        return Checkpoint(int(raw["segment"]), int(raw["offset"]), int(raw["dead_lettered"]))
    except FileNotFoundError:
        return Checkpoint()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # A checkpoint is replaced atomically, so this is damage from outside: start over,
        # and the writer's request-id check keeps rows already written from repeating.
        log.error("journal checkpoint unreadable (%s); replaying the whole journal", exc)
        return Checkpoint()


def write_checkpoint(folder: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint atomically and durably."""
    body = {
        "segment": checkpoint.segment,
        "offset": checkpoint.offset,
        "dead_lettered": checkpoint.dead_lettered,
    }
    write_durably(folder / CHECKPOINT, json.dumps(body).encode())


def write_durably(path: Path, data: bytes) -> None:
    """Write ``path`` through a temp file: readers see the old or the new bytes, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """fsync a directory, so a file created or renamed in it survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
