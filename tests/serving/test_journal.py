"""The journal and the log writer on real files: group commit, poison rows, crash recovery."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from serving.journal import Journal
from serving.journal_files import (
    Checkpoint,
    read_checkpoint,
    read_frames,
    segments,
    write_checkpoint,
)
from serving.log_reader import read_errors, read_predictions
from serving.log_writer import LogWriter
from serving.lookup import OnlineRows
from serving.prediction_log import PredictionLogger
from serving.records import ScoredRows, ServedBatch

NOW = datetime.now(UTC)


def served(rows: int, epoch: float | None = None, role: str = "champion") -> ServedBatch:
    """A real ServedBatch of ``rows`` rows with one numeric feature."""
    epochs = np.full(rows, NOW.timestamp() if epoch is None else epoch)
    online = OnlineRows(
        values={"distance": [float(i) for i in range(rows)]},
        event_epoch_s={"distance": epochs - 60},
        newest_epoch_s={"distance": epochs - 60},
        found={"distance": np.ones(rows, dtype=bool)},
        feast_status={},
        feast_epoch_s={},
        request_values={},
        logged_refs={"distance": "view__distance"},
        feature_keys={"distance": ("order_id",)},
    )
    batch = ServedBatch(
        served_at=NOW,
        feature_service="svc_v1",
        request_ids=[uuid.uuid4().hex for _ in range(rows)],
        prediction_epoch_s=epochs,
        keys={"order_id": [f"O-{i}" for i in range(rows)]},
        online=online,
        ages={"distance": np.full(rows, 60.0)},
        future={"distance": np.zeros(rows, dtype=bool)},
        categorical=frozenset(),
    )
    batch.scored.append(
        ScoredRows("m", "1", role, np.full(rows, 0.5), np.arange(rows), np.full(rows, 0.25),
                   np.zeros(rows, dtype=bool), {"distance": ["present"] * rows})
    )  # fmt: skip
    return batch


def window():
    """Around both NOW (the rows' served_at) and the real now (error rows are stamped then)."""
    now = datetime.now(UTC)
    return min(NOW, now) - timedelta(hours=1), max(NOW, now) + timedelta(hours=1)


def journal_batches(log_dir, batches, durability="fsync") -> None:
    """Append batches as the server does, through PredictionLogger's record format."""
    logger = PredictionLogger(log_dir, 3600, durability=durability)
    logger.journal.open()
    try:
        logger.log_batches(batches)
    finally:
        logger.journal.close()


def test_group_commit_keeps_every_record_of_concurrent_appends(tmp_path):
    journal = Journal(tmp_path / "journal", "fsync")
    journal.open()
    per_thread, threads = 40, 6

    def append(worker: int) -> None:
        for i in range(per_thread):
            journal.append([(1, 1, NOW.timestamp(), f"{worker}:{i}".encode())])

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert journal.backlog().rows == per_thread * threads
    journal.close()
    payloads = [
        frame.payload.decode()
        for number in segments(tmp_path / "journal")
        for frame in read_frames(tmp_path / "journal", number, 0)
    ]
    assert sorted(payloads) == sorted(f"{w}:{i}" for w in range(threads) for i in range(per_thread))


@pytest.mark.parametrize("chunk", [7, 64, 4 << 20])  # frames across read boundaries too
def test_a_torn_tail_is_not_read_and_a_damaged_frame_is_skipped(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr("serving.journal_files.CHUNK_BYTES", chunk)
    journal = Journal(tmp_path / "journal")
    journal.open()
    for text in ("first", "second" * 20, "third"):
        journal.append([(1, 1, NOW.timestamp(), text.encode())])
    journal.close()
    [number] = segments(tmp_path / "journal")
    path = tmp_path / "journal" / f"seg-{number:08d}.log"
    frames = list(read_frames(tmp_path / "journal", number, 0))
    data = bytearray(path.read_bytes())
    data[frames[1].offset + 40] ^= 0xFF  # damage the middle record's payload
    path.write_bytes(bytes(data) + data[: frames[0].end - 3])  # and a torn copy at the end
    assert [f.payload for f in read_frames(tmp_path / "journal", number, 0)] == [
        b"first",
        b"third",
    ]


def test_a_poison_row_is_quarantined_and_the_writer_moves_on(tmp_path):
    good, poison, later = served(3), served(1, epoch=-1e13), served(2)  # year -314,000
    journal_batches(tmp_path, [good, poison])
    writer = LogWriter(tmp_path)
    assert writer.catch_up() == 3
    journal_batches(tmp_path, [later])  # the writer is not wedged: later rows still go in
    assert writer.catch_up() == 2
    logged = read_predictions(tmp_path, *window())
    assert sorted(logged["request_id"]) == sorted(good.request_ids + later.request_ids)
    [line] = (tmp_path / "dead_letter.jsonl").read_text().splitlines()
    quarantined = json.loads(line)
    assert quarantined["row"]["request_id"] == poison.request_ids[0]
    assert "OutOfBounds" in quarantined["error"] or "out of bounds" in quarantined["error"]
    assert read_checkpoint(tmp_path / "journal").dead_lettered == 1


def test_replay_after_a_crash_between_parts_and_checkpoint_repeats_nothing(tmp_path):
    first, second = served(4), served(3, role="champion")
    shadow = served(4, role="shadow")
    shadow.request_ids = first.request_ids  # a shadow row shares its request's id
    journal_batches(tmp_path, [first, shadow])
    before = read_checkpoint(tmp_path / "journal")
    assert LogWriter(tmp_path).catch_up() == 8
    # The crash: the parts were renamed into place, the checkpoint never moved.
    write_checkpoint(tmp_path / "journal", before)
    journal_batches(tmp_path, [second])
    assert LogWriter(tmp_path).catch_up() == 3  # only the new rows
    assert LogWriter(tmp_path).catch_up() == 0  # and a second restart finds nothing new
    logged = read_predictions(tmp_path, *window())
    assert len(logged) == 11
    assert not logged.duplicated(["request_id", "role"]).any()
    assert set(logged["request_id"]) == set(first.request_ids + second.request_ids)


def test_consumed_segments_are_removed_and_a_new_server_starts_a_new_segment(tmp_path):
    journal_batches(tmp_path, [served(2)])
    journal_batches(tmp_path, [served(2)])
    assert len(segments(tmp_path / "journal")) == 2
    LogWriter(tmp_path).catch_up()
    remaining = segments(tmp_path / "journal")
    assert len(remaining) == 1
    assert read_checkpoint(tmp_path / "journal").segment == remaining[0]


def test_errors_are_logged_with_their_request_id(tmp_path):
    logger = PredictionLogger(tmp_path, 3600)
    logger.journal.open()
    logger.log_error("validation", "body.order_id: Field required", 1.5, "req-1")
    logger.journal.close()
    LogWriter(tmp_path).catch_up()
    errors = read_errors(tmp_path, *window())
    assert errors[["kind", "request_id"]].values.tolist() == [["validation", "req-1"]]


@pytest.mark.parametrize("durability", ["fsync", "page_cache", "buffered"])
def test_every_durability_mode_ends_in_the_tables(tmp_path, durability):
    batch = served(2)
    journal_batches(tmp_path, [batch], durability=durability)
    LogWriter(tmp_path).catch_up()
    assert sorted(read_predictions(tmp_path, *window())["request_id"]) == sorted(batch.request_ids)


def test_a_second_server_on_the_same_log_folder_is_refused(tmp_path):
    from ontime.errors import OntimeError

    first = Journal(tmp_path / "journal")
    first.open()
    try:
        with pytest.raises(OntimeError, match="another ontime serve"):
            Journal(tmp_path / "journal").open()
    finally:
        first.close()


def test_writer_ignores_an_unreadable_checkpoint_but_repeats_nothing(tmp_path):
    batch = served(3)
    journal_batches(tmp_path, [batch])
    LogWriter(tmp_path).catch_up()
    (tmp_path / "journal" / "checkpoint.json").write_text("{not json")
    assert LogWriter(tmp_path).catch_up() == 0
    logged = read_predictions(tmp_path, *window())
    assert sorted(logged["request_id"]) == sorted(batch.request_ids)
    assert isinstance(read_checkpoint(tmp_path / "journal"), Checkpoint)
    assert pd.Series(logged["request_id"]).is_unique


def test_persisted_records_are_forgotten_without_readiness_probes(tmp_path):
    """The server's list of unwritten journal records must not grow for as long as nobody
    asks /readyz: the writer's supervisor trims it as the checkpoint moves."""
    logger = PredictionLogger(tmp_path, 0.2)
    logger.start()
    try:
        logger.log_batches([served(2) for _ in range(5)])
        logger.flush()
        deadline = time.monotonic() + 60
        while logger.journal._unwritten:
            assert time.monotonic() < deadline, f"{len(logger.journal._unwritten)} remembered"
            time.sleep(0.1)
    finally:
        logger.close()
