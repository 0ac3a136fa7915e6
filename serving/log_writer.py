"""The log writer: journal records -> parquet day partitions, exactly once by request id.

Layout and column names belong to ``serving.log_reader``. Each flush reads the records
after the checkpoint, writes them as parts named by the journal position they start at
(``part-<segment>-<offset>-<id>.parquet``, through a temp file and a rename, so a reader
never sees half a file), then moves the checkpoint. After a crash between the parts and the
checkpoint, the rows of parts at or after the checkpoint are known by request id and are
not written again.

A row that cannot be written (a value no table type can hold) is quarantined with its
error in the dead-letter file and the writer moves on; only a failing disk (OSError) makes
it retry the same records later.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import uuid
from pathlib import Path

import pandas as pd

from serving.dead_letter import DeadLetter
from serving.journal_files import (
    Checkpoint,
    Frame,
    read_checkpoint,
    read_frames,
    segment_path,
    segments,
    sync_folder,
    write_checkpoint,
)
from serving.log_reader import ERRORS, PREDICTIONS, REQUEST_ID, ROLE, SERVED_AT
from serving.records import ServedBatch, prediction_frame, single_rows

log = logging.getLogger(__name__)

PART = re.compile(r"part-(\d{8})-(\d{12})-[0-9a-f]+\.parquet$")
MAX_FLUSH_ROWS = 50_000  # a long backlog is written in steps of this many rows
MAX_PENDING_FLUSHES = 100  # keep failed Feast writes this many rounds before giving up loudly

Position = tuple[int, int]
Item = tuple[Frame, object]  # a journal frame and its record (ServedBatch or error dict)


class LogWriter:
    """Writes the journal in ``<log_dir>/journal`` into the parquet log tables."""

    def __init__(self, log_dir: Path, feast_sink=None) -> None:
        self.log_dir = Path(log_dir)
        self.journal = self.log_dir / "journal"
        self.feast_sink = feast_sink
        self.dead_letter = DeadLetter(self.log_dir / "dead_letter.jsonl")
        self.checkpoint = read_checkpoint(self.journal)
        self._seen, self._seen_until = persisted_keys(self.log_dir, self.checkpoint.position)
        self._feast_pending: list[ServedBatch] = []
        self._failed_rounds = 0
        _remove_temp_files(self.log_dir)

    def catch_up(self) -> int:
        """Write every complete record in the journal now; returns prediction rows written."""
        written = 0
        while True:
            items, end = self._read(MAX_FLUSH_ROWS)
            if end == self.checkpoint.position:
                return written
            written += self._persist(items)
            quarantined = self.dead_letter.count
            self.checkpoint = Checkpoint(end[0], end[1], quarantined)
            write_checkpoint(self.journal, self.checkpoint)
            if self._seen and self._seen_until < end:
                self._seen.clear()
            self._drop_segments_before(end[0])
            self._write_feast([r for _, r in items if isinstance(r, ServedBatch)])

    def _read(self, max_rows: int) -> tuple[list[Item], Position]:
        """Records after the checkpoint (at most about ``max_rows``) and where they end."""
        listed = segments(self.journal)  # listed first: a newer segment means older are done
        segment, offset = self.checkpoint.position
        items: list[Item] = []
        rows = 0
        end = (segment, offset)
        for number in (n for n in listed if n >= segment):
            end = (number, offset if number == segment else 0)
            for frame in read_frames(self.journal, number, end[1]):
                items.append((frame, self._decode(frame)))
                end = (number, frame.end)
                rows += frame.rows
                if rows >= max_rows:
                    return items, end
        return items, end

    def _decode(self, frame: Frame) -> object:
        try:
            return pickle.loads(frame.payload)
        except Exception as exc:  # a record from another version: keep it, do not block
            self.dead_letter.add("journal", {"position": [frame.segment, frame.offset]}, exc)
            return None

    def _persist(self, items: list[Item]) -> int:
        """Write the records; isolate and quarantine what cannot be written."""
        usable = [(f, r) for f, r in items if r is not None]
        if not usable:
            return 0
        try:
            return self._write(usable)
        except OSError:
            raise  # the disk, not the data: retry these records later
        except Exception as exc:
            log.warning("a log flush failed (%s); writing record by record", exc)
        written = 0
        for item in usable:
            try:
                written += self._write([item])
            except OSError:
                raise
            except Exception:
                written += self._write_rows(item)
        return written

    def _write_rows(self, item: Item) -> int:
        """One record row by row; rows that still fail go to the dead-letter file."""
        frame, record = item
        if not isinstance(record, ServedBatch):
            self.dead_letter.add(ERRORS, record, "error record cannot be written")
            return 0
        written = 0
        for row in single_rows(record):
            try:
                written += self._write([(frame, row)])
            except OSError:
                raise
            except Exception as exc:
                for values in _row_dicts(row):
                    self.dead_letter.add(PREDICTIONS, values, exc)
        return written

    def _write(self, items: list[Item]) -> int:
        """Write records as parts named by their first journal position."""
        start = (items[0][0].segment, items[0][0].offset)
        batches = [r for _, r in items if isinstance(r, ServedBatch)]
        errors = [r for _, r in items if isinstance(r, dict)]
        written = 0
        predictions = prediction_frame(batches)
        if len(predictions):
            written = self._write_table(PREDICTIONS, predictions, start)
        if errors:
            self._write_table(ERRORS, pd.DataFrame(errors), start)
        return written

    def _write_table(self, table: str, frame: pd.DataFrame, start: Position) -> int:
        frame = frame[~_keys(table, frame).isin(self._seen).to_numpy()]
        for day, part in _day_parts(frame):
            _write_part(self.log_dir / table / f"date={day}", part, start)
            # Known at once: if a later part fails, a retry must not write these again.
            self._seen.update(_keys(table, part))
            self._seen_until = max(self._seen_until, start)
        return len(frame)

    def _drop_segments_before(self, segment: int) -> None:
        for number in segments(self.journal):
            if number < segment:
                segment_path(self.journal, number).unlink(missing_ok=True)

    def _write_feast(self, batches: list[ServedBatch]) -> None:
        """Feast's own feature log, best effort (it is a copy; the parquet log is the record)."""
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


def persisted_keys(log_dir: Path, since: Position) -> tuple[set, Position]:
    """Row keys of parts written at or after journal position ``since`` (and the last one)."""
    seen: set = set()
    until = since
    for table in (PREDICTIONS, ERRORS):
        for path in sorted((Path(log_dir) / table).glob("date=*/part-*.parquet")):
            match = PART.match(path.name)
            if not match:
                continue
            position = (int(match.group(1)), int(match.group(2)))
            if position >= since:
                names = [REQUEST_ID, ROLE] if table == PREDICTIONS else [REQUEST_ID]
                seen.update(_keys(table, pd.read_parquet(path, columns=names)))
                until = max(until, position)
    return seen, until


def _keys(table: str, frame: pd.DataFrame) -> pd.Series:
    """What makes a row unique in its table: request id (and role: a shadow shares the id)."""
    ids = frame[REQUEST_ID].astype(str)
    if table == PREDICTIONS:
        return "p:" + ids + ":" + frame[ROLE].astype(str)
    return "e:" + ids


def _day_parts(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    day = frame[SERVED_AT].dt.strftime("%Y-%m-%d")
    return [(str(d), part.reset_index(drop=True)) for d, part in frame.groupby(day, sort=True)]


def _write_part(folder: Path, part: pd.DataFrame, start: Position) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"part-{start[0]:08d}-{start[1]:012d}-{uuid.uuid4().hex[:12]}.parquet"
    tmp = folder / f".{target.name}.tmp"
    try:
        part.to_parquet(tmp, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
        _fsync_file(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)  # readers never see half a file
    sync_folder(folder)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _row_dicts(batch: ServedBatch) -> list[dict]:
    """A one-row batch as plain dicts of its log columns (for the dead-letter file)."""
    rows = []
    for scored in batch.scored:
        columns = batch.model_columns(scored)
        rows += [{k: v[i] for k, v in columns.items()} for i in range(len(scored.rows))]
    return rows


def _remove_temp_files(log_dir: Path) -> None:
    """Temp files of a writer that died mid-write: never renamed, so never read."""
    for table in (PREDICTIONS, ERRORS):
        for path in (log_dir / table).glob("date=*/.part-*.tmp"):
            path.unlink(missing_ok=True)
