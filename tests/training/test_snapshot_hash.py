"""The snapshot content hash: stable under row order, sensitive to any change of content."""

from __future__ import annotations

import pandas as pd

from training.snapshot import content_hash

KEYS = ["order_id", "event_timestamp"]


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["b", "a", "c"],
            "event_timestamp": pd.to_datetime(["2026-01-02", "2026-01-01", "2026-01-03"], utc=True),
            "x": [1.5, None, 3.0],
            "label": pd.Series([1, 0, 1], dtype="int8"),
        }
    )


def test_same_content_in_another_row_or_column_order_hashes_the_same():
    frame = rows()
    shuffled = frame.iloc[[2, 0, 1]][["label", "x", "event_timestamp", "order_id"]]
    assert content_hash(frame, KEYS) == content_hash(shuffled, KEYS)


def test_a_changed_value_changes_the_hash():
    frame, edited = rows(), rows()
    edited.loc[0, "x"] = 1.5000001
    assert content_hash(frame, KEYS) != content_hash(edited, KEYS)


def test_a_changed_dtype_or_column_name_changes_the_hash():
    frame = rows()
    assert content_hash(frame, KEYS) != content_hash(frame.astype({"label": "int64"}), KEYS)
    assert content_hash(frame, KEYS) != content_hash(frame.rename(columns={"x": "y"}), KEYS)


def test_the_hash_survives_a_parquet_round_trip(tmp_path):
    frame = rows()
    frame.to_parquet(tmp_path / "rows.parquet", index=False)
    again = pd.read_parquet(tmp_path / "rows.parquet")
    assert content_hash(frame, KEYS) == content_hash(again, KEYS)
